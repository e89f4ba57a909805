package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wsgispec/wsgispec/internal/readcap"
)

// TestReferenceAnswersTheScenarios: the reference server gives every built-in scenario the status
// and bytes the scenario requires.
func TestReferenceAnswersTheScenarios(t *testing.T) {
	srv := httptest.NewServer(ReferenceHandler())
	defer srv.Close()
	c := newClient(maxClientConnections, readcap.Defaults)
	defer c.close()
	for _, name := range ScenarioNames() {
		sc := scenarios[name]
		req, _ := http.NewRequest(sc.Method, srv.URL+sc.Path, bytes.NewReader(sc.Body))
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != sc.Status || (sc.Response != nil && !bytes.Equal(body, sc.Response)) {
			t.Errorf("reference, scenario %s: status %d with %d bytes, want %d with %d bytes", name, resp.StatusCode, len(body), sc.Status, len(sc.Response))
		}
	}
}

// TestBenchAppMatchesTheReference calls pyapps/bench/benchapp.py's routes directly in Python and
// compares what they answer (status, Content-Length, body) with the Go side's payloads.
func TestBenchAppMatchesTheReference(t *testing.T) {
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skip("no " + python)
	}
	dir, err := filepath.Abs("../pyapps/bench")
	if err != nil {
		t.Fatal(err)
	}
	const call = `
import hashlib, io, sys, benchapp
for line in sys.stdin:
    method, path, body = line.split()
    body = bytes.fromhex(body) if body != "-" else b""
    out, seen = [], {}
    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)
        return out.append
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body)}
    out.extend(benchapp.application(environ, start_response))
    data = b"".join(out)
    print(path, seen["status"].split()[0], seen["headers"].get("Content-Length"), len(data), hashlib.sha256(data).hexdigest())
`
	var in, want strings.Builder
	for _, name := range ScenarioNames() {
		sc := scenarios[name]
		if sc.AppDir != "bench" {
			continue
		}
		body := "-"
		if sc.Body != nil {
			body = hex.EncodeToString(sc.Body)
		}
		in.WriteString(sc.Method + " " + sc.Path + " " + body + "\n")
		sum := sha256.Sum256(sc.Response)
		want.WriteString(strings.Join([]string{sc.Path, "200", strconv.Itoa(len(sc.Response)), strconv.Itoa(len(sc.Response)), hex.EncodeToString(sum[:])}, " ") + "\n")
	}
	cmd := exec.Command(python, "-c", call)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running benchapp.py: %v\n%s", err, out)
	}
	if string(out) != want.String() {
		t.Errorf("benchapp.py answers (path status content-length bytes sha256):\n%s\nthe Go payloads are:\n%s", out, want.String())
	}
}
