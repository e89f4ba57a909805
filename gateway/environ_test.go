//go:build cgo && gateway

package gateway

import (
	"reflect"
	"strings"
	"testing"
)

type environReport struct {
	Type           string            `json:"type"`
	StrKeys        bool              `json:"str_keys"`
	CGI            map[string]string `json:"cgi"`
	CGITypes       []string          `json:"cgi_types"`
	WSGI           map[string]string `json:"wsgi"`
	HasFileWrapper bool              `json:"has_file_wrapper"`
}

func TestEnvironHoldsEveryCGIKeyAsNativeStrings(t *testing.T) {
	ts := startGateway(t, 4, testApp("application"))
	c := dial(t, ts.addr)
	_, body := c.do("POST /environ?a=1&b=%20 HTTP/1.1\r\nHost: example.test:81\r\nContent-Type: text/plain\r\n" +
		"Content-Length: 3\r\nX-Repeated: one\r\nX-Repeated: two\r\nX-Under_score: dropped\r\nX-Custom-Header: v\r\n\r\nabc")
	var env environReport
	decodeJSON(t, body, &env)
	if env.Type != "dict" || !env.StrKeys {
		t.Errorf("environ must be a dict with str keys; got type %s, str keys %v", env.Type, env.StrKeys)
	}
	if !reflect.DeepEqual(env.CGITypes, []string{"str"}) {
		t.Errorf("every CGI value must be a str; got types %v", env.CGITypes)
	}
	port := ts.addr[strings.LastIndexByte(ts.addr, ':')+1:]
	want := map[string]string{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/environ", "QUERY_STRING": "a=1&b=%20",
		"CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "3", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": port,
		"SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "example.test:81",
		"HTTP_X_REPEATED": "one, two", "HTTP_X_CUSTOM_HEADER": "v",
	}
	for k, v := range want {
		if got, ok := env.CGI[k]; !ok || got != v {
			t.Errorf("environ[%q]: expected %q, got %q (present: %v)", k, v, got, ok)
		}
	}
	for _, k := range []string{"HTTP_X_UNDER_SCORE", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		if v, ok := env.CGI[k]; ok {
			t.Errorf("environ must not hold %s (got %q)", k, v)
		}
	}
	if !strings.HasPrefix(env.CGI["SERVER_SOFTWARE"], "wsgispec-gateway/") {
		t.Errorf("SERVER_SOFTWARE: got %q", env.CGI["SERVER_SOFTWARE"])
	}
	wantWSGI := map[string]string{"wsgi.version": "(1, 0)", "wsgi.url_scheme": "'http'", "wsgi.multithread": "True",
		"wsgi.multiprocess": "False", "wsgi.run_once": "False", "wsgi.input_terminated": "True"}
	for k, v := range wantWSGI {
		if env.WSGI[k] != v {
			t.Errorf("environ[%q]: expected %s, got %s", k, v, env.WSGI[k])
		}
	}
	if !env.HasFileWrapper {
		t.Error("wsgi.file_wrapper must be provided")
	}
}

func TestEnvironTellsTheTruthAboutThreads(t *testing.T) {
	ts := startGateway(t, 1, testApp("application"))
	_, body := dial(t, ts.addr).do(get("/environ"))
	var env environReport
	decodeJSON(t, body, &env)
	if env.WSGI["wsgi.multithread"] != "False" {
		t.Errorf("with one thread wsgi.multithread must be False; got %s", env.WSGI["wsgi.multithread"])
	}
}

func TestEnvironServerProtocolIsWhatTheClientSent(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	resp := exchangeRaw(t, ts.addr, "GET /environ HTTP/1.0\r\n\r\n")
	if !strings.Contains(resp, `"SERVER_PROTOCOL": "HTTP/1.0"`) {
		t.Errorf("SERVER_PROTOCOL for an HTTP/1.0 request: expected HTTP/1.0, response was:\n%s", resp)
	}
}

// Bytes C3 A9 are "é" in UTF-8; PEP 3333 wants them as the two latin-1 characters U+00C3 U+00A9.
func TestEnvironDecodesPathAndHeadersAsLatin1(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	c := dial(t, ts.addr)
	var got struct{ Path, Header []int }
	_, body := c.do("GET /path/%C3%A9/\xc3\xa9 HTTP/1.1\r\nHost: t\r\n\r\n")
	decodeJSON(t, body, &got)
	if want := []int{'/', 'p', 'a', 't', 'h', '/', 0xC3, 0xA9, '/', 0xC3, 0xA9}; !reflect.DeepEqual(got.Path, want) {
		t.Errorf("PATH_INFO code points: expected %v, got %v", want, got.Path)
	}
	_, body = c.do("GET /path HTTP/1.1\r\nHost: t\r\nX-Bytes: caf\xc3\xa9\r\n\r\n")
	decodeJSON(t, body, &got)
	if want := []int{'c', 'a', 'f', 0xC3, 0xA9}; !reflect.DeepEqual(got.Header, want) {
		t.Errorf("HTTP_X_BYTES code points: expected %v, got %v", want, got.Header)
	}
}

func TestMountSplitsScriptNameAndPathInfo(t *testing.T) {
	app := testApp("application")
	app.Mount = "/mnt/sub"
	ts := startGateway(t, 2, app)
	c := dial(t, ts.addr)
	for path, want := range map[string][2]string{
		"/mnt/sub/environ": {"/mnt/sub", "/environ"},
		"/mnt/sub":         {"/mnt/sub", ""},
	} {
		var env environReport
		_, body := c.do(get(path))
		if path == "/mnt/sub" {
			if !strings.Contains(body, "no route") {
				t.Errorf("%s: expected the app's own 404 for an empty PATH_INFO, got %s", path, body)
			}
			continue
		}
		decodeJSON(t, body, &env)
		if env.CGI["SCRIPT_NAME"] != want[0] || env.CGI["PATH_INFO"] != want[1] {
			t.Errorf("%s: expected SCRIPT_NAME %q PATH_INFO %q, got %q %q", path, want[0], want[1], env.CGI["SCRIPT_NAME"], env.CGI["PATH_INFO"])
		}
	}
	if resp, _ := c.do(get("/mnt/subway")); resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("/mnt/subway is outside the mount: expected the gateway's 404, got %d", resp.StatusCode)
	}
}
