//go:build cgo && gateway

package gateway

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type inputReport struct {
	Parts         []string `json:"parts"`
	ContentLength *string  `json:"content_length"`
	Terminated    bool     `json:"terminated"`
}

func TestInputMethods(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	cases := []struct {
		query, body string
		want        []string
	}{
		{"read-n", "abcdefghij", []string{"abc", "defg", "hij", ""}},
		{"read-all", "everything", []string{"everything", ""}},
		{"readline", "line one\nline two\nend", []string{"line one\n", "li", "ne two\n", "end"}},
		{"readlines", "a\nb\nc", []string{"a\n", "b\n", "c"}},
		{"iter", "x\ny\n", []string{"x\n", "y\n"}},
	}
	for _, tc := range cases {
		_, body := c.do(post("/input?"+tc.query, tc.body))
		var got inputReport
		decodeJSON(t, body, &got)
		if !reflect.DeepEqual(got.Parts, tc.want) {
			t.Errorf("wsgi.input %s over %q: expected %q, got %q", tc.query, tc.body, tc.want, got.Parts)
		}
	}
}

func TestInputChunkedBodyIsDecodedAndTerminated(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	_, body := dial(t, ts.addr).do("POST /input?read-all HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
	var got inputReport
	decodeJSON(t, body, &got)
	if got.ContentLength != nil || !got.Terminated || got.Parts[0] != "hello world" {
		t.Errorf("chunked body: expected no CONTENT_LENGTH, wsgi.input_terminated True and %q; got %v %v %q",
			"hello world", got.ContentLength, got.Terminated, got.Parts)
	}
}

func TestInputExpect100Continue(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	c.c.Write([]byte("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"))
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := c.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("expected an interim 100 Continue before the body was sent, got %q (%v)", line, err)
	}
	c.br.ReadString('\n') // the blank line ending the interim response
	resp, body := c.do("ping")
	if resp.StatusCode != 200 || body != "ping" {
		t.Errorf("after 100 Continue: expected 200 echoing %q, got %d %q", "ping", resp.StatusCode, body)
	}
}

func TestInputIsBoundedByContentLength(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	// The body is followed at once by the next request on the same connection: read() must stop
	// at CONTENT_LENGTH, neither hanging nor eating the next request.
	_, body := c.do(post("/input?read-all", "12345") + get("/input?read-all"))
	var got inputReport
	decodeJSON(t, body, &got)
	if got.Parts[0] != "12345" {
		t.Errorf("read() must end at CONTENT_LENGTH: got %q", got.Parts)
	}
	resp, _ := c.do("")
	if resp.StatusCode != 200 {
		t.Errorf("the pipelined request after the body: expected 200, got %d", resp.StatusCode)
	}
}

func TestErrorsStreamReachesTheLog(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	if resp, _ := dial(t, ts.addr).do(get("/errors")); resp.StatusCode != 200 {
		t.Fatalf("expected 200, got %d", resp.StatusCode)
	}
	log := ts.log(t)
	for _, want := range []string{"errors-write ünïcødé ✓\n", "errors-line-1\nerrors-line-2\n", `"GET /errors HTTP/1.1" 200`} {
		if !strings.Contains(log, want) {
			t.Errorf("log file: expected %q in:\n%s", want, log)
		}
	}
}
