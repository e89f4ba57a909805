//go:build cgo && gateway

package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every request here runs through wsgiref.validate.validator with its warnings made errors:
// the validator must find nothing wrong with how the gateway calls the app.
func TestValidatorFindsNothingWrong(t *testing.T) {
	ts := startGateway(t, 2, AppConfig{Dir: "testdata/app", Module: "validated"})
	c := dial(t, ts.addr)
	for _, req := range []string{
		get("/environ"), post("/input?read-n", "abcdefghij"), post("/input?readline", "a\nb\n"),
		post("/input?readlines", "a\nb\n"), post("/input?iter", "a\nb\n"), get("/errors"),
		get("/lazy"), get("/write"), get("/length?single"), get("/length?generator"),
		"HEAD /length?single HTTP/1.1\r\nHost: t\r\n\r\n", get("/file?10"),
		"POST /input?read-n HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	} {
		if resp, body := c.do(req); resp.StatusCode != 200 {
			t.Errorf("%s: the validator objected (status %d): %s", firstLine(req), resp.StatusCode, body)
		}
	}
	if log := ts.log(t); strings.Contains(log, "Traceback") || strings.Contains(log, "Warning") {
		t.Errorf("the validator reported problems:\n%s", log)
	}
}

func TestFlaskAppAloneAndMountedBesideAnAppWithTheSameModuleName(t *testing.T) {
	alone := startGateway(t, 2, AppConfig{Dir: "testdata/flaskhello", Module: "wsgi"})
	if resp, body := dial(t, alone.addr).do(get("/")); resp.StatusCode != 200 || body != "Hello from Flask" {
		t.Errorf("Flask alone: got %d %q", resp.StatusCode, body)
	}
	both := startGateway(t, 2,
		AppConfig{Dir: "testdata/flaskhello", Module: "wsgi", Mount: "/flask"},
		AppConfig{Dir: "testdata/other", Module: "wsgi", Mount: "/other"})
	c := dial(t, both.addr)
	for path, want := range map[string]string{
		"/flask/":      "Hello from Flask",
		"/flask/where": `{"path":"/where","script_root":"/flask"}`,
		"/other/":      "other wsgi.py",
	} {
		if resp, body := c.do(get(path)); resp.StatusCode != 200 || strings.TrimSpace(body) != want {
			t.Errorf("%s: expected %q, got %d %q", path, want, resp.StatusCode, body)
		}
	}
}

func TestDebugReloadReplacesTheInterpreter(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) {
		src := "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'" + text + "']\n"
		if err := os.WriteFile(filepath.Join(dir, "reloadme.py"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	ts := startGateway(t, 2, AppConfig{Dir: dir, Module: "reloadme", Debug: true})
	c := dial(t, ts.addr)
	if _, body := c.do(get("/")); body != "first" {
		t.Fatalf("expected first, got %q", body)
	}
	write("second")
	waitFor(t, "the new code to be served", func() bool {
		_, body := c.do(get("/"))
		return body == "second"
	})
	if !strings.Contains(ts.log(t), "reloaded") {
		t.Error("the reload must be logged")
	}
}

func TestASGIAppThroughTheAdapter(t *testing.T) {
	ts := startGateway(t, 2, AppConfig{Dir: "testdata/asgiapp", Module: "asgiapp", Callable: "app",
		Protocol: ProtocolASGI, Mount: "/asgi"})
	resp, body := dial(t, ts.addr).do("POST /asgi/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n")
	if resp.StatusCode != 200 || body != "path=/asgi/echo;root=/asgi;body=abcdef" {
		t.Errorf("ASGI echo: got %d %q", resp.StatusCode, body)
	}
	if len(resp.TransferEncoding) == 0 {
		t.Error("the ASGI response body must stream (chunked), not be buffered whole")
	}
	ts.srv.Shutdown(t.Context())
	b, _ := os.ReadFile(filepath.Join(ts.dir, "lifespan"))
	if string(b) != "startup\nshutdown\n" {
		t.Errorf("lifespan events: expected startup then shutdown, got %q", b)
	}
}

func TestLoadErrorsAreReported(t *testing.T) {
	_, err := New(Config{Server: ServerConfig{Log: filepath.Join(t.TempDir(), "log")},
		Apps: []AppConfig{{Dir: "testdata/app", Module: "gwtest", Callable: "missing"}}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "has no attribute 'missing'") {
		t.Errorf("a missing callable must be a clear load error, got %v", err)
	}
	_, err = New(Config{Apps: []AppConfig{{Dir: "testdata/nope", Module: "x"}}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing directory must be a clear error, got %v", err)
	}
}

// _asyncio caches the running loop per thread-state number; with numbers repeated across
// interpreters, a WSGI app would see the event loop of an ASGI app's adapter thread (Django then
// refuses every database call). Interpreters get disjoint numbers, so it sees none.
func TestNoEventLoopLeaksBetweenInterpreters(t *testing.T) {
	ts := startGateway(t, 1,
		AppConfig{Dir: "testdata/asgiapp", Module: "asgiapp", Callable: "app", Protocol: ProtocolASGI, Mount: "/asgi"},
		AppConfig{Dir: "testdata/other", Module: "loopcheck", Mount: "/wsgi"})
	c := dial(t, ts.addr)
	for range 3 {
		c.do(get("/asgi/x"))
		if _, body := c.do(get("/wsgi/")); body != "None" {
			t.Fatalf("a WSGI app's thread sees a running event loop: %s", body)
		}
	}
}
