package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgispec/wsgispec/docs/schema"
	"github.com/wsgispec/wsgispec/harness/junit"
	"github.com/wsgispec/wsgispec/specs/catalog"
)

// These tests run the built wsgispec (bin/wsgispec, from `make build`, the suites linked in) end
// to end. The server they test most is testdata/brokenserver.py: correct by
// default, with one switch per area of defects (BROKEN=area).

func wsgispecBin(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WSGISPEC_BIN")
	if dir == "" {
		t.Skip("WSGISPEC_BIN is not set: run `make test`, which builds bin/ and sets it")
	}
	bin := filepath.Join(dir, "wsgispec")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%s is missing: run `make build`", bin)
	}
	return bin
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// runWsgispec runs the CLI with extra environment variables and returns its exit code and output.
func runWsgispec(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, wsgispecBin(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("wsgispec %s: %v", strings.Join(args, " "), err)
	}
	return cliResult{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// brokenServerCmd is the --server-cmd running testdata/brokenserver.py; BROKEN in the
// environment of wsgispec reaches it through passBroken.
func brokenServerCmd(t *testing.T) string {
	return "{python} " + shellQuote(testdataDir(t, "brokenserver.py")) + " {host} {port} {app}"
}

// passBroken gives the servers under test brokenserver's switch and the token that tells the
// processes a test started (assertNoProcessLeft), which a clean environment would drop.
const passBroken = "--pass-env=BROKEN,WSGISPEC_TEST_TOKEN"

type conformFile struct {
	Envelope[ConformRun]
}

func readConformJSON(t *testing.T, path string) conformFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(b); err != nil {
		t.Errorf("%s: %v", path, err)
	}
	var f conformFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// conformBroken runs the suite's cases matching glob against brokenserver with defects broken
// and returns the statuses by case ID.
func conformBroken(t *testing.T, broken, glob string) map[string]CaseResult {
	t.Helper()
	return conformBrokenEnv(t, []string{"BROKEN=" + broken}, glob)
}

// conformBrokenEnv is conformBroken with wsgispec's extra environment (BROKEN among it).
func conformBrokenEnv(t *testing.T, env []string, glob string) map[string]CaseResult {
	t.Helper()
	broken := strings.Join(env, " ")
	out := filepath.Join(t.TempDir(), "c.json")
	args := []string{"conform", "--server-cmd", brokenServerCmd(t), passBroken, "--json", out}
	if glob != "" {
		args = append(args, "--cases", glob)
	}
	r := runWsgispec(t, env, args...)
	if r.code == 2 {
		t.Fatalf("BROKEN=%s: setup error:\n%s%s", broken, r.stderr, r.stdout)
	}
	f := readConformJSON(t, out)
	results := map[string]CaseResult{}
	for _, c := range f.Runs[0].Cases {
		results[c.ID] = c
	}
	return results
}

// TestConformCatchesEachBrokenArea proves the suite can fail: with one area's defects switched
// on, cases of that area that pass against the correct server fail.
func TestConformCatchesEachBrokenArea(t *testing.T) {
	wsgispecBin(t)
	baseline := conformBroken(t, "", "")
	for _, area := range catalog.Areas {
		t.Run(area, func(t *testing.T) {
			t.Parallel()
			ran := false
			for id, c := range baseline {
				ran = ran || strings.HasPrefix(id, area+".") && !strings.HasPrefix(c.Message, "no spec for this case")
			}
			if !ran {
				t.Skipf("no spec of area %s ran in this build of the suite", area)
			}
			broken := conformBroken(t, area, area+".*")
			var caught, missed []string
			for id, c := range broken {
				if c.Area != area {
					t.Errorf("--cases %s.* ran %s", area, id)
				}
				if (c.Status == Fail || c.Status == Error) && baseline[id].Status == Pass {
					caught = append(caught, id)
				}
				if baseline[id].Status == Pass && c.Status == Pass {
					missed = append(missed, id)
				}
			}
			if len(caught) == 0 {
				t.Errorf("BROKEN=%s: no case of area %s that passes against the correct server failed", area, area)
			}
			t.Logf("BROKEN=%s: caught by %v; still passing: %v", area, caught, missed)
		})
	}
	var baselineFailures []string
	for id, c := range baseline {
		if c.Status == Fail || c.Status == Error {
			baselineFailures = append(baselineFailures, fmt.Sprintf("%s (%s): %s", id, c.Level, firstLine(c.Message)))
		}
	}
	if len(baselineFailures) > 0 {
		t.Logf("the correct brokenserver fails: %v", baselineFailures)
	}
}

// TestConformRunAgainstGunicorn checks a clean run's exit code against its JSON and JUnit.
func TestConformRunAgainstGunicorn(t *testing.T) {
	dir := t.TempDir()
	jsonPath, junitPath := filepath.Join(dir, "c.json"), filepath.Join(dir, "c.xml")
	r := runWsgispec(t, nil, "conform", "--server", "gunicorn", "--json", jsonPath, "--junit", junitPath)
	if r.code == 2 {
		t.Fatalf("setup error:\n%s", r.stderr)
	}
	f := readConformJSON(t, jsonPath)
	if f.Tool != "wsgispec" || f.SchemaVersion != SchemaVersion || f.Kind != KindConform || f.Host.Cores < 1 || f.Host.Kernel == "" {
		t.Errorf("envelope: %+v", f.Envelope)
	}
	if _, err := time.Parse(time.RFC3339, f.Started); err != nil {
		t.Errorf("started %q: %v", f.Started, err)
	}
	if len(f.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(f.Runs))
	}
	run := f.Runs[0]
	if run.Server.Name != "gunicorn" || run.Server.Version == "" || !strings.Contains(run.Server.Command, "gunicorn") {
		t.Errorf("server %+v", run.Server)
	}
	if len(run.Cases) != len(catalog.All()) {
		t.Errorf("%d cases, want the catalog's %d", len(run.Cases), len(catalog.All()))
	}
	var sum Summary
	wantExit, failing := 0, 0
	for _, c := range run.Cases {
		sum.Add(c.Status)
		if c.Fails(false) {
			wantExit = 1
			failing++
		}
	}
	if sum != run.Summary {
		t.Errorf("summary %+v, counted %+v", run.Summary, sum)
	}
	if r.code != wantExit {
		t.Errorf("exit %d, but the JSON says %d (a MUST case failing gives 1)\n%s", r.code, wantExit, r.stdout)
	}
	if !strings.Contains(r.stdout, "gunicorn "+run.Server.Version) {
		t.Errorf("the summary does not name the server:\n%s", r.stdout)
	}
	b, err := os.ReadFile(junitPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc junit.Testsuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JUnit: %v", err)
	}
	// The JUnit means what the exit code means: a <failure> or <error> only for a case that fails the run.
	if doc.Tests != len(run.Cases) || doc.Failures+doc.Errors != failing {
		t.Errorf("JUnit has %d tests, %d failures, %d errors; the JSON %d cases of which %d fail the run", doc.Tests, doc.Failures, doc.Errors, len(run.Cases), failing)
	}
}

func TestConformSetupErrors(t *testing.T) {
	wsgispecBin(t)
	badList := filepath.Join(t.TempDir(), "expect.txt")
	os.WriteFile(badList, []byte("environ.no-such-case  typo\n"), 0o644)
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"conform", "--server", "nosuch"}, `unknown server "nosuch"`},
		{[]string{"conform", "--server-cmd", "srv {host}:{prot}"}, "unknown placeholder {prot}"},
		{[]string{"conform", "--server-cmd", "srv '{host}:{port}"}, "unterminated '"},
		{[]string{"conform", "--server-cmd", "srv {app}"}, "no {port}"},
		{[]string{"conform"}, "name exactly one of"},
		{[]string{"conform", "--server", "gunicorn", "--url", "http://127.0.0.1:1"}, "name exactly one of"},
		{[]string{"conform", "--server", "gunicorn", "--probe-dir", "/tmp"}, "--probe-dir goes with --url"},
		{[]string{"conform", "--server", "gunicorn", "--cases", "nosuch.*"}, "matches no case"},
		{[]string{"conform", "--server", "gunicorn", "--cases", "a/b"}, "may hold only"},
		{[]string{"conform", "--server", "gunicorn", "--expect-failures", badList}, `"environ.no-such-case" is not a case ID`},
		{[]string{"conform", "--server", "gunicorn", "--expect-failures", "/no/such/file"}, "no such file"},
		{[]string{"conform", "--url", "ftp://127.0.0.1:8443"}, "want http://host:port"},
		{[]string{"conform", "--server", "gunicorn", "--python", "/no/such/python"}, "server gunicorn is not installed"},
		{[]string{"conform", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"conform", "extra"}, `unexpected argument "extra"`},
	} {
		r := runWsgispec(t, nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.wantErr) {
			t.Errorf("wsgispec %q: exit %d, stderr %q; want exit 2 saying %q", tc.args, r.code, r.stderr, tc.wantErr)
		}
		if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines > 1 && !strings.Contains(r.stderr, "usage:") {
			t.Errorf("wsgispec %q: %d lines on stderr, want one:\n%s", tc.args, lines, r.stderr)
		}
	}
}

func TestConformServerThatCannotStart(t *testing.T) {
	wsgispecBin(t)
	token := fmt.Sprintf("WSGISPEC_TEST_TOKEN=cannot-start-%d", time.Now().UnixNano())
	for _, tc := range []struct{ cmd, reason, output string }{
		{"{python} -c 'import sys; sys.exit(\"config file unreadable\")' {port}",
			"exited (exit status 1) before answering HTTP", "config file unreadable"},
		{"{python} " + shellQuote(testdataDir(t, "lifecycle.py")) + " never-listen {port}",
			"did not answer HTTP", "started, not listening"},
	} {
		r := runWsgispec(t, []string{token}, "conform", "--server-cmd", tc.cmd, passBroken, "--start-timeout", "2s")
		if r.code != 2 || !strings.Contains(r.stderr, tc.reason) || !strings.Contains(r.stdout, tc.output) {
			t.Errorf("--server-cmd %q: exit %d; want 2, %q on stderr and the server's output %q on stdout:\n%s%s",
				tc.cmd, r.code, tc.reason, tc.output, r.stdout, r.stderr)
		}
	}
	assertNoProcessLeft(t, "environ", token)
}

func TestConformURLWithNothingListening(t *testing.T) {
	port, err := freePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	r := runWsgispec(t, nil, "conform", "--url", fmt.Sprintf("http://127.0.0.1:%d", port))
	if r.code != 2 || !strings.Contains(r.stdout, "nothing answers at") {
		t.Errorf("exit %d, want 2 and 'nothing answers at':\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestConformExpectFailures lists what the environ defects break: the run passes, and a listed
// case that passes is reported for removal.
func TestConformExpectFailures(t *testing.T) {
	wsgispecBin(t)
	results := conformBroken(t, "environ", "environ.*")
	var list strings.Builder
	list.WriteString("# brokenserver BROKEN=environ\n")
	passing := ""
	for id, c := range results {
		switch {
		case c.Status == Fail || c.Status == Error:
			fmt.Fprintf(&list, "%s  broken on purpose\n", id)
		case c.Status == Pass && passing == "":
			passing = id
			fmt.Fprintf(&list, "%s\tfixed since\n", id)
		}
	}
	path := filepath.Join(t.TempDir(), "expect.txt")
	if err := os.WriteFile(path, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runWsgispec(t, []string{"BROKEN=environ"}, "conform", "--server-cmd", brokenServerCmd(t), passBroken, "--cases", "environ.*", "--expect-failures", path)
	if r.code != 0 {
		t.Errorf("exit %d with every failure expected, want 0:\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "remove these from the --expect-failures list") || !strings.Contains(r.stdout, passing) {
		t.Errorf("the passing listed case %s is not reported:\n%s", passing, r.stdout)
	}
}

// TestConformHangingServerIsBounded runs against a server that never answers the environ
// requests: every case must end as an error within the --timeout bound and nothing may be left.
func TestConformHangingServerIsBounded(t *testing.T) {
	wsgispecBin(t)
	token := fmt.Sprintf("WSGISPEC_TEST_TOKEN=hang-%d", time.Now().UnixNano())
	out := filepath.Join(t.TempDir(), "c.json")
	began := time.Now()
	r := runWsgispec(t, []string{"BROKEN=hang", token}, "conform", "--server-cmd", brokenServerCmd(t), passBroken,
		"--cases", "environ.request-method,environ.server-port,environ.path-info", "--timeout", "3s", "--json", out)
	if d := time.Since(began); d > 60*time.Second {
		t.Errorf("took %s with --timeout 3s", d)
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (MUST cases errored):\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range readConformJSON(t, out).Runs[0].Cases {
		if c.Status != Error {
			t.Errorf("%s: %s %q, want error", c.ID, c.Status, c.Message)
		}
	}
	assertNoProcessLeft(t, "environ", token)
}

// TestConformInterrupt sends SIGINT to wsgispec mid-run, as Ctrl-C does: it must stop the
// server and the suite and exit 130.
func TestConformInterrupt(t *testing.T) {
	bin := wsgispecBin(t)
	token := fmt.Sprintf("WSGISPEC_TEST_TOKEN=interrupt-%d", time.Now().UnixNano())
	cmd := exec.Command(bin, "conform", "--server-cmd", brokenServerCmd(t), passBroken, "--cases", "environ.*")
	cmd.Env = append(os.Environ(), "BROKEN=hang", token)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(processesWith("environ", token)) >= 3 }, "wsgispec, the server and the suite to run")
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("wsgispec still runs 30s after SIGINT:\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d after SIGINT, want 130:\n%s", code, out.String())
	}
	assertNoProcessLeft(t, "environ", token)
}

func TestConformList(t *testing.T) {
	r := runWsgispec(t, nil, "conform", "--list")
	all := catalog.All()
	if r.code != 0 || len(all) == 0 || !strings.Contains(r.stdout, all[0].ID) || !strings.Contains(r.stdout, fmt.Sprintf("%d cases", len(all))) {
		t.Errorf("--list: exit %d:\n%.500s", r.code, r.stdout)
	}
	r = runWsgispec(t, nil, "conform", "--list", "--json", "--cases", "environ.*")
	var f CatalogFile
	if err := json.Unmarshal([]byte(r.stdout), &f); err != nil || r.code != 0 {
		t.Fatalf("--list --json: exit %d, %v:\n%.300s", r.code, err, r.stdout)
	}
	if f.Kind != "catalog" || len(f.Cases) == 0 {
		t.Errorf("--list --json: kind %q, %d cases", f.Kind, len(f.Cases))
	}
	for _, c := range f.Cases {
		if c.Area != "environ" || c.Requirement == "" {
			t.Errorf("--cases environ.* listed %+v", c)
		}
	}
}

func TestServersCommand(t *testing.T) {
	r := runWsgispec(t, nil, "servers")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, a := range Adapters(ForAll) {
		if !strings.Contains(r.stdout, a.Name) {
			t.Errorf("servers does not list %s:\n%s", a.Name, r.stdout)
		}
	}
}

// TestConformPreconditionSkips: a server that sends the status and headers as soon as
// start_response is called (brokenserver's headers defect) fails the deferral cases, and the
// exc_info cases whose precondition is an unsent response are skipped, naming the case that
// carries the failure, rather than failed a second time for it.
func TestConformPreconditionSkips(t *testing.T) {
	wsgispecBin(t)
	got := conformBroken(t, "headers", "headers.*,exc_info.replaces-*,exc_info.error-before-body")
	for id, carrier := range map[string]string{
		"exc_info.replaces-before-send":       "headers.deferred-until-body",
		"exc_info.replaces-after-empty-chunk": "headers.empty-chunk-not-body",
		"exc_info.error-before-body":          "headers.deferred-until-body",
	} {
		c := got[id]
		if c.Status != Skip || !strings.Contains(c.Message, "precondition not met") || !strings.Contains(c.Message, carrier) {
			t.Errorf("%s: %s %q, want a skip naming %s", id, c.Status, firstLine(c.Message), carrier)
		}
		if carried := got[carrier]; carried.Status != Fail {
			t.Errorf("%s: %s, want fail (it carries %s's skip)", carrier, carried.Status, id)
		}
	}
}
