package conformance

import (
	"fmt"
	"net/http"
	"strings"
	"time"
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
		var a raisedAnswer
		if !jsonInto(x.resp.Body, &a) {
			k.failf("%q with body %q", x.resp.StatusLine, clip(x.resp.Body))
		}
		if !a.Raised {
			k.failf("the second call returned normally (the client got %q)", x.resp.StatusLine)
		}
		k.saw("raised %s", a.Error)
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
})

// The invalid start_response calls the probe knows (pyapps/probe/probe.py BAD_STATUS and
// BAD_HEADERS), and hop-by-hop headers (RFC 2616 section 13.5.1; its "Trailers" is an erratum for
// Trailer, which RFC 9110 no longer counts as hop-by-hop, so it is left out).
var (
	statusTries   = []string{"status:crlf", "status:lf", "status:int", "status:bytes", "status:no-code"}
	headerTries   = []string{"headers:value-crlf", "headers:value-int", "headers:value-bytes", "headers:value-non-latin1", "headers:name-colon", "headers:name-space", "headers:name-bytes", "headers:not-list", "headers:not-pair"}
	hopByHopTries = []string{"header:Connection:close", "header:Keep-Alive:timeout=5", "header:Proxy-Authenticate:Basic", "header:Proxy-Authorization:Basic eA==", "header:TE:trailers", "header:Transfer-Encoding:chunked", "header:Upgrade:websocket"}
)
