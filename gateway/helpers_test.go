//go:build cgo && gateway

package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testServer is a gateway started in the test process on a free loopback port.
type testServer struct {
	addr   string
	logPth string
	dir    string // the app's record directory (GWTEST_DIR)
	srv    *Server
}

// startGateway serves the given apps; the test app's record directory and the log file live in
// the test's temp dir. Python is one per process, so every test shares it but gets its own
// sub-interpreters.
func startGateway(t *testing.T, threads int, apps ...AppConfig) *testServer {
	t.Helper()
	return startConfigured(t, ServerConfig{Threads: threads}, apps...)
}

// startConfigured is startGateway with any server settings (its Listen and Log are the test's).
func startConfigured(t *testing.T, sc ServerConfig, apps ...AppConfig) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{logPth: filepath.Join(dir, "gateway.log"), dir: dir}
	for i := range apps {
		if apps[i].Env == nil {
			apps[i].Env = map[string]string{}
		}
		apps[i].Env["GWTEST_DIR"] = dir
	}
	sc.Listen, sc.Log = "127.0.0.1:0", ts.logPth
	cfg := Config{Server: sc, Apps: apps}
	srv, err := New(cfg, Options{PyAppsDir: "../pyapps"})
	if err != nil {
		t.Fatalf("gateway did not start: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr, ts.srv = ln.Addr().String(), srv
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ts
}

func testApp(callable string) AppConfig {
	return AppConfig{Dir: "testdata/app", Module: "gwtest", Callable: callable}
}

// exchangeRaw sends raw bytes on a new connection and returns everything the server sent
// until it closed the connection or the deadline passed.
func exchangeRaw(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// conn is a keep-alive client connection that reads responses with net/http's parser.
type conn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &conn{t: t, c: c, br: newReader(c)}
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// do sends a raw request and reads one response with its whole body.
func (c *conn) do(raw string) (*http.Response, string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, raw); err != nil {
		c.t.Fatal(err)
	}
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading the response to %q: %v", firstLine(raw), err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading the body of %q: %v (got %d bytes)", firstLine(raw), err, len(body))
	}
	return resp, string(body)
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\r\n"); return l }

func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"
}

func post(path, body string) string {
	return "POST " + path + " HTTP/1.1\r\nHost: test\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
}

func itoa(n int) string { return strconv.Itoa(n) }

func decodeJSON(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, body)
	}
}

func (ts *testServer) log(t *testing.T) string {
	t.Helper()
	ts.srv.log.Flush()
	b, err := os.ReadFile(ts.logPth)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFor polls cond for up to 5 s (for effects that land after the response, such as close()).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
