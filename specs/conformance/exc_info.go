package conformance

import (
	"bytes"
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
	return x, rs
}

var _ = nodes.Describe("exc_info", func() {
	DescribeTable("before anything is sent, start_response(..., exc_info) replaces the response",
		func(ctx SpecContext, id string, params []string) {
			k := newCheck(catalog.MustLookup(id))
			k.expect("\"500 Probe Replaced\" with X-Probe-Replaced: yes, without the first call's X-Probe-First, body \"error body\"")
			x := k.do(request{path: probePath("/stream", append([]string{"h", "Content-Type: text/plain", "h", "X-Probe-First: yes"}, params...)...), token: newToken(), until: untilHas("error body")})
			r := x.resp
			if r.Status != 500 || r.Header.Get("X-Probe-Replaced") != "yes" || r.Header.Has("X-Probe-First") || string(r.Body) != "error body" {
				k.failf("%q, X-Probe-Replaced %q, X-Probe-First %q, body %q", r.StatusLine, r.Header.Get("X-Probe-Replaced"), r.Header.Get("X-Probe-First"), clip(r.Body))
			}
			k.saw("%q with the replacement header and body", r.StatusLine)
		},
		caseEntry("exc_info.replaces-before-send", []string{"app", "restart-exc", "iter", "yield:error body"}),
		caseEntry("exc_info.replaces-after-empty-chunk", []string{"iter", "yield-empty,restart-exc,yield:error body"}),
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
			if x.resp == nil {
				k.failf("%s", x.problem())
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
		k.expect("a 5xx status for an application that raises before start_response, and then a normal answer to the next request")
		x := k.do(request{path: "/exception", token: newToken()})
		if x.resp.Status < 500 || x.resp.Status > 599 {
			k.failf("%q", x.resp.StatusLine)
		}
		next := k.do(request{path: "/environ", token: newToken()})
		if next.resp.Status != 200 {
			k.failf("%q, then %q for the next request", x.resp.StatusLine, next.resp.StatusLine)
		}
		k.saw("%q, then 200 for the next request", x.resp.StatusLine)
	})
})
