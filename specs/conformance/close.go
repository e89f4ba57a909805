package conformance

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// closeWait is how long the server gets to call close() after the client saw the response end.
const closeWait = 3 * time.Second

// The disconnect case streams 64 KiB every 5 ms until the server stops iterating, for at most
// disconnectStream, and gives the server disconnectCloseWait after the client's reset to call
// close(). A server learns of the reset on its next send, which fails at once (ECONNRESET or
// EPIPE) once the socket buffers the reset freed are full again: milliseconds on loopback. The
// margin is for a correct server that is busy: its thread may wait a scheduling round or two
// behind the other servers a run tests side by side on two cores, and a server that writes from
// another thread than the iterating one (a queue) finds out one block later. Five seconds is
// hundreds of such delays, and still well short of the stream running out, which tells a server
// that noticed late from one that never stopped iterating.
const (
	disconnectStream    = 8 * time.Second
	disconnectCloseWait = 5 * time.Second
)

// awaitClose waits for the iterable of the request named by token to be closed.
func awaitClose(token string, within time.Duration) []record {
	return awaitRecords(token, within, func(rs []record) bool { return count(rs, "close") > 0 })
}

var _ = nodes.Describe("close()", func() {
	DescribeTable("the iterable's close() is called",
		func(ctx SpecContext, id, iter, situation string) {
			k := newCheck(catalog.MustLookup(id))
			k.needProbeDir()
			k.expect("close() called within %v when %s", closeWait, situation)
			token := newToken()
			x := k.try(request{path: probePath("/stream", "h", "Content-Type: text/plain", "iter", iter), token: token, until: untilHas("second")})
			rs := awaitClose(token, closeWait)
			if count(rs, "close") == 0 {
				k.skipUnlessAppCalled(x, noJudge)
				k.failf("close() not called (%s)", eventList(rs))
			}
			k.saw("%s", eventList(rs))
		},
		caseEntry("close.on-completion", "yield:first-,yield:second", "the response completed normally"),
		caseEntry("close.on-iteration-error", "yield:second,raise", "next() raised after the first block"),
		caseEntry("close.on-start-response-error", "yield:second,restart-exc,yield:never", "start_response raised inside next()"),
	)

	DescribeTable("the iterable's close() is called when the server ends or skips iteration itself",
		func(ctx SpecContext, id string, r request, situation string) {
			k := newCheck(catalog.MustLookup(id))
			k.needProbeDir()
			k.expect("close() called within %v when %s", closeWait, situation)
			r.token = newToken()
			x := k.try(r)
			began := time.Now()
			rs := awaitClose(r.token, closeWait)
			if count(rs, "close") == 0 {
				k.skipUnlessAppCalled(x, noJudge)
				k.failf("close() not called within %v after the response (%s; the client got %s)", closeWait, eventList(rs), describeExchange(x))
			}
			k.saw("close() called %d ms after the response (%s)", time.Since(began).Milliseconds(), eventList(rs))
		},
		caseEntry("close.on-head", request{method: "HEAD", path: textStream("iter", "yield:head body")}, "the request is HEAD, whose body is not sent"),
		caseEntry("close.on-content-length-cut", request{path: textStream("h", "Content-Length: 5", "iter", "yield:01234,yield:56789,yield:abcde")}, "the application's Content-Length (5) is met by the first block of three"),
		caseEntry("close.on-rejected-headers", request{path: probePath("/stream", "lazy", "1", "h", "Content-Type: text/plain", "h", "Connection: close", "h", "X Probe Bad: v", "iter", "yield:body")},
			"the iterable's first next() calls start_response with a hop-by-hop header and an invalid header name"),
	)

	caseSpec("close.on-disconnect", func(k *check) {
		k.needProbeDir()
		k.expect("close() called within %v of the client resetting the connection in the middle of a body streamed for %v", disconnectCloseWait, disconnectStream)
		token := newToken()
		c := k.open()
		r := request{path: probePath("/stream", "h", "Content-Type: text/plain", "iter", fmt.Sprintf("yield-until-disconnect:%g", disconnectStream.Seconds())), token: token}
		deadline := time.Now().Add(readTimeout)
		x := exchange{conn: c, token: token, logFrom: requestLogSize()}
		if _, err := c.Write(r.bytes(), deadline); err != nil {
			k.failf("sending the request: %v", err)
		}
		// The case needs the client to leave in the middle of the body. A server that holds
		// back what the application yields has sent nothing by then: its failure is
		// body.yield-not-delayed's, and nothing about close() on disconnect can be judged.
		head, err := c.ReadHead(deadline)
		if err != nil {
			k.skipf("precondition not met: no response head arrived within %v while the application kept yielding 64 KiB blocks (%v), so the client could not leave mid-body; the server holds back yielded blocks, which body.yield-not-delayed judges", readTimeout, err)
		}
		if _, err := c.Read(1<<16, deadline); err != nil {
			k.skipf("precondition not met: the response head arrived but no body byte within %v while the application kept yielding 64 KiB blocks (%v), so the client could not leave mid-body; body.yield-not-delayed judges a server that holds back yielded blocks", readTimeout, err)
		}
		c.Abort()
		aborted := time.Now()
		rs := awaitClose(token, disconnectCloseWait)
		if count(rs, "close") == 0 {
			x.resp = head
			k.skipUnlessAppCalled(x, noJudge)
			// Wait out the stream, to say whether close() came late or never.
			rs = awaitClose(token, disconnectStream-disconnectCloseWait+time.Second)
			closed, ok := first(rs, "close")
			if !ok {
				k.failf("close() not called within %v of the disconnect (%s)", time.Since(aborted).Round(time.Second), eventList(rs))
			}
			k.failf("close() called only %.1f s after the disconnect, not within %v (%s)", closed.T-float64(aborted.UnixNano())/1e9, disconnectCloseWait, eventList(rs))
		}
		if _, ranOut := first(rs, "stream-ran-out"); ranOut {
			k.failf("the server kept iterating after the disconnect until the probe's body ran out, and only then called close() (%s)", eventList(rs))
		}
		closed, _ := first(rs, "close")
		k.saw("close() called %.2f s after the disconnect (%s)", closed.T-float64(aborted.UnixNano())/1e9, eventList(rs))
	})

	caseSpec("close.called-once", func(k *check) {
		k.needProbeDir()
		k.expect("exactly one close() per request, for a normal response and for one whose iteration raises")
		var seen []string
		for _, iter := range []string{"yield:first-,yield:second", "yield:second,raise"} {
			token := newToken()
			x := k.try(request{path: probePath("/stream", "h", "Content-Type: text/plain", "iter", iter), token: token, until: untilHas("second")})
			awaitClose(token, closeWait)
			time.Sleep(300 * time.Millisecond) // a second call, if any, comes soon after the first
			rs := readRecords(token)
			seen = append(seen, iter+": "+eventList(rs))
			if n := count(rs, "close"); n == 0 {
				k.skipUnlessAppCalled(x, noJudge)
			}
			if n := count(rs, "close"); n != 1 {
				k.failf("close() called %d times for iter=%s (%s)", n, iter, eventList(rs))
			}
		}
		k.saw("%s", strings.Join(seen, "; "))
	})
})
