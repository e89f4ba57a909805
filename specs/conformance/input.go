package conformance

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/specs/catalog"
	"github.com/wsgispec/wsgispec/specs/rawhttp"
)

// inputBody is the body the reading cases send: three lines.
const inputBody = "line one\nline two\nlast line\n"

var inputLines = []string{"line one\n", "line two\n", "last line\n"}

// Reading past CONTENT_LENGTH is the subject of the SHOULD cases (eof-at-content-length,
// read-no-argument, exhausted-returns-empty, empty-returns-empty) only: the MUST cases read
// exactly the body, so that a server which leaves wsgi.input at the raw socket (allowed: "the
// server is not required to read past the client's specified Content-Length") fails only the
// SHOULD. readlines takes a hint and iteration stops after the last line for the same reason.
// The SHOULD cases wait only eofTimeout: a server that does not simulate end of file hangs.
const eofTimeout = 2 * time.Second

// inputAnswer is what /input reports: per operation, the values it returned or the error.
type inputAnswer struct {
	InputTerminated *pyValue `json:"input_terminated"`
	Results         []struct {
		Op     string `json:"op"`
		Error  string `json:"error"`
		Values []struct {
			Type string  `json:"type"`
			Data *string `json:"data"` // base64, for bytes
			Repr string  `json:"repr"`
		} `json:"values"`
	} `json:"results"`
}

// readInput has the probe apply ops (comma-separated) to wsgi.input for the request r.
func (k *check) readInput(r request, ops string) inputAnswer {
	r.path = probePath("/input", "ops", ops)
	return k.inputAnswer(k.try(r), ops)
}

// inputAnswer is readInput's judgement of the exchange x, whose request ran ops.
func (k *check) inputAnswer(x exchange, ops string) inputAnswer {
	if x.err != nil && x.resp == nil && isTimeout(x.err) {
		k.failf("no response within %v: the application's %s never returned", x.timeout, strings.Join(opCalls(ops), ", then "))
	}
	k.completed(x)
	var a inputAnswer
	k.probeJSON(x, &a)
	return a
}

// values returns what each operation returned as bytes, failing the case on an operation that
// raised or returned something other than bytes.
func (k *check) values(a inputAnswer) [][]string {
	var out [][]string
	for _, r := range a.Results {
		if r.Error != "" && len(a.Results) == 1 {
			k.failf("wsgi.input %s raised %s", opCall(r.Op), r.Error)
		}
		if r.Error != "" {
			k.failf("wsgi.input %s raised %s (all calls: %s)", opCall(r.Op), r.Error, renderOps(a))
		}
		var vs []string
		for _, v := range r.Values {
			if v.Type != "bytes" || v.Data == nil {
				k.failf("wsgi.input %s returned a %s (%s), not bytes", opCall(r.Op), v.Type, v.Repr)
			}
			b, _ := base64.StdEncoding.DecodeString(*v.Data)
			vs = append(vs, string(b))
		}
		out = append(out, vs)
	}
	return out
}

func equalValues(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") || len(a[i]) != len(b[i]) {
			return false
		}
	}
	return true
}

// opCall renders a probe input op as the Python call it makes.
func opCall(op string) string {
	name, arg, _ := strings.Cut(op, ":")
	switch name {
	case "iter":
		return "list(wsgi.input)"
	case "next":
		return arg + " x next(iter(wsgi.input))"
	case "drain":
		return "read(" + arg + ") until b\"\""
	}
	return name + "(" + arg + ")"
}

func opCalls(ops string) []string {
	var calls []string
	for _, op := range strings.Split(ops, ",") {
		calls = append(calls, opCall(op))
	}
	return calls
}

func renderOps(a inputAnswer) string {
	var parts []string
	for _, r := range a.Results {
		if r.Error != "" {
			parts = append(parts, opCall(r.Op)+" raised "+r.Error)
			continue
		}
		var vs []string
		for _, v := range r.Values {
			vs = append(vs, v.Repr)
		}
		parts = append(parts, opCall(r.Op)+" -> "+strings.Join(vs, ", "))
	}
	return strings.Join(parts, "; ")
}

func renderWant(ops string, want [][]string) string {
	var parts []string
	for i, op := range strings.Split(ops, ",") {
		var vs []string
		for _, v := range want[i] {
			vs = append(vs, "b"+strconv.Quote(v))
		}
		if strings.HasPrefix(op, "readlines") || op == "iter" || strings.HasPrefix(op, "next") {
			parts = append(parts, opCall(op)+" -> ["+strings.Join(vs, ", ")+"]")
		} else {
			parts = append(parts, opCall(op)+" -> "+strings.Join(vs, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// chunked encodes parts as a chunked request body.
func chunked(parts ...string) []byte {
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(p), p)
	}
	b.WriteString("0\r\n\r\n")
	return []byte(b.String())
}

func postBody() request {
	return request{method: "POST", header: rawhttp.Header{{Name: "Content-Type", Value: "text/plain"}}, body: []byte(inputBody)}
}

// untilEOF is a request whose reading goes past CONTENT_LENGTH.
func untilEOF(r request) request {
	r.timeout = eofTimeout
	return r
}

func chunkedPost() request {
	return request{method: "POST", header: rawhttp.Header{{Name: "Content-Type", Value: "text/plain"}, {Name: "Transfer-Encoding", Value: "chunked"}},
		body: chunked(inputLines...)}
}

// readSizeOps reads the body in 5-byte pieces, the last read asking for exactly what is left.
func readSizeOps() (string, [][]string) {
	var ops []string
	var want [][]string
	for i := 0; i < len(inputBody); i += 5 {
		n := min(5, len(inputBody)-i)
		ops = append(ops, fmt.Sprintf("read:%d", n))
		want = append(want, []string{inputBody[i : i+n]})
	}
	return strings.Join(ops, ","), want
}

var _ = nodes.Describe("wsgi.input", func() {
	readSize, readSizeWant := readSizeOps()
	DescribeTable("reading the body",
		func(ctx SpecContext, id string, r request, ops string, want [][]string) {
			k := newCheck(catalog.MustLookup(id))
			k.expect("%s", renderWant(ops, want))
			a := k.readInput(r, ops)
			if !equalValues(k.values(a), want) {
				k.failf("%s", renderOps(a))
			}
			k.saw("%s", renderOps(a))
		},
		caseEntry("input.read-size", postBody(), readSize, readSizeWant),
		caseEntry("input.read-no-argument", untilEOF(postBody()), "read:4,read", [][]string{{"line"}, {inputBody[4:]}}),
		caseEntry("input.readline", postBody(), "readline,readline,readline", [][]string{{inputLines[0]}, {inputLines[1]}, {inputLines[2]}}),
		caseEntry("input.readline-size", postBody(), "readline:4,readline", [][]string{{"line"}, {" one\n"}}),
		// With hint 20 the third line takes the total past the hint, so no read waits for end of file.
		caseEntry("input.readlines", postBody(), "readlines:20", [][]string{inputLines}),
		caseEntry("input.iteration", postBody(), "next:3", [][]string{inputLines}),
		caseEntry("input.exhausted-returns-empty", untilEOF(postBody()), fmt.Sprintf("read:%d,read:10,readline,readlines", len(inputBody)),
			[][]string{{inputBody}, {""}, {""}, {}}),
		caseEntry("input.empty-returns-empty", untilEOF(request{}), "read:10,readline", [][]string{{""}, {""}}),
	)

	caseSpec("input.returns-bytes", func(k *check) {
		// readlines comes last: a server may ignore its hint and read every remaining line.
		k.expect("bytes from read(4), readline(), next(iter(wsgi.input)) and every item of readlines(5)")
		a := k.readInput(postBody(), "read:4,readline,next:1,readlines:5")
		k.values(a)
		k.saw("%s", renderOps(a))
	})

	caseSpec("input.eof-at-content-length", func(k *check) {
		k.expect("read(1000) on a %d-byte body returns its %d bytes at once, on a connection the client keeps open", len(inputBody), len(inputBody))
		a := k.readInput(untilEOF(postBody()), "read:1000")
		if got := k.values(a); len(got) != 1 || len(got[0]) != 1 || got[0][0] != inputBody {
			k.failf("%s", renderOps(a))
		}
		k.saw("%s", renderOps(a))
	})

	Describe("a chunked request body", func() {
		caseSpec("input.chunked-body", func(k *check) {
			k.expect("read(8192) until b\"\" returns the decoded body %q, or the server refuses chunked request bodies with 411 or 501 without calling the application", inputBody)
			r := untilEOF(chunkedPost())
			r.path = probePath("/input", "ops", "drain:8192")
			r.token = newToken()
			x := k.try(r)
			if x.resp != nil && (x.resp.Status == 411 || x.resp.Status == 501) {
				if called, _ := x.appCalled(); called {
					k.failf("%q, yet the application was called", x.resp.StatusLine)
				}
				k.saw("the server does not support chunked request bodies and refused the request cleanly: %q", x.resp.StatusLine)
				return
			}
			if x.resp != nil && refusal(x.resp.Status) {
				if called, _ := x.appCalled(); !called {
					k.failf("the server refused a valid chunked body with %q (body %q): a server that does not support chunked request bodies says so with 411 Length Required or 501 Not Implemented", x.resp.StatusLine, clip(x.resp.Body))
				}
			}
			a := k.inputAnswer(x, "drain:8192")
			if got := strings.Join(k.values(a)[0], ""); got != inputBody {
				k.failf("the application read %q", got)
			}
			k.saw("the application read the decoded body")
		})
		caseSpec("input.chunked-terminated", func(k *check) {
			k.expect("wsgi.input_terminated true for a chunked request")
			r := untilEOF(chunkedPost())
			r.path = probePath("/input", "ops", "drain:8192")
			x := k.try(r)
			if x.resp == nil && isTimeout(x.err) {
				// The application's reads never reached the end of the body: the server handed it
				// the chunked body undecoded (or without an end), input.chunked-body's failure.
				k.skipf("precondition not met: no response within %v, because the application's read(8192) until b\"\" never returned: the server did not end wsgi.input at the end of the chunked body, which input.chunked-body judges, so there is no terminated input whose flag could be judged", x.timeout)
			}
			a := k.inputAnswer(x, "drain:8192")
			if a.InputTerminated == nil {
				k.failf("wsgi.input_terminated absent")
			}
			if string(a.InputTerminated.JSON) != "true" {
				k.failf("wsgi.input_terminated=%s", a.InputTerminated)
			}
			k.saw("wsgi.input_terminated=True")
		})
	})

	Describe("Expect: 100-continue", func() {
		caseSpec("input.expect-continue", func(k *check) {
			k.expect("after the client waits up to 1.5 s for 100 Continue and then sends the body, the application reads the whole body")
			x, _, interim := expectContinue(k)
			if x.early != nil {
				k.failf("the server answered %q before the body was sent, instead of reading it", x.early.StatusLine)
			}
			var a inputAnswer
			k.probeJSON(x.exchange, &a)
			if got := strings.Join(k.values(a)[0], ""); got != inputBody {
				k.failf("the application read %q", got)
			}
			k.saw("the application read the whole body (%s)", interim)
		})
		caseSpec("input.expect-continue-interim", func(k *check) {
			k.expect("HTTP/1.1 100 Continue within 1.5 s, before the client sends the body")
			x, continued, interim := expectContinue(k)
			if x.early != nil {
				// A final answer before the body: the server refused the request (input.expect-continue's
				// failure when it was refused) or the application answered without reading it.
				k.skipUnlessAppCalled(x.exchange, "input.expect-continue")
				k.failf("the application was called, but the server answered %q before the body was sent", x.early.StatusLine)
			}
			if !continued {
				k.failf("%s; then %q", interim, x.resp.StatusLine)
			}
			k.saw("%s", interim)
		})
	})
})

// expectContinue sends a POST with Expect: 100-continue and only its header section, waits up to
// 1.5 s for an interim response (as curl waits 1 s), sends the body, and reads the final
// response. It returns that exchange, whether 100 Continue came before the body, and a
// description of what happened.
func expectContinue(k *check) (x continueExchange, continued bool, interim string) {
	c := k.open()
	head := request{method: "POST", path: probePath("/input", "ops", fmt.Sprintf("read:%d", len(inputBody))), header: rawhttp.Header{
		{Name: "Content-Type", Value: "text/plain"},
		{Name: "Content-Length", Value: strconv.Itoa(len(inputBody))},
		{Name: "Expect", Value: "100-continue"},
	}}
	deadline := time.Now().Add(readTimeout)
	logFrom := requestLogSize()
	start, err := c.Write(head.bytes(), deadline)
	if err != nil {
		k.failf("sending the request head: %v", err)
	}
	if peek, _ := c.Peek(1, start.Add(1500*time.Millisecond)); len(peek) == 0 {
		interim = "no 100 Continue within 1.5 s"
	} else {
		early, err := c.ReadHead(deadline)
		if err != nil {
			k.failf("before the body was sent the server sent something unreadable: %v", err)
		}
		if early.Status != 100 {
			// A final response: the body is not sent (the server would read it as the next request).
			return continueExchange{exchange: exchange{conn: c, resp: early, sent: start, timeout: readTimeout, logFrom: logFrom}, early: early}, false,
				fmt.Sprintf("%q before the body was sent", early.StatusLine)
		}
		continued = true
		interim = fmt.Sprintf("100 Continue before the body, %d ms after the request head", early.HeadAt.Sub(start).Milliseconds())
	}
	if _, err := c.Write([]byte(inputBody), deadline); err != nil {
		k.failf("sending the body after %s: %v", interim, err)
	}
	resp, err := c.ReadResponse("POST", deadline)
	x.exchange = k.completed(exchange{conn: c, resp: resp, sent: start, err: err, timeout: readTimeout, logFrom: logFrom})
	if len(x.resp.Interim) > 0 {
		interim += fmt.Sprintf("; %q only after the body was sent", x.resp.Interim[0].StatusLine)
	}
	return x, continued, interim
}

// continueExchange is expectContinue's exchange; early is a final response the server sent
// before the body (the body then was not sent).
type continueExchange struct {
	exchange
	early *rawhttp.Response
}
