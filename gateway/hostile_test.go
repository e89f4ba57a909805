//go:build cgo && gateway

package gateway

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgispec/wsgispec/internal/testcert"
)

func TestRequestSmugglingIsRefused(t *testing.T) {
	ts := startGateway(t, 2, testApp("application"))
	for name, tc := range map[string]struct{ raw, status string }{
		"TE and CL": {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get("/environ"), "400"},
		"CL and TE": {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\ncontent-length: 4\r\n\r\n0\r\n\r\n" + get("/environ"), "400"},
		"two CLs":   {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde" + get("/environ"), "400"},
		"bad chunk": {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" + get("/environ"), "400"},
	} {
		resp := exchangeRaw(t, ts.addr, tc.raw)
		if !strings.HasPrefix(resp, "HTTP/1.1 "+tc.status) || strings.Count(resp, "HTTP/1.1 ") != 1 {
			t.Errorf("%s: expected one %s and the smuggled request never answered; got %q", name, tc.status, resp)
		}
	}
	// A chunked request without Content-Length keeps its connection.
	c := dial(t, ts.addr)
	if resp, body := c.do("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("plain chunked request: got %d %q", resp.StatusCode, body)
	}
	if resp, _ := c.do(get("/environ")); resp.StatusCode != 200 {
		t.Errorf("keep-alive after a chunked request: got %d", resp.StatusCode)
	}
}

func TestContentLengthLinesSplitAcrossReadsAreCounted(t *testing.T) {
	head := "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nX: y\r\n\r\n"
	for cut := 1; cut < len(head); cut++ {
		c := &countingConn{}
		c.scan([]byte(head[:cut]))
		c.scan([]byte(head[cut:]))
		if n := c.seen.Load(); n != 1 {
			t.Fatalf("cut at %d: counted %d Content-Length lines, want 1", cut, n)
		}
	}
}

func TestLimitsOnHeadersAndBodies(t *testing.T) {
	addr := startConfigured(t, ServerConfig{MaxBody: 1000, MaxHeaderBytes: 4096}, testApp("application")).addr
	big := strings.Repeat("a", 2000)
	for name, tc := range map[string]struct{ raw, status string }{
		"oversized headers":      {"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + strings.Repeat("h", 20000) + "\r\n\r\n", "431"},
		"declared body too big":  {post("/echo", big), "413"},
		"chunked body too big":   {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + big + "\r\n0\r\n\r\n", "413"},
		"body within the limits": {post("/echo", "fine"), "200"},
	} {
		if resp := exchangeRaw(t, addr, tc.raw+"GET /environ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(resp, "HTTP/1.1 "+tc.status) {
			t.Errorf("%s: expected %s, got %.120q", name, tc.status, resp)
		}
	}
}

func TestTimeoutAnswers504AndStopsThePythonThread(t *testing.T) {
	ts := startConfigured(t, ServerConfig{Timeout: NewDuration(500 * time.Millisecond), Threads: 2}, testApp("application"))
	start := time.Now()
	resp := exchangeRaw(t, ts.addr, get("/spin?5"))
	if !strings.HasPrefix(resp, "HTTP/1.1 504") || time.Since(start) > 3*time.Second {
		t.Errorf("expected a 504 soon after the 0.5 s timeout, got %.80q after %s", resp, time.Since(start))
	}
	waitFor(t, "RequestTimeout raised in the app", func() bool {
		b, _ := os.ReadFile(filepath.Join(ts.dir, "spin"))
		return strings.Contains(string(b), "RequestTimeout")
	})
	if resp := exchangeRaw(t, ts.addr, "GET /sleep?0 HTTP/1.0\r\n\r\n"); !strings.HasSuffix(resp, "slept") {
		t.Errorf("the gateway must keep serving after a timeout; got %q", resp)
	}
}

// An app stuck where RequestTimeout cannot reach it (time.sleep) still has its client answered
// and let go at the timeout: the 504 arrives, then the end of the connection, well before the
// app returns.
func TestTimeoutClosesTheConnectionWithoutWaitingForTheApp(t *testing.T) {
	ts := startConfigured(t, ServerConfig{Timeout: NewDuration(500 * time.Millisecond), Threads: 2}, testApp("application"))
	start := time.Now()
	resp := exchangeRaw(t, ts.addr, "GET /sleep?3 HTTP/1.1\r\nHost: t\r\n\r\n") // keep-alive: only the server ends it
	if took := time.Since(start); !strings.HasPrefix(resp, "HTTP/1.1 504") || took > 2*time.Second {
		t.Errorf("expected a 504 and the connection closed soon after the 0.5 s timeout, not when the app's 3 s sleep ends; got %.80q and EOF after %s",
			resp, took.Round(time.Millisecond))
	}
}

func TestForwardedHeadersOnlyFromTrustedProxies(t *testing.T) {
	raw := "GET /environ HTTP/1.1\r\nHost: t\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9, 198.51.100.7\r\n\r\n"
	for _, tc := range []struct {
		allow         []string
		remote, https string
	}{
		{[]string{"127.0.0.1"}, "198.51.100.7", "'https'"},
		{[]string{"10.0.0.0/8"}, "127.0.0.1", "'http'"},
	} {
		ts := startConfigured(t, ServerConfig{ForwardedAllowIPs: tc.allow}, testApp("application"))
		_, body := dial(t, ts.addr).do(raw)
		var env environReport
		decodeJSON(t, body, &env)
		if env.CGI["REMOTE_ADDR"] != tc.remote || env.WSGI["wsgi.url_scheme"] != tc.https {
			t.Errorf("allow %v: expected REMOTE_ADDR %s and scheme %s, got %s and %s", tc.allow, tc.remote, tc.https,
				env.CGI["REMOTE_ADDR"], env.WSGI["wsgi.url_scheme"])
		}
	}
}

func TestTLSServesHTTPS(t *testing.T) {
	certFile, keyFile := testcert.Files(t, t.TempDir())
	ts := startConfigured(t, ServerConfig{TLSCert: certFile, TLSKey: keyFile}, testApp("application"))
	tc, err := tls.Dial("tcp", ts.addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	c := &conn{t: t, c: tc}
	c.br = newReader(tc)
	_, body := c.do(get("/environ"))
	var env environReport
	decodeJSON(t, body, &env)
	if env.WSGI["wsgi.url_scheme"] != "'https'" || env.CGI["HTTPS"] != "on" {
		t.Errorf("over TLS: expected wsgi.url_scheme https and HTTPS=on, got %s and %q", env.WSGI["wsgi.url_scheme"], env.CGI["HTTPS"])
	}
}
