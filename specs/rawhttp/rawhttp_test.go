package rawhttp

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgispec/wsgispec/internal/readcap"
	"github.com/wsgispec/wsgispec/internal/readcap/readcaptest"
	"github.com/wsgispec/wsgispec/internal/testcert"
)

// step is one action of a scripted test server: write bytes, or pause.
type step struct {
	write string
	pause time.Duration
}

// serve starts a one-connection server that reads the request head, then plays the steps and
// (when closeAfter is set) closes the connection. It returns the address and a channel that
// receives the bytes the server read.
func serve(t *testing.T, closeAfter bool, steps ...step) (string, <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		var head []byte
		for {
			line, err := br.ReadBytes('\n')
			head = append(head, line...)
			if err != nil || len(bytes.TrimSpace(line)) == 0 {
				break
			}
		}
		got <- head
		for _, s := range steps {
			time.Sleep(s.pause)
			if _, err := io.WriteString(c, s.write); err != nil {
				return
			}
		}
		if !closeAfter {
			io.Copy(io.Discard, c) // hold the connection open until the client closes it
		}
	}()
	return ln.Addr().String(), got
}

func exchange(t *testing.T, addr, method string) (*Conn, *Response, error) {
	t.Helper()
	req := Request{Method: method, Target: "/", Header: Header{{"Host", "test"}}}.Bytes()
	c, resp, err := Exchange(addr, req, method, time.Now().Add(3*time.Second))
	if c == nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, resp, err
}

func TestContentLengthThenKeepAlive(t *testing.T) {
	addr, _ := serve(t, false, step{write: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello"})
	c, resp, err := exchange(t, addr, "GET")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.Reason != "OK" || resp.Proto != "HTTP/1.1" {
		t.Errorf("status line parsed as %q %d %q", resp.Proto, resp.Status, resp.Reason)
	}
	if string(resp.Body) != "hello" || resp.Framing != ContentLength || !resp.Complete {
		t.Errorf("body %q framing %s complete %v", resp.Body, resp.Framing, resp.Complete)
	}
	if got := resp.Header.Values("x-a"); len(got) != 2 || got[1] != "2" {
		t.Errorf("repeated header values: %q", got)
	}
	extra, closed, err := c.Drain(time.Now().Add(100 * time.Millisecond))
	if err != nil || closed || len(extra) != 0 {
		t.Errorf("after the response: extra %q, closed %v, err %v; want nothing and open", extra, closed, err)
	}
}

func TestChunkedWithExtensionAndTrailer(t *testing.T) {
	addr, _ := serve(t, false, step{write: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n"},
		step{pause: 50 * time.Millisecond, write: "A\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n"})
	_, resp, err := exchange(t, addr, "GET")
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "abc0123456789" || resp.Framing != Chunked || !resp.Complete {
		t.Errorf("body %q framing %s complete %v", resp.Body, resp.Framing, resp.Complete)
	}
	if len(resp.Pieces) != 2 || string(resp.Pieces[1].Data) != "0123456789" {
		t.Errorf("pieces %+v, want the two chunks", resp.Pieces)
	}
	if resp.Trailer.Get("X-Trailer") != "yes" {
		t.Errorf("trailer %v", resp.Trailer)
	}
}

func TestCloseDelimitedAndHead(t *testing.T) {
	addr, _ := serve(t, true, step{write: "HTTP/1.0 200 OK\r\n\r\nall of it"}, step{pause: 200 * time.Millisecond})
	_, resp, err := exchange(t, addr, "GET")
	if err != nil || string(resp.Body) != "all of it" || resp.Framing != CloseDelimited || !resp.Complete {
		t.Errorf("close-delimited: %+v, %v", resp, err)
	}
	if late := resp.EndAt.Sub(resp.ArrivalOfBody(len(resp.Body) - 1)); late < 150*time.Millisecond {
		t.Errorf("end of a body closed 200ms after its last byte seen %v after it", late)
	}
	addr, _ = serve(t, false, step{write: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"})
	_, resp, err = exchange(t, addr, "HEAD")
	if err != nil || len(resp.Body) != 0 || resp.Framing != NoBody {
		t.Errorf("HEAD: %+v, %v", resp, err)
	}
}

func TestReadUntilStopsEarly(t *testing.T) {
	// A close-delimited body whose server keeps the connection open: only "until" ends the read.
	addr, _ := serve(t, false, step{write: "HTTP/1.1 200 OK\r\n\r\nfirst"}, step{pause: 50 * time.Millisecond, write: " second"})
	c, err := Dial(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(Request{Method: "GET", Target: "/"}.Bytes(), time.Now().Add(time.Second))
	resp, err := c.ReadResponseUntil("GET", time.Now().Add(2*time.Second), func(b []byte) bool { return bytes.HasSuffix(b, []byte("second")) })
	if err != nil || string(resp.Body) != "first second" || resp.Complete {
		t.Errorf("body %q complete %v err %v; want the two parts, incomplete, no error", resp.Body, resp.Complete, err)
	}
}

func TestEndWhenQuiet(t *testing.T) {
	// A close-delimited body that keeps coming for a while after EndWhenQuiet is called, then
	// stops with the connection left open: the read takes every piece, then ends one quiet limit
	// after the last, long before its deadline.
	const quiet = 150 * time.Millisecond
	steps := []step{{write: "HTTP/1.1 200 OK\r\n\r\nstart"}}
	for i := 0; i < 4; i++ {
		steps = append(steps, step{pause: quiet / 2, write: " more"})
	}
	addr, _ := serve(t, false, steps...)
	c, err := Dial(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(Request{Method: "GET", Target: "/"}.Bytes(), time.Now().Add(time.Second))
	go func() {
		time.Sleep(quiet / 3) // while the read waits for the second piece
		c.EndWhenQuiet(quiet)
	}()
	resp, err := c.ReadResponse("GET", time.Now().Add(5*time.Second))
	if !errors.Is(err, ErrQuiet) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("error %v, want ErrQuiet, which is also a deadline error", err)
	}
	if want := "start more more more more"; string(resp.Body) != want {
		t.Errorf("body %q, want %q: the quiet limit cut off bytes that kept arriving", resp.Body, want)
	}
	last := resp.ArrivalOfBody(len(resp.Body) - 1)
	if ended := time.Since(last); ended < quiet || ended > quiet+time.Second {
		t.Errorf("the read ended %v after the last byte, want about %v", ended, quiet)
	}

	// Turned off, the read's own deadline applies again, and ends it with a plain timeout.
	c.EndWhenQuiet(0)
	start := time.Now()
	if _, err := c.Read(10, start.Add(2*quiet)); errors.Is(err, ErrQuiet) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("error %v after turning the quiet limit off, want the deadline's own", err)
	}
	if waited := time.Since(start); waited < 2*quiet {
		t.Errorf("the read ended after %v, before its deadline %v", waited, 2*quiet)
	}
}

func TestInterimResponses(t *testing.T) {
	addr, _ := serve(t, false, step{write: "HTTP/1.1 100 Continue\r\n\r\n"},
		step{write: "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"})
	_, resp, err := exchange(t, addr, "POST")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 201 || len(resp.Interim) != 1 || resp.Interim[0].Status != 100 {
		t.Errorf("status %d, interim %v", resp.Status, resp.Interim)
	}
}

func TestArrivalTimes(t *testing.T) {
	addr, _ := serve(t, false, step{write: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n"},
		step{pause: 300 * time.Millisecond, write: "6\r\nsecond\r\n0\r\n\r\n"})
	_, resp, err := exchange(t, addr, "GET")
	if err != nil {
		t.Fatal(err)
	}
	first, ok1 := resp.BodyArrival([]byte("first"))
	second, ok2 := resp.BodyArrival([]byte("second"))
	if !ok1 || !ok2 {
		t.Fatalf("body %q", resp.Body)
	}
	if gap := second.Sub(first); gap < 250*time.Millisecond {
		t.Errorf("second arrived %v after first, want about 300ms", gap)
	}
	if resp.HeadAt.After(first) || resp.Start.After(resp.HeadAt) || resp.EndAt.Before(second) {
		t.Errorf("start %v, head %v, first body byte %v, end %v out of order", resp.Start, resp.HeadAt, first, resp.EndAt)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name  string
		reply string
		close bool
		want  error
	}{
		{"bad status line", "HTP/1.1 200 OK\r\n\r\n", true, ErrMalformed},
		{"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", true, ErrMalformed},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", true, ErrMalformed},
		{"chunk longer than announced", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", true, ErrMalformed},
		{"truncated chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true, io.ErrUnexpectedEOF},
		{"short Content-Length body", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", true, io.ErrUnexpectedEOF},
		{"closed before responding", "", true, io.EOF},
		{"silent server", "", false, os.ErrDeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := serve(t, tc.close, step{write: tc.reply})
			req := Request{Method: "GET", Target: "/", Header: Header{{"Host", "test"}}}.Bytes()
			c, resp, err := Exchange(addr, req, "GET", time.Now().Add(300*time.Millisecond))
			if c != nil {
				defer c.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if resp != nil && resp.Complete {
				t.Errorf("response marked complete despite %v", err)
			}
		})
	}
}

func TestDrainSeesClose(t *testing.T) {
	addr, _ := serve(t, true, step{write: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabEXTRA"})
	c, resp, err := exchange(t, addr, "GET")
	if err != nil || string(resp.Body) != "ab" {
		t.Fatalf("%v %v", resp, err)
	}
	extra, closed, err := c.Drain(time.Now().Add(2 * time.Second))
	if err != nil || !closed || string(extra) != "EXTRA" {
		t.Errorf("extra %q closed %v err %v", extra, closed, err)
	}
}

func TestTranscriptTrimsAndEscapes(t *testing.T) {
	body := strings.Repeat("x", 5000)
	addr, _ := serve(t, false, step{write: "HTTP/1.1 200 OK\r\nContent-Length: 5002\r\n\r\n\x00\xff" + body})
	c, _, err := exchange(t, addr, "GET")
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Transcript()
	for _, want := range []string{"> GET / HTTP/1.1\\r\\n\n", "< HTTP/1.1 200 OK\\r\\n\n", `\x00\xff`, "bytes omitted"} {
		if !strings.Contains(tr, want) {
			t.Errorf("transcript lacks %q:\n%s", want, tr)
		}
	}
	if len(tr) > 3000 {
		t.Errorf("transcript of a 5 KB body is %d bytes; want it trimmed", len(tr))
	}
}

// TestReplayLineReproducesBytes runs the replay line's producer half through sh and checks it
// emits exactly the request's bytes: every byte value, quotes, percent signs and a long run.
func TestReplayLineReproducesBytes(t *testing.T) {
	var req []byte
	req = append(req, "GET /a%20b?q='x' HTTP/1.1\r\nX-Big: "...)
	req = append(req, bytes.Repeat([]byte("a"), 5000)...)
	req = append(req, "\r\n\r\n"...)
	for i := 0; i < 256; i++ {
		req = append(req, byte(i))
	}
	req = append(req, make([]byte, 100)...)
	line := ReplayLine("127.0.0.1:8080", req)
	producer, ok := strings.CutSuffix(line, " | nc 127.0.0.1 8080")
	if !ok {
		t.Fatalf("replay line does not pipe to nc: %s", line)
	}
	if len(line) > 3000 {
		t.Errorf("replay line is %d bytes; the 5000-byte run should be generated, not spelled out", len(line))
	}
	out, err := exec.Command("sh", "-c", producer).Output()
	if err != nil {
		t.Fatalf("%s: %v", producer, err)
	}
	if !bytes.Equal(out, req) {
		t.Errorf("replayed %d bytes differ from the %d-byte request\n%s", len(out), len(req), producer)
	}
}

func TestAbortResetsConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	result := make(chan error, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			result <- err
			return
		}
		defer s.Close()
		time.Sleep(100 * time.Millisecond)
		_, err = s.Read(make([]byte, 1))
		result <- err
	}()
	c, err := Dial(ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := <-result; !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("server read after abort: %v, want a reset", err)
	}
}

func TestReadCaps(t *testing.T) {
	small := readcap.Limits{StatusLine: 100, Head: 1000, Fields: 10, Body: 100 << 10}
	cases := append(readcaptest.Responses[:len(readcaptest.Responses):len(readcaptest.Responses)],
		readcaptest.Endless{Name: "endless chunk size line", Head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Repeat: "0", Cap: "chunk size line"})
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			c, err := Dial(readcaptest.Serve(t, tc.Head, tc.Repeat), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Limits = small
			if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: test\r\n\r\n"), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			resp, err := c.ReadResponse("GET", time.Now().Add(5*time.Second))
			var ex *readcap.Exceeded
			if !errors.As(err, &ex) || ex.Cap != tc.Cap {
				t.Fatalf("error %v, want the %s cap exceeded", err, tc.Cap)
			}
			if !strings.Contains(err.Error(), "(the client's cap)") {
				t.Errorf("message %q does not name the cap", err)
			}
			if resp != nil && int64(len(resp.Body)) > small.Body {
				t.Errorf("kept %d body bytes past the %d-byte cap", len(resp.Body), small.Body)
			}
			if tr := c.Transcript(); len(tr) > maxTranscript+200 {
				t.Errorf("transcript of %d bytes", len(tr))
			}
		})
	}
}

// TestEndlessBodyKeepsLittle reads an endless body to the default cap and checks the connection
// keeps the body once (the transcript's copy of the received bytes stops at keepReceived), and
// that the arrival record stays small.
func TestEndlessBodyKeepsLittle(t *testing.T) {
	c, err := Dial(readcaptest.Serve(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "10\r\n0123456789abcdef\r\n"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: test\r\n\r\n"), time.Now().Add(time.Second))
	resp, err := c.ReadResponse("GET", time.Now().Add(20*time.Second))
	if !errors.Is(err, readcap.ErrExceeded) {
		t.Fatalf("error %v, want the body cap", err)
	}
	if int64(len(resp.Body)) != c.Limits.Body || len(resp.Pieces) > maxPieces {
		t.Errorf("%d body bytes in %d pieces; want the %d-byte cap in at most %d", len(resp.Body), len(resp.Pieces), c.Limits.Body, maxPieces)
	}
	var kept int
	for _, e := range c.Events() {
		kept += len(e.Data)
	}
	if kept > keepReceived+1<<10 || len(c.Events()) > 100000 {
		t.Errorf("%d events keeping %d bytes; want at most %d bytes", len(c.Events()), kept, keepReceived)
	}
	if last := resp.ArrivalOfBody(len(resp.Body) - 1); last.IsZero() {
		t.Error("no arrival time for the last body byte")
	}
	if !strings.Contains(c.Transcript(), "not kept") {
		t.Error("the transcript does not say that bytes were not kept")
	}
}

// TestTLSDialWaitsLikeTCP: a TLS server that serves one connection at a time (a sync worker) is
// dialled twice before either request is sent. The second dial must succeed at once, as a plain
// connect does from the backlog, and its request be answered once the first is done: a
// handshake made in DialTLS waited for a free worker and timed out.
func TestTLSDialWaitsLikeTCP(t *testing.T) {
	cert, err := tls.X509KeyPair(testcert.PEM(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// One connection at a time: handshake, hold the worker, answer, close.
			c.SetDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(c)
			for line, err := br.ReadString('\n'); err == nil && line != "\r\n"; line, err = br.ReadString('\n') {
			}
			time.Sleep(300 * time.Millisecond)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	var conns []*Conn
	for i := 0; i < 2; i++ {
		c, err := DialTLS(addr, 200*time.Millisecond)
		if err != nil {
			t.Fatalf("dial %d: %v", i+1, err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		deadline := time.Now().Add(3 * time.Second)
		if _, err := c.Write(Request{Method: "GET", Target: "/", Header: Header{{Name: "Host", Value: addr}}}.Bytes(), deadline); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	for i, c := range conns {
		resp, err := c.ReadResponse("GET", time.Now().Add(3*time.Second))
		if err != nil || string(resp.Body) != "ok" {
			t.Errorf("response %d: %v", i+1, err)
		}
	}
}
