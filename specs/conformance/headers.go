package conformance

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// The probe pauses a full second before its first body bytes; headers that arrive within half a
// second of the request were sent before any body existed. The wide margin keeps the verdict
// stable on a loaded two-core machine.
const (
	probePause   = "1"
	earlyMargin  = 500 * time.Millisecond
	probePauseMs = 1000
)

var _ = nodes.Describe("deferred header sending", func() {
	DescribeTable("headers wait for the first non-empty body bytestring",
		func(ctx SpecContext, id, iter, last string) {
			k := newCheck(catalog.MustLookup(id))
			k.expect("status line and headers no earlier than %v after the request (the iterable sleeps %d ms before %s)", earlyMargin, probePauseMs, "its first non-empty bytestring")
			x := k.do(request{path: probePath("/stream", "h", "Content-Type: text/plain", "iter", iter), until: untilHas(last)})
			after := x.resp.Start.Sub(x.sent)
			if after < earlyMargin {
				k.failf("the status line arrived %d ms after the request, before the iterable produced any body", after.Milliseconds())
			}
			k.saw("the status line arrived %d ms after the request", after.Milliseconds())
		},
		caseEntry("headers.deferred-until-body", "sleep:"+probePause+",yield:body after the pause", "pause"),
		caseEntry("headers.empty-chunk-not-body", "yield-empty,sleep:"+probePause+",yield:body after an empty bytestring and the pause", "pause"),
	)

	caseSpec("headers.sent-when-exhausted", func(k *check) {
		k.expect("status 200 with X-Probe-Empty: yes, for an empty list and for an iterable yielding only b\"\"")
		for _, params := range [][]string{{"kind", "list"}, {"iter", "yield-empty"}} {
			x := k.do(request{path: probePath("/stream", append([]string{"h", "Content-Type: text/plain", "h", "X-Probe-Empty: yes"}, params...)...), until: untilHead})
			if x.resp.Status != 200 || x.resp.Header.Get("X-Probe-Empty") != "yes" {
				k.failf("for %s=%s: %q, X-Probe-Empty %q", params[0], params[1], x.resp.StatusLine, x.resp.Header.Get("X-Probe-Empty"))
			}
		}
		k.saw("both answered 200 with the header")
	})
})
