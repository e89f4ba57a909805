package conformance

import (
	"strings"
	"time"

	"github.com/wsgispec/wsgispec/specs/rawhttp"
)

var _ = nodes.Describe("HTTP request handling beyond the PEP", func() {
	caseSpec("http.underscore-header", func(k *check) {
		k.expect("HTTP_FOO_BAR=\"dash\" for Foo-Bar: dash followed by Foo_Bar: underscore (or the request refused with 400)")
		x := k.do(request{path: "/environ", header: rawhttp.Header{{Name: "Foo-Bar", Value: "dash"}, {Name: "Foo_Bar", Value: "underscore"}}})
		if x.resp.Status == 400 {
			k.saw("refused with %q", x.resp.StatusLine)
			return
		}
		var d environDump
		k.probeJSON(x, &d)
		if got, _ := d.str("HTTP_FOO_BAR"); got != "dash" {
			k.failf("%s", d.show("HTTP_FOO_BAR"))
		}
		k.saw("%s", d.show("HTTP_FOO_BAR"))
	})

	caseSpec("http.content-length-with-chunked", func(k *check) {
		k.expect("400, or the chunked body \"abc\" read by the application and the connection closed after the response (Content-Length: 4 sent as well)")
		x := k.try(request{method: "POST", path: probePath("/input", "ops", "read:4"), timeout: 3 * time.Second,
			header: rawhttp.Header{{Name: "Content-Length", Value: "4"}, {Name: "Transfer-Encoding", Value: "chunked"}},
			body:   chunked("abc")})
		if x.resp != nil && x.resp.Status == 400 {
			k.saw("refused with %q", x.resp.StatusLine)
			return
		}
		if x.resp != nil && (x.resp.Status == 411 || x.resp.Status == 501) {
			// A server that takes no chunked request bodies refuses this one for that reason:
			// whether it may is input.chunked-body's question, and how it resolves the conflict
			// cannot be seen.
			k.skipUnlessAppCalled(x, "input.chunked-body")
		}
		if x.err != nil {
			k.failf("%s", x.problem())
		}
		var a inputAnswer
		k.probeJSON(x, &a)
		if got := strings.Join(k.values(a)[0], ""); got != "abc" {
			k.failf("the application read %q: the server framed the body by Content-Length", got)
		}
		if _, closed, _ := x.conn.Drain(time.Now().Add(time.Second)); !closed {
			k.failf("the application read \"abc\", but the connection stayed open for further requests")
		}
		k.saw("the application read \"abc\", then the server closed the connection")
	})

	caseSpec("http.conflicting-content-length", func(k *check) {
		k.expect("400 for Content-Length: 3 and Content-Length: 5 with a 5-byte body")
		x := k.try(request{method: "POST", path: probePath("/input", "ops", "read:5"), timeout: 3 * time.Second,
			header: rawhttp.Header{{Name: "Content-Length", Value: "3"}, {Name: "Content-Length", Value: "5"}},
			body:   []byte("abcde")})
		if x.resp == nil {
			k.failf("%s", x.problem())
		}
		if x.resp.Status != 400 {
			k.failf("%q with body %q", x.resp.StatusLine, clip(x.resp.Body))
		}
		k.saw("%q", x.resp.StatusLine)
	})

	caseSpec("http.script-name-header", func(k *check) {
		wantScript := target.mount
		k.expect("SCRIPT_NAME=%q and PATH_INFO=\"/environ/x\" despite request headers SCRIPT_NAME: /evil and Script-Name: /evil (or the request refused with 400)", wantScript)
		x := k.do(request{path: "/environ/x", header: rawhttp.Header{{Name: "SCRIPT_NAME", Value: "/evil"}, {Name: "Script-Name", Value: "/evil"}}})
		if x.resp.Status == 400 {
			k.saw("refused with %q", x.resp.StatusLine)
			return
		}
		var d environDump
		k.probeJSON(x, &d)
		script, _ := d.str("SCRIPT_NAME")
		pathInfo, _ := d.str("PATH_INFO")
		if script != wantScript || pathInfo != "/environ/x" {
			k.failf("%s, %s", d.show("SCRIPT_NAME"), d.show("PATH_INFO"))
		}
		k.saw("%s, %s", d.show("SCRIPT_NAME"), d.show("PATH_INFO"))
	})

	caseSpec("http.oversized-headers", func(k *check) {
		const size = 256 << 10
		k.expect("a 4xx status (431 or 400) or the connection closed, for a request with a %d-byte header; then a 200 for a normal request", size)
		x := k.try(request{path: "/environ", header: rawhttp.Header{{Name: "X-Probe-Big", Value: strings.Repeat("a", size)}}})
		var outcome string
		switch {
		case x.resp == nil && x.err != nil && !isTimeout(x.err):
			outcome = "the connection was closed (" + x.err.Error() + ")"
		case x.resp == nil:
			k.failf("%s", x.problem())
		case x.resp.Status >= 400 && x.resp.Status < 500:
			outcome = "refused with " + x.resp.StatusLine
		default:
			k.failf("accepted with %q", x.resp.StatusLine)
		}
		next := k.try(request{path: "/environ"})
		if next.err != nil || next.resp.Status != 200 {
			k.failf("%s; then a normal request got %s", outcome, describeExchange(next))
		}
		k.saw("%s; then a normal request got 200", outcome)
	})
})
