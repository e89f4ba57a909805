//go:build cgo && gateway

package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	certFile, keyFile := selfSigned(t, t.TempDir())
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

func selfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}
