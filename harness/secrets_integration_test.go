package harness

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConformLeaksNoSecret runs conform on every installed built-in server (wsgiref among them
// copies its process environment into every request's environ) with secrets in wsgispec's
// environment, one passed to the servers with --pass-env and one not, and looks for them in every
// file a CI job would publish (JSON, JUnit, the HTML report) and in what wsgispec printed. (A
// transcript keeps the head and tail of a body, so whether the passed variable's key shows in one
// depends on the environ's order; the probe's and the harness's redaction of what does show are
// unit-tested: test_probe.py, TestRedactorRemovesSecretValuesInEveryForm.)
func TestConformLeaksNoSecret(t *testing.T) {
	wsgispecBin(t)
	if testing.Short() {
		t.Skip("runs every installed server")
	}
	stamp := time.Now().UnixNano()
	passed := fmt.Sprintf("ghp_passed%dXq", stamp)
	unpassed := fmt.Sprintf("hunter2-unpassed-%d", stamp)
	dir := t.TempDir()
	results, site := filepath.Join(dir, "results"), filepath.Join(dir, "site")
	os.Mkdir(results, 0o755)
	jsonPath, junitPath := filepath.Join(results, "conform.json"), filepath.Join(dir, "conform.xml")
	r := runWsgispec(t, []string{"WSGISPEC_TEST_SECRET_TOKEN=" + passed, "WSGISPEC_TEST_UNPASSED_PASSWORD=" + unpassed},
		"conform", "--server", "all", "--pass-env", "WSGISPEC_TEST_SECRET_TOKEN", "--json", jsonPath, "--junit", junitPath)
	if r.code == 2 {
		t.Fatalf("setup error:\n%s%s", r.stdout, r.stderr)
	}
	f := readConformJSON(t, jsonPath)
	servers := map[string]bool{}
	for _, run := range f.Runs {
		servers[run.Server.Name] = run.Error == nil
	}
	if !servers["wsgiref"] {
		t.Fatalf("wsgiref was not tested (%v): it is the server that shows its environment", servers)
	}
	t.Logf("servers tested: %v", servers)
	if rep := runWsgispec(t, nil, "report", "--in", results, "--out", site); rep.code != 0 {
		t.Fatalf("wsgispec report: exit %d\n%s%s", rep.code, rep.stdout, rep.stderr)
	}

	outputs := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	for _, path := range []string{jsonPath, junitPath} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		outputs[filepath.Base(path)] = string(b)
	}
	pages, _ := filepath.Glob(filepath.Join(site, "*.html"))
	if len(pages) == 0 {
		t.Fatal("the report has no pages")
	}
	for _, p := range pages {
		b, _ := os.ReadFile(p)
		outputs["report/"+filepath.Base(p)] = string(b)
	}
	for name, text := range outputs {
		for _, secret := range []string{passed, unpassed} {
			for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
				if n := strings.Count(text, form); n > 0 {
					t.Errorf("%s holds a secret %d times (%q)", name, n, form)
				}
			}
		}
	}
	// The variable that was not passed never reached a server, so not even its name shows.
	if strings.Contains(outputs["conform.json"], "WSGISPEC_TEST_UNPASSED_PASSWORD") {
		t.Error("a variable not named by --pass-env reached a server's environ")
	}
}
