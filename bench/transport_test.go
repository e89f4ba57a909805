package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/wsgispec/wsgispec/internal/procstat"
	"github.com/wsgispec/wsgispec/internal/readcap"
	"github.com/wsgispec/wsgispec/internal/readcap/readcaptest"
)

// rawServer is a TCP server whose answers the test writes byte by byte.
type rawServer struct {
	url      string
	accepted atomic.Int32
}

// newRawServer serves every connection with answer, called once per request read (parsed by
// net/http, which so checks what the transport writes); answer returns false to close the
// connection.
func newRawServer(t *testing.T, answer func(w *bufio.Writer, req *http.Request, body []byte) (keepOpen bool)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{url: "http://" + ln.Addr().String()}
	var conns sync.WaitGroup
	t.Cleanup(func() { ln.Close(); conns.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			conns.Go(func() {
				defer c.Close()
				r, w := bufio.NewReader(c), bufio.NewWriter(c)
				for {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					body, err := io.ReadAll(req.Body)
					if err != nil {
						return
					}
					keepOpen := answer(w, req, body)
					if w.Flush() != nil || !keepOpen {
						return
					}
				}
			})
		}
	}()
	return s
}

// roundTrip sends method to url through tr and returns the response and its body read to the end.
func roundTrip(t *testing.T, tr http.RoundTripper, method, url string, body []byte) (*http.Response, []byte, error) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	return resp, got, err
}

func mustRoundTrip(t *testing.T, tr http.RoundTripper, method, url string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, got, err := roundTrip(t, tr, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp, got
}

func TestTransportContentLengthAndKeepAlive(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(ReferenceHandler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	tr := newKeepAliveTransport(4, time.Second, readcap.Defaults)
	defer tr.CloseIdleConnections()
	for range 20 {
		resp, body := mustRoundTrip(t, tr, http.MethodGet, srv.URL+"/hello", nil)
		if resp.StatusCode != 200 || resp.Status != "200 OK" || resp.ContentLength != int64(len(helloBody)) || !bytes.Equal(body, helloBody) {
			t.Fatalf("got %q, length %d, body %q", resp.Status, resp.ContentLength, body)
		}
	}
	resp, body := mustRoundTrip(t, tr, http.MethodGet, srv.URL+"/stream", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, streamBody) {
		t.Fatalf("stream: status %d, %d bytes", resp.StatusCode, len(body))
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("21 sequential requests opened %d connections, want 1 kept alive", n)
	}
}

func TestTransportRequestBodies(t *testing.T) {
	type seen struct {
		method, length string
		body           []byte
	}
	got := make(chan seen, 1)
	srv := newRawServer(t, func(w *bufio.Writer, req *http.Request, body []byte) bool {
		got <- seen{req.Method, req.Header.Get("Content-Length"), body}
		w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
		w.Write(body)
		return true
	})
	tr := newKeepAliveTransport(1, time.Second, readcap.Defaults)
	defer tr.CloseIdleConnections()
	for _, tc := range []struct {
		method     string
		body       []byte
		wantLength string
	}{
		{http.MethodPost, echoBody, "4096"},
		{http.MethodPost, nil, "0"}, // a POST says it has no body
		{http.MethodGet, nil, ""},
		{http.MethodPost, postBody, strconv.Itoa(len(postBody))},
	} {
		_, echoed := mustRoundTrip(t, tr, tc.method, srv.url+"/echo", tc.body)
		s := <-got
		if s.method != tc.method || s.length != tc.wantLength || !bytes.Equal(s.body, tc.body) || !bytes.Equal(echoed, tc.body) {
			t.Errorf("%s with %d bytes: server saw %s, Content-Length %q, %d bytes; echoed %d", tc.method, len(tc.body), s.method, s.length, len(s.body), len(echoed))
		}
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestTransportChunkedBody(t *testing.T) {
	srv := newRawServer(t, func(w *bufio.Writer, _ *http.Request, _ []byte) bool {
		w.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5;name=value\r\nhello\r\n" + "7\r\n, world\r\n" + "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")
		return true
	})
	tr := newKeepAliveTransport(1, time.Second, readcap.Defaults)
	defer tr.CloseIdleConnections()
	for range 3 { // the same connection: the trailers were read to their end
		resp, body := mustRoundTrip(t, tr, http.MethodGet, srv.url, nil)
		if string(body) != "hello, world" || resp.ContentLength != -1 || resp.Close {
			t.Fatalf("body %q, length %d, close %v", body, resp.ContentLength, resp.Close)
		}
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// The body ends when the server closes the connection: no length and no chunking, or HTTP/1.0.
// The requests are POSTs, which are not sent again: a connection wrongly kept would fail them.
func TestTransportCloseDelimitedBody(t *testing.T) {
	for _, head := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", // not chunked last
	} {
		srv := newRawServer(t, func(w *bufio.Writer, _ *http.Request, _ []byte) bool {
			w.WriteString(head)
			w.Write(writeBody)
			return false
		})
		tr := newKeepAliveTransport(1, time.Second, readcap.Defaults)
		for range 2 {
			resp, body := mustRoundTrip(t, tr, http.MethodPost, srv.url, postBody)
			if !bytes.Equal(body, writeBody) || !resp.Close {
				t.Fatalf("%q: %d bytes, close %v; want %d bytes and close", head, len(body), resp.Close, len(writeBody))
			}
		}
		if n := srv.accepted.Load(); n != 2 {
			t.Errorf("%q: %d connections for 2 requests, want 2", head, n)
		}
	}
}

func TestTransportConnectionClose(t *testing.T) {
	srv := newRawServer(t, func(w *bufio.Writer, _ *http.Request, _ []byte) bool {
		w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive, Close\r\n\r\nok")
		return false
	})
	// One connection: a leaked slot would block. POSTs: a connection wrongly kept would fail them.
	tr := newKeepAliveTransport(1, time.Second, readcap.Defaults)
	for range 3 {
		resp, body := mustRoundTrip(t, tr, http.MethodPost, srv.url, postBody)
		if string(body) != "ok" || !resp.Close {
			t.Fatalf("body %q, close %v", body, resp.Close)
		}
	}
	if n := srv.accepted.Load(); n != 3 {
		t.Errorf("%d connections for 3 requests answered with Connection: close, want 3", n)
	}
}

// The server ends the connection part-way through the body: an error, at once.
func TestTransportServerClosesMidBody(t *testing.T) {
	for name, answer := range map[string]string{
		"content-length": "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b",
		"chunked":        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nonly ten b\r\n64\r\nshort",
		"trailers":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Cut: off",
		"head":           "HTTP/1.1 200 OK\r\nContent-Len",
	} {
		srv := newRawServer(t, func(w *bufio.Writer, _ *http.Request, _ []byte) bool {
			w.WriteString(answer)
			return false
		})
		tr := newKeepAliveTransport(1, 5*time.Second, readcap.Defaults)
		start := time.Now()
		_, _, err := roundTrip(t, tr, http.MethodGet, srv.url, nil)
		if err == nil || time.Since(start) > time.Second {
			t.Errorf("%s: error %v after %v, want an error at once", name, err, time.Since(start))
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: error %v, want an unexpected EOF", name, err)
		}
		// The slot of the broken connection is free again.
		if _, _, err := roundTrip(t, tr, http.MethodGet, srv.url, nil); err == nil || time.Since(start) > 2*time.Second {
			t.Errorf("%s: second request: error %v after %v", name, err, time.Since(start))
		}
	}
}

func TestTransportResponsesWithoutBody(t *testing.T) {
	srv := newRawServer(t, func(w *bufio.Writer, req *http.Request, _ []byte) bool {
		switch req.URL.Path {
		case "/head": // a HEAD response announces the length of the body a GET would get
			w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
		case "/204":
			w.WriteString("HTTP/1.1 204 No Content\r\n\r\n")
		case "/304":
			w.WriteString("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")
		case "/interim":
			w.WriteString("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
				"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone")
		default:
			w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter")
		}
		return true
	})
	tr := newKeepAliveTransport(1, time.Second, readcap.Defaults)
	defer tr.CloseIdleConnections()
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodHead, "/head", 200, ""},
		{http.MethodGet, "/", 200, "after"},
		{http.MethodGet, "/204", 204, ""},
		{http.MethodGet, "/", 200, "after"},
		{http.MethodGet, "/304", 304, ""},
		{http.MethodGet, "/interim", 201, "done"},
		{http.MethodGet, "/", 200, "after"},
	} {
		resp, body := mustRoundTrip(t, tr, tc.method, srv.url+tc.path, nil)
		if resp.StatusCode != tc.status || string(body) != tc.body {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1: a response without a body leaves the connection in step", n)
	}
}

// silentServer accepts connections and never answers on them.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestTransportTimeout(t *testing.T) {
	url := silentServer(t)
	tr := newKeepAliveTransport(1, 200*time.Millisecond, readcap.Defaults)
	start := time.Now()
	_, _, err := roundTrip(t, tr, http.MethodGet, url, nil)
	if elapsed := time.Since(start); !errors.Is(err, os.ErrDeadlineExceeded) || elapsed > time.Second {
		t.Errorf("error %v after %v, want a timeout after 200ms", err, elapsed)
	}

	// The context is cancelled while the server is silent.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	tr = newKeepAliveTransport(1, 10*time.Second, readcap.Defaults)
	start = time.Now()
	if _, err := tr.RoundTrip(req); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("cancelled: error %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

// With every connection busy, a request waits for one, and no longer than its timeout.
func TestTransportConnectionLimit(t *testing.T) {
	var open, most atomic.Int32
	release := make(chan struct{})
	srv := newRawServer(t, func(w *bufio.Writer, req *http.Request, _ []byte) bool {
		n := open.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if req.URL.Path == "/slow" {
			<-release
		}
		open.Add(-1)
		w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return true
	})
	tr := newKeepAliveTransport(2, time.Second, readcap.Defaults)
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				if _, _, err := roundTrip(t, tr, http.MethodGet, srv.url, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := srv.accepted.Load(); n != 2 || most.Load() > 2 {
		t.Errorf("%d connections, %d requests at once; want 2 and at most 2", n, most.Load())
	}

	// Both connections held by requests the server does not answer yet: a third gives up at
	// its deadline.
	tr = newKeepAliveTransport(2, 5*time.Second, readcap.Defaults)
	defer tr.CloseIdleConnections()
	for range 2 {
		wg.Go(func() { mustRoundTrip(t, tr, http.MethodGet, srv.url+"/slow", nil) })
	}
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.url, nil)
	start := time.Now()
	_, err := tr.RoundTrip(req)
	if elapsed := time.Since(start); err == nil || elapsed < 150*time.Millisecond || elapsed > time.Second {
		t.Errorf("a request with every connection busy: error %v after %v, want one after 200ms", err, elapsed)
	}
	close(release)
	wg.Wait()
}

// A kept-alive connection the server has closed in the meantime: a GET is sent again on a new
// connection, a POST fails (it may have been acted on).
func TestTransportServerClosedIdleConnection(t *testing.T) {
	srv := newRawServer(t, func(w *bufio.Writer, _ *http.Request, _ []byte) bool {
		w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false // and closes without saying so
	})
	tr := newKeepAliveTransport(1, time.Second, readcap.Defaults)
	defer tr.CloseIdleConnections()
	for range 3 {
		mustRoundTrip(t, tr, http.MethodGet, srv.url, nil)
		time.Sleep(20 * time.Millisecond) // the server's close arrives
	}
	if n := srv.accepted.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
	_, _, err := roundTrip(t, tr, http.MethodPost, srv.url, []byte("x"))
	if !errors.Is(err, errClosedBeforeResponse) {
		t.Errorf("POST on a connection the server closed: error %v, want %v", err, errClosedBeforeResponse)
	}
}

func TestTransportMalformedResponses(t *testing.T) {
	for _, answer := range []string{
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20x OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
	} {
		srv := newRawServer(t, func(w *bufio.Writer, _ *http.Request, _ []byte) bool {
			w.WriteString(answer)
			return true
		})
		tr := newKeepAliveTransport(1, time.Second, readcap.Defaults)
		if _, _, err := roundTrip(t, tr, http.MethodGet, srv.url, nil); err == nil {
			t.Errorf("%q: no error", answer)
		}
		tr.CloseIdleConnections()
	}
}

// TestClientRunsEveryScenario runs vegeta through the client against the reference handler,
// one short closed attack per scenario.
func TestClientRunsEveryScenario(t *testing.T) {
	srv := httptest.NewServer(ReferenceHandler())
	defer srv.Close()
	c := newClient(4, readcap.Defaults)
	defer c.close()
	for _, name := range ScenarioNames() {
		sc := scenarios[name]
		target := vegeta.Target{Method: sc.Method, URL: srv.URL + sc.Path, Body: sc.Body}
		a := attack{name: name, target: target, model: Closed, concurrency: 4, duration: 100 * time.Millisecond, keepResults: true}
		m, err := c.run(context.Background(), a, procstat.System, os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if m.Requests == 0 || m.Success != 1 || len(m.results) != int(m.Requests) {
			t.Errorf("%s: %v requests, success %v, %d results kept; warnings %v", name, m.Requests, m.Success, len(m.results), m.warnings)
		}
	}
}

// helloServer answers every request on a connection with the hello scenario's response,
// reading only each request's head: a server that allocates nothing per request, so that a
// benchmark's allocations are the client's.
func helloServer(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	response := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) <= 2 { // the empty line ending a request's head
						if _, err := c.Write(response); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/hello"
}

// BenchmarkTransport compares the bench's transport with net/http's (configured as the bench's
// was before), through http.Client as vegeta calls it, 16 clients at once as in the closed
// model: go test -run - -bench Transport -benchmem ./bench/
func BenchmarkTransport(b *testing.B) {
	url := helloServer(b)
	for _, tc := range []struct {
		name   string
		client *http.Client
	}{
		{"net-http", &http.Client{Transport: &http.Transport{MaxConnsPerHost: 16, MaxIdleConnsPerHost: 16, DisableCompression: true}, Timeout: requestTimeout}},
		{"keep-alive", newClient(16, readcap.Defaults).http},
	} {
		b.Run(tc.name, func(b *testing.B) {
			defer tc.client.CloseIdleConnections()
			b.SetParallelism(16 / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := tc.client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}

// TestTransportCaps: a response past each cap is an error of its request that names the cap,
// found without reading the rest (the server would send without end).
func TestTransportCaps(t *testing.T) {
	small := readcap.Limits{StatusLine: 100, Head: 1000, Fields: 10, Body: 64 << 10}
	cases := append(readcaptest.Responses[:len(readcaptest.Responses):len(readcaptest.Responses)],
		readcaptest.Endless{Name: "endless trailers", Head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", Repeat: "T: x\r\n", Cap: "trailer section"})
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			addr := readcaptest.Serve(t, tc.Head, tc.Repeat)
			tr := newKeepAliveTransport(1, 5*time.Second, small)
			defer tr.CloseIdleConnections()
			_, body, err := roundTrip(t, tr, "GET", "http://"+addr+"/", nil)
			var ex *readcap.Exceeded
			if !errors.As(err, &ex) || ex.Cap != tc.Cap {
				t.Fatalf("error %v, want the %s cap exceeded", err, tc.Cap)
			}
			if int64(len(body)) > small.Body {
				t.Errorf("read %d body bytes past the %d-byte cap", len(body), small.Body)
			}
		})
	}
	// A body of exactly the cap is fine.
	srv := newRawServer(t, func(w *bufio.Writer, _ *http.Request, _ []byte) bool {
		w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n")
		w.Write(make([]byte, 64<<10))
		return true
	})
	tr := newKeepAliveTransport(1, 5*time.Second, small)
	defer tr.CloseIdleConnections()
	if _, body := mustRoundTrip(t, tr, "GET", srv.url+"/", nil); len(body) != 64<<10 {
		t.Errorf("a body of the cap's size: %d bytes", len(body))
	}
}

// TestMeasureConnections: a server that serves one kept-alive connection at a time (as a
// one-process preforking server does) is measured as serving 1 of n, and the client policy
// keeps one connection; a server that serves every connection is measured as such.
func TestMeasureConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // one connection at a time, kept until the client closes it
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(c)
			for {
				req, err := http.ReadRequest(r)
				if err != nil {
					break
				}
				io.Copy(io.Discard, req.Body)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
			c.Close()
		}
	}()
	serial := vegeta.Target{Method: "GET", URL: "http://" + ln.Addr().String() + "/"}
	got, err := measureConnections(context.Background(), serial, 8, readcap.Defaults)
	if err != nil {
		t.Fatal(err)
	}
	if got.Opened != 8 || got.ServedAtOnce != 1 || clientConnections(got) != 1 {
		t.Errorf("one connection at a time: %+v (client keeps %d), want 1 of 8 served and 1 kept", got, clientConnections(got))
	}
	if want := "served 1 of 8 connections at once; requests queued in the client"; got.Policy() != want {
		t.Errorf("policy %q, want %q", got.Policy(), want)
	}

	srv := httptest.NewServer(ReferenceHandler())
	defer srv.Close()
	got, err = measureConnections(context.Background(), vegeta.Target{Method: "GET", URL: srv.URL + "/hello"}, 8, readcap.Defaults)
	if err != nil {
		t.Fatal(err)
	}
	if got.ServedAtOnce != 8 || clientConnections(got) != maxClientConnections {
		t.Errorf("a concurrent server: %+v (client keeps %d), want 8 of 8 and %d", got, clientConnections(got), maxClientConnections)
	}
}
