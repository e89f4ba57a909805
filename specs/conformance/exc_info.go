package conformance

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/specs/catalog"
	"github.com/wsgispec/wsgispec/specs/rawhttp"
)

// failAfterSend is a response whose iterable yields "partial", then (headers sent) calls
// start_response with exc_info, which must raise; if it returns, the probe yields "never".
var failAfterSend = []string{"h", "Content-Type: text/plain", "iter", "yield:partial,restart-exc,yield:never"}

// afterSendOutcome runs failAfterSend and waits until the probe has recorded what
// start_response did. It returns the exchange (possibly incomplete) and the records.
func afterSendOutcome(k *check) (exchange, []record) {
	k.needProbeDir()
	token := newToken()
	x := k.try(request{path: probePath("/stream", failAfterSend...), token: token, until: untilHas("partial")})
	rs := awaitRecords(token, 3*time.Second, func(rs []record) bool {
		_, done := first(rs, "start_response-raised", "start_response-returned")
		return done
	})
	// The cases are about a call made after the headers were sent. A server that had not sent
	// "partial" by then (it holds back yielded blocks) was right to replace the response instead.
	if x.resp == nil || !bytes.Contains(x.resp.Body, []byte("partial")) {
		got := "nothing"
		if x.resp != nil {
			got = fmt.Sprintf("%q with body %q", x.resp.StatusLine, clip(x.resp.Body))
		}
		k.skipf("precondition not met: the client never received the block \"partial\" the application yielded before calling start_response again (it got %s), so the headers had not been sent and replacing the response was allowed; body.yield-not-delayed judges a server that holds back yielded blocks", got)
	}
	return x, rs
}

var _ = nodes.Describe("exc_info", func() {
	DescribeTable("before anything is sent, start_response(..., exc_info) replaces the response",
		func(ctx SpecContext, id string, params []string, early string) {
			k := newCheck(catalog.MustLookup(id))
			k.expect("\"500 Probe Replaced\" with X-Probe-Replaced: yes, without the first call's X-Probe-First, body \"error body\"")
			token := newToken()
			x := k.try(request{path: probePath("/stream", append([]string{"h", "Content-Type: text/plain", "h", "X-Probe-First: yes"}, params...)...), token: token, until: untilHas("error body")})
			// The replacement is only allowed while nothing is sent. A server that had already
			// sent the first call's headers (before any body: the failure of the case named by
			// early) was right to raise from the second call instead, which the probe records.
			if x.resp != nil && x.resp.Header.Get("X-Probe-First") == "yes" && target.probeDir != "" && target.sideChannel == "" {
				rs := awaitRecords(token, time.Second, func(rs []record) bool {
					_, done := first(rs, "start_response-raised", "start_response-returned")
					return done
				})
				if _, raised := first(rs, "start_response-raised"); raised {
					k.skipf("precondition not met: the server had sent the first call's status line and headers (%q with X-Probe-First) before the application called start_response with exc_info, which then rightly raised (%s), so there was no unsent response to replace; %s judges headers sent before any body", x.resp.StatusLine, eventList(rs), early)
				}
			}
			k.completed(x)
			r := x.resp
			if r.Status != 500 || r.Header.Get("X-Probe-Replaced") != "yes" || r.Header.Has("X-Probe-First") || string(r.Body) != "error body" {
				k.failf("%q, X-Probe-Replaced %q, X-Probe-First %q, body %q", r.StatusLine, r.Header.Get("X-Probe-Replaced"), r.Header.Get("X-Probe-First"), clip(r.Body))
			}
			k.saw("%q with the replacement header and body", r.StatusLine)
		},
		caseEntry("exc_info.replaces-before-send", []string{"app", "restart-exc", "iter", "yield:error body"}, "headers.deferred-until-body"),
		caseEntry("exc_info.replaces-after-empty-chunk", []string{"iter", "yield-empty,restart-exc,yield:error body"}, "headers.empty-chunk-not-body"),
	)

	Describe("after the headers were sent", func() {
		caseSpec("exc_info.raises-after-send", func(k *check) {
			k.expect("start_response(..., exc_info) raises once \"partial\" was sent")
			_, rs := afterSendOutcome(k)
			r, ok := first(rs, "start_response-raised", "start_response-returned")
			switch {
			case !ok:
				k.failf("the probe recorded no outcome of the start_response call within 3 s (%s)", eventList(rs))
			case r.Event == "start_response-returned":
				k.failf("start_response returned normally after the headers had been sent")
			}
			k.saw("start_response raised %s", r.Error)
		})
		caseSpec("exc_info.reraises-original", func(k *check) {
			k.expect("start_response(..., exc_info) raises the very exception passed in exc_info")
			_, rs := afterSendOutcome(k)
			r, ok := first(rs, "start_response-raised")
			switch {
			case !ok:
				k.failf("start_response did not raise (%s)", eventList(rs))
			case !r.Same:
				k.failf("start_response raised %s, not the exc_info exception", r.Error)
			}
			k.saw("start_response re-raised %s", r.Error)
		})
		caseSpec("exc_info.response-aborted", func(k *check) {
			k.expect("the client cannot mistake the response for a complete one: a chunked body without its last chunk (or a Content-Length not met), and no second status line")
			x := k.try(request{path: probePath("/stream", failAfterSend...), token: newToken()})
			// The case is about a response whose headers and first block were sent before the
			// failure. A server that had sent nothing by then (it holds back yielded blocks) was
			// allowed to replace the response, and did nothing this case judges.
			if x.resp == nil || !bytes.HasPrefix(x.resp.Body, []byte("partial")) {
				got := "no response (" + x.problem() + ")"
				if x.resp != nil {
					got = fmt.Sprintf("%q with %s body %q", x.resp.StatusLine, x.resp.Framing, clip(x.resp.Body))
				}
				k.skipf("precondition not met: the client never received the block \"partial\" the application yielded before its error (it got %s), so nothing had been sent and replacing the response was allowed; body.yield-not-delayed judges a server that holds back yielded blocks", got)
			}
			r := x.resp
			switch {
			case bytes.Contains(r.Body, []byte("HTTP/1.")):
				k.failf("a second status line inside the body: %q", clip(r.Body))
			case bytes.Contains(r.Body, []byte("never")):
				k.failf("the body went on after start_response should have raised: %q", clip(r.Body))
			case r.Framing == rawhttp.CloseDelimited:
				k.failf("a close-delimited body %q: a client cannot tell the aborted response from a complete one", clip(r.Body))
			case r.Complete:
				k.failf("a complete %s body %q", r.Framing, clip(r.Body))
			}
			k.saw("%s body cut off after %q (%s)", r.Framing, clip(r.Body), x.problem())
		})
	})

	caseSpec("exc_info.unhandled-exception", func(k *check) {
		// The PEP asks the server to trap the exception, not for a particular answer: a 5xx
		// is the usual one, a closed connection is allowed; what must not happen is that the
		// server stops serving.
		k.expect("the server traps an exception raised by the application before start_response: the client gets a 5xx or the connection closed, and the next request is answered normally")
		x := k.try(request{path: "/exception", token: newToken()})
		if x.resp != nil && refusal(x.resp.Status) {
			k.skipUnlessAppCalled(x, noJudge)
		}
		first := "the connection closed without a response"
		switch {
		case x.resp != nil && x.resp.Status >= 500 && x.resp.Status <= 599:
			first = fmt.Sprintf("%q", x.resp.StatusLine)
		case x.resp != nil:
			k.failf("the server answered %q to an application that raised before start_response, as if the request had succeeded", x.resp.StatusLine)
		case isTimeout(x.err):
			k.failf("the server neither answered nor closed the connection within %s of the application raising: %s", x.waited(), x.problem())
		}
		next := k.try(request{path: "/environ", token: newToken()})
		switch {
		case next.err != nil:
			k.failf("%s, then the next request got %s", first, next.problem())
		case next.resp.Status != 200:
			k.failf("%s, then %q for the next request", first, next.resp.StatusLine)
		}
		k.saw("%s, then 200 for the next request", first)
	})

	caseSpec("exc_info.error-before-body", func(k *check) {
		k.expect("no \"200 Probe Stored\" status and no X-Probe-Stored header (a 5xx instead) when, after start_response and a %d ms pause, the application raises, or its iterable raises before yielding anything", probePauseMs)
		var seen []string
		for _, v := range []struct{ what, step string }{{"the application raised", "app"}, {"the iterable raised", "iter"}} {
			x := k.try(request{path: probePath("/stream", "status", "200 Probe Stored", "h", "Content-Type: text/plain", "h", "X-Probe-Stored: yes", v.step, "sleep:"+probePause+",raise"), token: newToken()})
			switch {
			case x.resp == nil:
				seen = append(seen, fmt.Sprintf("%s: no response (%s)", v.what, x.problem()))
			case (x.resp.Status == 200 || x.resp.Header.Has("X-Probe-Stored")) && x.resp.Start.Sub(x.sent) < earlyMargin:
				// The stored status went out during the pause, before the error: the server
				// sends headers before any body, so it had nothing left to withhold.
				k.skipf("precondition not met: %s, but the server had sent %q only %d ms after the request, during the application's %d ms pause before it raised, so the status was no longer the server's to withhold; headers.deferred-until-body judges headers sent before any body", v.what, x.resp.StatusLine, x.resp.Start.Sub(x.sent).Milliseconds(), probePauseMs)
			case x.resp.Status == 200 || x.resp.Header.Has("X-Probe-Stored"):
				k.failf("%s before any body, yet the client got %q with X-Probe-Stored %q: the stored status and headers were sent", v.what, x.resp.StatusLine, x.resp.Header.Get("X-Probe-Stored"))
			default:
				seen = append(seen, fmt.Sprintf("%s: %q", v.what, x.resp.StatusLine))
			}
		}
		k.saw("%s", strings.Join(seen, "; "))
	})
})
