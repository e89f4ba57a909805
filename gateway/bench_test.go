//go:build cgo && gateway

package gateway

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// BenchmarkServeHello measures the gateway's own request path (environ, the app call, the
// response) without the network: what a hello-world request costs on top of net/http.
func BenchmarkServeHello(b *testing.B) {
	srv, err := New(Config{Server: ServerConfig{Threads: 1, Log: filepath.Join(b.TempDir(), "log")},
		Apps: []AppConfig{{Dir: "testdata/app", Module: "gwtest", Callable: "hello"}}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ci := &connInfo{conn: &countingConn{}, serverName: "127.0.0.1", serverPort: "80", remoteAddr: "127.0.0.1", remotePort: "5000"}
	req := httptest.NewRequest("GET", "/hello?x=1", nil)
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Accept", "*/*")
	req = req.WithContext(contextWithConnInfo(req.Context(), ci))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkServeHelloParallel is the same path with requests arriving on many goroutines, as
// connections do: the GIL and the thread states then move between OS threads.
func BenchmarkServeHelloParallel(b *testing.B) {
	srv, err := New(Config{Server: ServerConfig{Threads: benchThreads, Log: filepath.Join(b.TempDir(), "log")},
		Apps: []AppConfig{{Dir: "testdata/app", Module: "gwtest", Callable: "hello"}}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ci := &connInfo{conn: &countingConn{}, serverName: "127.0.0.1", serverPort: "80", remoteAddr: "127.0.0.1", remotePort: "5000"}
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/hello?x=1", nil)
		req = req.WithContext(contextWithConnInfo(req.Context(), ci))
		for pb.Next() {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
		}
	})
}

var benchThreads = 8
