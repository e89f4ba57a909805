package conformance

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wsgispec/wsgispec/specs/rawhttp"
)

// raisedAnswer is what /start-response reports about a call it tried.
type raisedAnswer struct {
	Raised   bool   `json:"raised"`
	Error    string `json:"error"`
	Callable bool   `json:"callable"`
	Type     string `json:"type"`
}

// rejected tries one invalid start_response call and describes the outcome. raised is true only
// when the probe saw start_response raise (and then answered 200 through exc_info); anything
// else (the call accepted, a broken or missing response) means the server did not raise when
// called.
func (k *check) rejected(try string) (raised bool, outcome string) {
	x := k.try(request{path: probePath("/start-response", "try", try), token: newToken(), timeout: time.Second, until: untilHas("}")})
	if x.err != nil {
		return false, try + ": not raised when called (then " + x.problem() + ")"
	}
	var a raisedAnswer
	if x.resp.Status == 200 && jsonInto(x.resp.Body, &a) && a.Raised {
		return true, try + ": raised " + a.Error
	}
	if refusal(x.resp.Status) {
		k.skipUnlessAppCalled(x, noJudge)
	}
	outcome = fmt.Sprintf("%s: not raised when called (the client got %q", try, x.resp.StatusLine)
	if x.resp.Header.Has("X-Injected") {
		outcome += " with the injected header X-Injected"
	}
	return false, outcome + ")"
}

// judgeAll passes when every try raised, naming those that did not.
func (k *check) judgeAll(tries []string) {
	var all, accepted []string
	for _, t := range tries {
		raised, outcome := k.rejected(t)
		all = append(all, outcome)
		if !raised {
			accepted = append(accepted, outcome)
		}
	}
	if len(accepted) > 0 {
		k.failf("%d of %d not rejected: %s", len(accepted), len(tries), strings.Join(accepted, "; "))
	}
	k.saw("%s", strings.Join(all, "; "))
}

var _ = nodes.Describe("start_response", func() {
	caseSpec("start_response.returns-write", func(k *check) {
		k.expect("callable(start_response(status, headers)) is True")
		x := k.do(request{path: probePath("/start-response", "try", "returns-write"), until: untilHas("}")})
		var a raisedAnswer
		k.probeJSON(x, &a)
		if !a.Callable {
			k.failf("start_response returned a %s, which is not callable", a.Type)
		}
		k.saw("start_response returned a callable %s", a.Type)
	})

	caseSpec("start_response.lazy-call", func(k *check) {
		k.expect("200 with X-Probe-Lazy: yes and the body, when start_response is first called inside the iterable's first next()")
		x := k.do(request{path: probePath("/stream", "lazy", "1", "h", "Content-Type: text/plain", "h", "X-Probe-Lazy: yes", "iter", "yield:lazy body"), until: untilHas("lazy body")})
		if x.resp.Status != 200 || x.resp.Header.Get("X-Probe-Lazy") != "yes" || string(x.resp.Body) != "lazy body" {
			k.failf("%q, X-Probe-Lazy %q, body %q", x.resp.StatusLine, x.resp.Header.Get("X-Probe-Lazy"), clip(x.resp.Body))
		}
		k.saw("200 with the header and body")
	})

	caseSpec("start_response.second-call-raises", func(k *check) {
		k.expect("the second start_response call (without exc_info) raises")
		x := k.do(request{path: probePath("/start-response", "try", "second-call"), until: untilHas("}")})
		if refusal(x.resp.Status) {
			k.skipUnlessAppCalled(x, noJudge)
		}
		var a raisedAnswer
		if !jsonInto(x.resp.Body, &a) {
			k.failf("%q with body %q", x.resp.StatusLine, clip(x.resp.Body))
		}
		if !a.Raised {
			k.failf("the second call returned normally (the client got %q)", x.resp.StatusLine)
		}
		k.saw("raised %s", a.Error)
	})

	caseSpec("start_response.second-call-after-raise", func(k *check) {
		k.expect("after start_response(200, headers) raised (a status that is not a str), start_response(\"200 OK\", headers) without exc_info raises too")
		// The case is about the failed first call counting as a call. A server that lets any
		// second call through fails start_response.second-call-raises, and this one would only
		// repeat it.
		plain := k.do(request{path: probePath("/start-response", "try", "second-call"), until: untilHas("}")})
		var p raisedAnswer
		if jsonInto(plain.resp.Body, &p) && !p.Raised {
			k.skipf("precondition not met: the server lets a second start_response call without exc_info through even after a first call that succeeded (the client got %q), so whether a failed first call counts cannot be told apart; start_response.second-call-raises judges that", plain.resp.StatusLine)
		}
		x := k.do(request{path: probePath("/start-response", "try", "second-call-after-raise"), until: untilHas("}")})
		if refusal(x.resp.Status) {
			k.skipUnlessAppCalled(x, noJudge)
		}
		var a struct {
			FirstRaised bool   `json:"first_raised"`
			FirstError  string `json:"first_error"`
			raisedAnswer
		}
		if !jsonInto(x.resp.Body, &a) {
			k.failf("%q with body %q", x.resp.StatusLine, clip(x.resp.Body))
		}
		if !a.FirstRaised {
			k.skipf("precondition not met: the server accepted start_response(200, headers), a status that is not a str, so there was no failed first call; start_response.checks-status judges that")
		}
		if !a.Raised {
			k.failf("the first call raised %s, but the second, without exc_info, returned normally (the client got %q): the server let the application start its response again", a.FirstError, x.resp.StatusLine)
		}
		k.saw("the first call raised %s; the second raised %s", a.FirstError, a.Error)
	})

	caseSpec("start_response.checks-status", func(k *check) {
		k.expect("start_response raises at once for each invalid status: %s", strings.Join(statusTries, ", "))
		k.judgeAll(statusTries)
	})

	caseSpec("start_response.checks-headers", func(k *check) {
		k.expect("start_response raises at once for each invalid header list: %s", strings.Join(headerTries, ", "))
		k.judgeAll(headerTries)
	})

	caseSpec("start_response.rejects-hop-by-hop", func(k *check) {
		k.expect("start_response raises at once for each hop-by-hop header: %s", strings.Join(hopByHopTries, ", "))
		k.judgeAll(hopByHopTries)
	})

	caseSpec("start_response.adds-date", func(k *check) {
		k.expect("a valid Date header on a response whose application sent only Content-Type")
		x := k.do(request{path: probePath("/stream", "h", "Content-Type: text/plain", "iter", "yield:no date from the app"), until: untilHead})
		date := x.resp.Header.Get("Date")
		if _, err := http.ParseTime(date); err != nil {
			k.failf("Date %q (%v)", date, err)
		}
		k.saw("Date: %s", date)
	})

	caseSpec("start_response.header-names-any-case", func(k *check) {
		k.expect("each of Content-Length: 5, Date, Transfer-Encoding: chunked and Connection: close handled the same (status class, count of that field, body, framing) whether the application spells the name canonically or in lower or mixed case, and a lower-case content-length giving one Content-Length and no Transfer-Encoding")
		const date = "Mon, 01 Jan 2024 00:00:00 GMT"
		fields := []struct{ canonical, odd, value string }{
			{"Content-Length", "content-length", "5"},
			{"Date", "DATE", date},
			{"Transfer-Encoding", "transfer-encoding", "chunked"},
			{"Connection", "cOnNeCtIoN", "close"},
		}
		var seen []string
		for _, f := range fields {
			outcome := func(name string) (string, exchange) {
				x := k.try(request{path: textStream("h", name+": "+f.value, "iter", "yield:hel,yield:lo"), token: newToken(), until: untilHas("hello")})
				if x.resp == nil {
					return "no response", x
				}
				return fmt.Sprintf("%s, %d %s fields, %s body %q", map[bool]string{true: "5xx", false: "not 5xx"}[x.resp.Status >= 500],
					fieldCount(x.resp.Header, f.canonical), f.canonical, x.resp.Framing, clip(x.resp.Body)), x
			}
			want, _ := outcome(f.canonical)
			got, x := outcome(f.odd)
			if got != want {
				k.failf("the application's %q gave %s, but %q gave %s: the server compared header names by case", f.odd+": "+f.value, got, f.canonical+": "+f.value, want)
			}
			if f.canonical == "Content-Length" && x.resp != nil && (fieldCount(x.resp.Header, "Content-Length") != 1 || x.resp.Header.Has("Transfer-Encoding")) {
				k.failf("for \"content-length: 5\" from the application: Content-Length %q, Transfer-Encoding %q", x.resp.Header.Values("Content-Length"), x.resp.Header.Get("Transfer-Encoding"))
			}
			seen = append(seen, fmt.Sprintf("%s and %s: %s", f.canonical, f.odd, got))
		}
		k.saw("%s", strings.Join(seen, "; "))
	})

	caseSpec("start_response.set-cookie-kept-apart", func(k *check) {
		k.expect("two Set-Cookie fields, \"a=1; Path=/\" and \"b=2\", as the application gave them")
		x := k.playDumb("200 OK", "Set-Cookie: a=1; Path=/", "Set-Cookie: b=2")
		if got := x.resp.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1; Path=/" || got[1] != "b=2" {
			k.failf("Set-Cookie fields %q", got)
		}
		k.saw("two Set-Cookie fields")
	})

	caseSpec("start_response.reason-phrase-kept", func(k *check) {
		k.expect("status line \"HTTP/1.1 200 Probe Custom Reason\" for the application's status \"200 Probe Custom Reason\"")
		x := k.playDumb("200 Probe Custom Reason")
		if x.resp.Status != 200 || x.resp.Reason != "Probe Custom Reason" {
			k.failf("status line %q", x.resp.StatusLine)
		}
		k.saw("%q", x.resp.StatusLine)
	})

	caseSpec("start_response.unusual-status-kept", func(k *check) {
		statuses := []string{"299 Probe Unusual", "531 Probe Unusual"}
		k.expect("status lines with %s, as the application gave them", strings.Join(statuses, " and "))
		var seen []string
		for _, s := range statuses {
			x := k.playDumb(s)
			if code, reason, _ := strings.Cut(s, " "); strconv.Itoa(x.resp.Status) != code || x.resp.Reason != reason {
				k.failf("status line %q for the application's %q", x.resp.StatusLine, s)
			}
			seen = append(seen, strconv.Quote(x.resp.StatusLine))
		}
		k.saw("%s", strings.Join(seen, ", "))
	})
})

// fieldCount counts a header's fields, its name matched in any case.
func fieldCount(h rawhttp.Header, name string) int {
	n := 0
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			n++
		}
	}
	return n
}

// playDumb asks /stream for a response with status and the given header lines, yielding "ok".
func (k *check) playDumb(status string, headers ...string) exchange {
	params := []string{"status", status, "h", "Content-Type: text/plain"}
	for _, h := range headers {
		params = append(params, "h", h)
	}
	return k.do(request{path: probePath("/stream", append(params, "iter", "yield:ok")...), until: untilHas("ok")})
}

// The invalid start_response calls the probe knows (pyapps/probe/probe.py BAD_STATUS and
// BAD_HEADERS), and hop-by-hop headers (RFC 2616 section 13.5.1; its "Trailers" is an erratum for
// Trailer, which RFC 9110 no longer counts as hop-by-hop, so it is left out).
var (
	statusTries   = []string{"status:crlf", "status:lf", "status:int", "status:bytes", "status:no-code"}
	headerTries   = []string{"headers:value-crlf", "headers:value-int", "headers:value-bytes", "headers:value-non-latin1", "headers:name-colon", "headers:name-space", "headers:name-bytes", "headers:not-list", "headers:not-pair"}
	hopByHopTries = []string{"header:Connection:close", "header:Keep-Alive:timeout=5", "header:Proxy-Authenticate:Basic", "header:Proxy-Authorization:Basic eA==", "header:TE:trailers", "header:Transfer-Encoding:chunked", "header:Upgrade:websocket"}
)
