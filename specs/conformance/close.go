package conformance

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// closeWait is how long the server gets to call close() after the client saw the response end.
const closeWait = 3 * time.Second

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
			k.try(request{path: probePath("/stream", "h", "Content-Type: text/plain", "iter", iter), token: token, until: untilHas("second")})
			rs := awaitClose(token, closeWait)
			if count(rs, "close") == 0 {
				k.failf("close() not called (%s)", eventList(rs))
			}
			k.saw("%s", eventList(rs))
		},
		caseEntry("close.on-completion", "yield:first-,yield:second", "the response completed normally"),
		caseEntry("close.on-iteration-error", "yield:second,raise", "next() raised after the first block"),
		caseEntry("close.on-start-response-error", "yield:second,restart-exc,yield:never", "start_response raised inside next()"),
	)

	caseSpec("close.on-disconnect", func(k *check) {
		k.needProbeDir()
		k.expect("close() called within 4 s of the client resetting the connection in the middle of an endless body")
		token := newToken()
		c := k.open()
		r := request{path: probePath("/stream", "h", "Content-Type: text/plain", "iter", "yield-until-disconnect:6"), token: token}
		deadline := time.Now().Add(readTimeout)
		if _, err := c.Write(r.bytes(), deadline); err != nil {
			k.failf("sending the request: %v", err)
		}
		if _, err := c.ReadHead(deadline); err != nil {
			k.failf("no response head: %v", err)
		}
		if _, err := c.Read(1<<16, deadline); err != nil {
			k.failf("no body: %v", err)
		}
		c.Abort()
		rs := awaitClose(token, 4*time.Second)
		if count(rs, "close") == 0 {
			k.failf("close() not called after the disconnect (%s)", eventList(rs))
		}
		if _, ranOut := first(rs, "stream-ran-out"); ranOut {
			k.failf("the server kept iterating after the disconnect until the probe's body ran out, and only then called close() (%s)", eventList(rs))
		}
		k.saw("%s", eventList(rs))
	})

	caseSpec("close.called-once", func(k *check) {
		k.needProbeDir()
		k.expect("exactly one close() per request, for a normal response and for one whose iteration raises")
		var seen []string
		for _, iter := range []string{"yield:first-,yield:second", "yield:second,raise"} {
			token := newToken()
			k.try(request{path: probePath("/stream", "h", "Content-Type: text/plain", "iter", iter), token: token, until: untilHas("second")})
			awaitClose(token, closeWait)
			time.Sleep(300 * time.Millisecond) // a second call, if any, comes soon after the first
			rs := readRecords(token)
			seen = append(seen, iter+": "+eventList(rs))
			if n := count(rs, "close"); n != 1 {
				k.failf("close() called %d times for iter=%s (%s)", n, iter, eventList(rs))
			}
		}
		k.saw("%s", strings.Join(seen, "; "))
	})
})
