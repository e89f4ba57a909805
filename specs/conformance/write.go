package conformance

import ()

var _ = nodes.Describe("write()", func() {
	caseSpec("write.not-held", func(k *check) {
		k.expect("\"written\" arrives at least %v before \"yielded\" (the application sleeps %d ms between write() and returning)", earlyMargin, probePauseMs)
		x := k.do(request{path: probePath("/stream", "h", "Content-Type: text/plain", "app", "write:written,sleep:"+probePause, "iter", "yield:yielded"), until: untilHas("yielded")})
		written, ok1 := x.resp.BodyArrival([]byte("written"))
		yielded, ok2 := x.resp.BodyArrival([]byte("yielded"))
		if !ok1 || !ok2 {
			k.failf("body %q", clip(x.resp.Body))
		}
		if gap := yielded.Sub(written); gap < earlyMargin {
			k.failf("\"written\" arrived only %d ms before \"yielded\": it was held until the application returned", gap.Milliseconds())
		}
		k.saw("\"written\" arrived %d ms before \"yielded\"", yielded.Sub(written).Milliseconds())
	})

	caseSpec("write.before-iterable", func(k *check) {
		k.expect("body \"A1-B2-C3-D4-\" from write(A1-), write(B2-), then yielding C3- and D4-")
		x := k.do(request{path: probePath("/stream", "h", "Content-Type: text/plain", "app", "write:A1-,write:B2-", "iter", "yield:C3-,yield:D4-"), until: untilHas("D4-")})
		if string(x.resp.Body) != "A1-B2-C3-D4-" {
			k.failf("body %q", clip(x.resp.Body))
		}
		k.saw("body %q", x.resp.Body)
	})
})
