package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgispec/wsgispec/specs/frameworks"
)

// These tests run the built wsgispec (from `make build`, the contract suite linked in) on real
// servers with the real framework apps.

// runMatrixJSON runs `wsgispec matrix` with args and --json, and returns the result and the file.
func runMatrixJSON(t *testing.T, env []string, args ...string) (cliResult, Envelope[MatrixRun]) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "matrix.json")
	r := runWsgispec(t, env, append([]string{"matrix", "--json", out}, args...)...)
	var f Envelope[MatrixRun]
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("exit %d, no JSON written: %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return r, f
}

// checkAllPassed checks that the runs are exactly the servers × frameworks given, each with
// every contract step passed.
func checkAllPassed(t *testing.T, f Envelope[MatrixRun], servers, fws []string) {
	t.Helper()
	if f.Tool != "wsgispec" || f.Kind != KindMatrix || f.SchemaVersion != SchemaVersion || f.Started == "" || f.Host.Cores == 0 {
		t.Errorf("envelope: tool %q kind %q schema %d started %q host %+v", f.Tool, f.Kind, f.SchemaVersion, f.Started, f.Host)
	}
	if len(f.Runs) != len(servers)*len(fws) {
		t.Fatalf("%d runs, want %d (%v × %v)", len(f.Runs), len(servers)*len(fws), servers, fws)
	}
	i := 0
	for _, s := range servers {
		for _, fw := range fws {
			run := f.Runs[i]
			i++
			if run.Server.Name != s || run.Framework.Name != fw {
				t.Errorf("run %d is %s on %s, want %s on %s (servers, then frameworks, as given)", i, run.Framework.Name, run.Server.Name, fw, s)
				continue
			}
			if run.Server.Version == "" || run.Server.Command == "" || run.Framework.Version == "" {
				t.Errorf("%s on %s: server %+v, framework %+v: versions and command missing", fw, s, run.Server, run.Framework)
			}
			if run.Error != "" || run.Summary.Pass != len(frameworks.Steps) || len(run.Steps) != len(frameworks.Steps) {
				t.Errorf("%s on %s: error %q, summary %+v; want all %d steps passed", fw, s, run.Error, run.Summary, len(frameworks.Steps))
			}
			for _, st := range run.Steps {
				if st.Status != Pass {
					t.Errorf("%s on %s: step %s %s: %s\nexpected: %s\nactual:   %s", fw, s, st.Name, st.Status, st.Detail, st.Expected, st.Actual)
				}
			}
		}
	}
}

// TestMatrixGatewayAndGunicorn is the reduced matrix `make test` runs: every framework on the
// gateway (FastAPI over its own ASGI path) and on gunicorn (FastAPI through the adapter).
func TestMatrixGatewayAndGunicorn(t *testing.T) {
	wsgispecBin(t)
	token := fmt.Sprintf("WSGISPEC_TEST_TOKEN=matrix-%d", time.Now().UnixNano())
	servers, fws := []string{"gateway", "gunicorn"}, []string{"flask", "django", "fastapi"}
	r, f := runMatrixJSON(t, []string{token}, "--server", strings.Join(servers, ","), "--framework", strings.Join(fws, ","))
	if r.code != 0 {
		t.Errorf("exit %d, want 0:\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkAllPassed(t, f, servers, fws)
	for _, run := range f.Runs {
		if want := run.Server.Name == "gateway" && run.Framework.Name == "fastapi"; strings.Contains(run.Server.Command, "--protocol asgi") != want {
			t.Errorf("%s on %s ran %s; over the gateway's own ASGI path: %v, want %v", run.Framework.Name, run.Server.Name,
				run.Server.Command, !want, want)
		}
	}
	if !strings.Contains(r.stdout, "PASS: every step of 6 pairs passed") {
		t.Errorf("no verdict on stdout:\n%s", r.stdout)
	}
	assertNoProcessLeft(t, "environ", token)
}

// TestMatrixGatewayMulti serves the three apps from one gateway at /flask, /django and /fastapi:
// each framework's suite runs under its mount, and /info must name that framework.
func TestMatrixGatewayMulti(t *testing.T) {
	wsgispecBin(t)
	fws := []string{"flask", "django", "fastapi"}
	r, f := runMatrixJSON(t, nil, "--server", "gateway-multi")
	if r.code != 0 {
		t.Errorf("exit %d, want 0:\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkAllPassed(t, f, []string{"gateway-multi"}, fws)
	for i, run := range f.Runs {
		if run.Mount != "/"+fws[i] || run.Server.Command != f.Runs[0].Server.Command {
			t.Errorf("%s: mount %q, command %q; want /%s on the one gateway", run.Framework.Name, run.Mount, run.Server.Command, fws[i])
		}
	}
}

func TestMatrixSetupErrors(t *testing.T) {
	wsgispecBin(t)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"matrix", "--server", "nosuch"}, `unknown server "nosuch"`},
		{[]string{"matrix", "--server", "gunicorn", "--framework", "bottle"}, `unknown framework "bottle"`},
		{[]string{"matrix", "--framework", "flask"}, "--server NAMES|all is required"},
		{[]string{"matrix", "--server", "gunicorn", "--python", "/no/such/python"}, "framework flask is not installed"},
		{[]string{"matrix", "--server", "gunicorn", "--parallel", "0"}, "--parallel must be at least 1"},
		{[]string{"matrix", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"matrix", "--server", "gunicorn", "extra"}, `unexpected argument "extra"`},
	} {
		r := runWsgispec(t, nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.wantErr) {
			t.Errorf("wsgispec %q: exit %d, stderr %q; want exit 2 saying %q", tc.args, r.code, r.stderr, tc.wantErr)
		}
		if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines > 1 {
			t.Errorf("wsgispec %q: %d lines on stderr, want one:\n%s", tc.args, lines, r.stderr)
		}
	}
	if r := runWsgispec(t, nil, "conform", "--server", "gateway-multi"); r.code != 2 || !strings.Contains(r.stderr, `server "gateway-multi" cannot be used here`) {
		t.Errorf("conform --server gateway-multi: exit %d, stderr %q; want 2: it is for the matrix only", r.code, r.stderr)
	}
}
