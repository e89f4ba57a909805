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

	caseSpec("write.past-content-length", func(k *check) {
		k.expect("Content-Length: 5 and body \"01234\" when the application declares 5 and write()s 10 bytes in two calls, nothing more on the connection, and the second write() raising")
		token := newToken()
		x := k.do(request{path: probePath("/stream", "h", "Content-Type: text/plain", "h", "Content-Length: 5", "app", "write:01234,write:56789"), token: token})
		if refusal(x.resp.Status) {
			k.skipUnlessAppCalled(x, noJudge)
		}
		if x.resp.Header.Get("Content-Length") != "5" || string(x.resp.Body) != "01234" {
			k.failf("%s body %q (Content-Length %q)", x.resp.Framing, clip(x.resp.Body), x.resp.Header.Get("Content-Length"))
		}
		after := k.afterResponse(x)
		if target.probeDir == "" || target.sideChannel != "" {
			k.saw("body \"01234\", %s (no side channel: whether write() raised was not checked)", after)
			return
		}
		rs := awaitRecords(token, closeWait, func(rs []record) bool { _, done := first(rs, finishEvents...); return done })
		if _, raised := first(rs, "write-raised"); !raised {
			k.failf("body \"01234\", but the write() past the Content-Length returned normally (%s)", eventList(rs))
		}
		k.saw("body \"01234\", %s; the second write() raised", after)
	})

	caseSpec("write.empty-iterable", func(k *check) {
		k.expect("body \"hello-world\" whole and well framed, written with write(\"hello-\") and write(\"world\") and an empty list returned")
		// The read ends once the body is in: how a close-delimited body ends is body.chunked-valid's.
		x := k.do(request{path: probePath("/stream", "h", "Content-Type: text/plain", "kind", "list", "app", "write:hello-,write:world"), token: newToken(), until: untilHas("world")})
		if string(x.resp.Body) != "hello-world" {
			k.failf("%s body %q", x.resp.Framing, clip(x.resp.Body))
		}
		k.saw("%s body \"hello-world\"", x.resp.Framing)
	})
})
