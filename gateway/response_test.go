//go:build cgo && gateway

package gateway

import (
	"bytes"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStartResponseReturnsWriteAndRefusesASecondCall(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	if _, body := c.do(get("/start-response?returns-write")); body != "callable" {
		t.Errorf("start_response must return the write callable; the app saw: %s", body)
	}
	if _, body := c.do(get("/start-response?twice")); body != "AssertionError" {
		t.Errorf("a second start_response without exc_info must raise; the app saw: %s", body)
	}
}

func TestStartResponseValidatesWhatItIsGiven(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	for _, q := range []string{"bad-status", "status-bytes", "header-crlf", "hop-by-hop", "headers-tuple"} {
		resp, body := c.do(get("/start-response?" + q))
		if resp.StatusCode != 500 || strings.Contains(body, "should not be sent") || resp.Header.Get("Injected") != "" {
			t.Errorf("%s: expected a plain 500, got %d %v %q", q, resp.StatusCode, resp.Header, body)
		}
	}
	log := ts.log(t)
	if !strings.Contains(log, "hop-by-hop header 'Connection'") {
		t.Errorf("the log must name the hop-by-hop header; log:\n%s", log)
	}
}

func TestLazyStartResponseInsideTheIterable(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	resp, body := dial(t, ts.addr).do(get("/lazy"))
	if resp.StatusCode != 200 || resp.Header.Get("X-Lazy") != "yes" || body != "lazy body" {
		t.Errorf("expected 200 with X-Lazy and the body, got %d %v %q", resp.StatusCode, resp.Header, body)
	}
}

// The app yields two empty blocks around a one-second pause: nothing may reach the wire before
// the first non-empty block.
func TestHeadersWaitForTheFirstNonEmptyBlock(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(get("/deferred")))
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 1)
	if n, _ := c.Read(buf); n > 0 {
		t.Fatalf("bytes reached the client before the app's first non-empty block (%q)", buf[:n])
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, _ := io.ReadAll(io.LimitReader(c, 4096))
	if !bytes.Contains(rest, []byte("X-Deferred: yes")) || !bytes.Contains(rest, []byte("late")) {
		t.Errorf("expected the headers and body after the pause, got %q", rest)
	}
}

func TestEmptyBodyStillSendsHeaders(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	resp, body := dial(t, ts.addr).do(get("/empty"))
	if resp.StatusCode != 204 || body != "" {
		t.Errorf("expected 204 with no body, got %d %q", resp.StatusCode, body)
	}
}

func TestExcInfoReplacesHeadersBeforeAnythingIsSent(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	resp, body := dial(t, ts.addr).do(get("/exc-before"))
	if resp.StatusCode != 500 || resp.Header.Get("X-Discarded") != "" || body != "replaced" {
		t.Errorf("expected the replacement 500 without X-Discarded, got %d %v %q", resp.StatusCode, resp.Header, body)
	}
}

func TestExcInfoAfterHeadersAbortsTheResponse(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	resp := exchangeRaw(t, ts.addr, get("/exc-after"))
	if strings.Count(resp, "HTTP/1.1") != 1 || !strings.Contains(resp, "partial;") || strings.Contains(resp, "never") {
		t.Errorf("expected one status line, the partial body and no more; got %q", resp)
	}
	if strings.HasSuffix(resp, "0\r\n\r\n") {
		t.Errorf("the chunked body must be left unterminated so the client sees it is incomplete; got %q", resp)
	}
	if !strings.Contains(ts.log(t), "ValueError: too late") {
		t.Error("the re-raised exception must be logged with its traceback")
	}
}

// write() must put its bytes on the wire before it returns: the app sleeps a second after it.
func TestWriteTransmitsBeforeTheAppGoesOn(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(get("/write")))
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("written;")) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("written bytes did not arrive while the app was still running; got %q", got)
		}
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, _ := io.ReadAll(io.LimitReader(c, 4096))
	all := string(got) + string(rest)
	if !strings.Contains(all, "written;") || strings.Index(all, "written;") > strings.Index(all, "yielded") {
		t.Errorf("written data must precede yielded data; got %q", all)
	}
}

func TestCloseIsCalledExactlyOnce(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	count := func(token string) int {
		b, _ := os.ReadFile(ts.dir + "/close-" + token)
		return strings.Count(string(b), "closed")
	}
	c.do("GET /close?normal HTTP/1.1\r\nHost: t\r\nX-Token: normal\r\n\r\n")
	if resp := exchangeRaw(t, ts.addr, "GET /close?raise HTTP/1.1\r\nHost: t\r\nX-Token: raise\r\n\r\n"); !strings.Contains(resp, "200 OK") {
		t.Errorf("expected a 200 that is cut short, got %q", resp)
	}
	d, _ := net.Dial("tcp", ts.addr)
	d.Write([]byte("GET /close?disconnect HTTP/1.1\r\nHost: t\r\nX-Token: disconnect\r\n\r\n"))
	io.ReadFull(d, make([]byte, 1000))
	d.Close()
	for _, token := range []string{"normal", "raise", "disconnect"} {
		waitFor(t, "close() on "+token, func() bool { return count(token) > 0 })
	}
	time.Sleep(200 * time.Millisecond)
	for _, token := range []string{"normal", "raise", "disconnect"} {
		if n := count(token); n != 1 {
			t.Errorf("%s: close() must be called exactly once, was called %d times", token, n)
		}
	}
}

func TestContentLength(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	resp, body := c.do(get("/length?honoured"))
	if resp.ContentLength != 5 || body != "12345" {
		t.Errorf("the app's Content-Length must be used: got %d %q", resp.ContentLength, body)
	}
	resp, body = c.do(get("/length?single"))
	if resp.ContentLength != int64(len("single item")) || len(resp.TransferEncoding) != 0 {
		t.Errorf("a one-item list must get a computed Content-Length: got %d %v", resp.ContentLength, resp.TransferEncoding)
	}
	resp, body = c.do(get("/length?generator"))
	if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 || body != "generated" {
		t.Errorf("a generator on HTTP/1.1 must be chunked: got %d %v %q", resp.ContentLength, resp.TransferEncoding, body)
	}
	raw := exchangeRaw(t, ts.addr, "GET /length?generator HTTP/1.0\r\n\r\n")
	if strings.Contains(raw, "Transfer-Encoding") || !strings.HasSuffix(raw, "\r\n\r\ngenerated") {
		t.Errorf("on HTTP/1.0 the body must be close-delimited: got %q", raw)
	}
	raw = exchangeRaw(t, ts.addr, get("/length?exceeded")+get("/length?single"))
	if !strings.HasSuffix(raw, "\r\n\r\n12345") || strings.Count(raw, "HTTP/1.1") != 1 {
		t.Errorf("no more than Content-Length bytes may be sent, then the connection closes: got %q", raw)
	}
	if !strings.Contains(ts.log(t), "more than its Content-Length 5") {
		t.Error("the dropped bytes must be logged")
	}
}

func TestHeadSendsNoBody(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	resp, body := c.do("HEAD /length?single HTTP/1.1\r\nHost: t\r\n\r\n")
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != int64(len("single item")) {
		t.Errorf("HEAD: expected 200, Content-Length 11 and no body; got %d %d %q", resp.StatusCode, resp.ContentLength, body)
	}
	if resp, body := c.do(get("/length?single")); body != "single item" {
		t.Errorf("the connection must stay usable after HEAD: got %d %q", resp.StatusCode, body)
	}
}

func TestFileWrapperSendsTheFileFromItsPosition(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	want, err := os.ReadFile("testdata/app/payload.bin")
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, ts.addr)
	for _, off := range []int{0, 1234} {
		resp, body := c.do(get("/file?" + itoa(off)))
		if body != string(want[off:]) || resp.ContentLength != int64(len(want)-off) {
			t.Errorf("file_wrapper from offset %d: expected %d bytes, got %d (Content-Length %d)", off, len(want)-off, len(body), resp.ContentLength)
		}
	}
}

func TestBadApplicationsGiveA500AndTheWorkerLives(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	for _, path := range []string{"/raise", "/returns-none", "/yields-str"} {
		if resp, _ := c.do(get(path)); resp.StatusCode != 500 {
			t.Errorf("%s: expected 500, got %d", path, resp.StatusCode)
		}
	}
	if resp, _ := c.do(get("/environ")); resp.StatusCode != 200 {
		t.Errorf("the connection must stay usable after a 500: got %d", resp.StatusCode)
	}
	log := ts.log(t)
	for _, want := range []string{"RuntimeError: the app failed", "TypeError: 'NoneType' object is not iterable", "yielded str, not bytes"} {
		if !strings.Contains(log, want) {
			t.Errorf("log: expected %q", want)
		}
	}
}

func TestDebugModeShowsTheTraceback(t *testing.T) {
	app := testApp("application")
	app.Debug = true
	ts := startGateway(t, 2, app)
	_, body := dial(t, ts.addr).do(get("/raise"))
	if !strings.Contains(body, "Traceback") || !strings.Contains(body, "RuntimeError: the app failed") {
		t.Errorf("in debug mode the 500 body must hold the traceback; got %q", body)
	}
}

// Three requests that each sleep a second in Python finish together when threads are free for
// them (one after another they would take three seconds), while a client that does not read its
// large response holds its own thread but not the GIL.
func TestThreadsRunRequestsConcurrently(t *testing.T) {
	ts := startGateway(t, 4, testApp("application"))
	slow, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Write([]byte(get("/big?400"))) // 25 MiB that this client never reads
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	done := make(chan string, 3)
	for range 3 {
		go func() {
			done <- exchangeRaw(t, ts.addr, "GET /sleep?1 HTTP/1.0\r\n\r\n")
		}()
	}
	for range 3 {
		if r := <-done; !strings.HasSuffix(r, "slept") {
			t.Errorf("expected slept, got %q", r)
		}
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("three 1 s requests took %s: they did not run side by side", d)
	}
}
