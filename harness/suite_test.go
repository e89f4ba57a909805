package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeSuite writes an executable Python script standing in for a compiled Ginkgo suite.
func fakeSuite(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake-suite")
	src := "#!" + DefaultPython + "\nimport os, signal, sys, time\n" + body + "\n"
	if err := os.WriteFile(path, []byte(src), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSuiteRunPassesTheTargetAndReadsTheReport(t *testing.T) {
	recorded := strconv.Quote(testdataDir(t, "ginkgo", "mixed.json"))
	bin := fakeSuite(t, `
args = dict((a.split("=", 1) + [""])[:2] for a in sys.argv[1:])
assert args["--ginkgo.label-filter"] == "/^case:(?:environ\\..*)$/", args
assert os.environ["WSGISPEC_TARGET"] == "http://127.0.0.1:1234", os.environ
assert os.environ["WSGISPEC_SCRIPT_NAME"] == "/mount"
assert os.environ["WSGISPEC_SERVER"] == "fake"
assert "WSGISPEC_PROBE_DIR" not in os.environ, "an empty probe dir must be unset, not inherited"
with open(args["--ginkgo.json-report"], "w") as out, open(`+recorded+`) as rec:
    out.write(rec.read())
sys.exit(1)  # Ginkgo's status when specs failed: not an error of the run
`)
	t.Setenv(EnvProbeDir, "/from/the/users/shell")
	sel, _ := ParseCaseSelector("environ.*")
	reports, err := Suite{Binary: bin}.Run(context.Background(),
		SuiteTarget{URL: "http://127.0.0.1:1234", ScriptName: "/mount", Server: "fake"}, sel.LabelFilter())
	var se *SuiteError
	if errors.As(err, &se) {
		t.Fatalf("%v; the fake suite's output:\n%s", err, se.Output)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || len(reports[0].SpecReports) == 0 {
		t.Errorf("got %d reports", len(reports))
	}
}

func TestSuiteRunReportsASuiteThatWroteNoReport(t *testing.T) {
	bin := fakeSuite(t, `print("panic: runtime error: invalid memory address", file=sys.stderr); sys.exit(2)`)
	_, err := Suite{Binary: bin}.Run(context.Background(), SuiteTarget{URL: "http://127.0.0.1:1"}, "")
	var se *SuiteError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "ended (exit status 2) without writing a report") ||
		!strings.Contains(se.Output, "invalid memory address") {
		t.Errorf("Run = %v (output %q), want a SuiteError with the suite's output", err, se)
	}
}

// A suite that ignores both its own --ginkgo.timeout and SIGTERM is killed after the bound.
func TestSuiteRunKillsASuitePastItsBound(t *testing.T) {
	token := "--token=" + strconv.FormatInt(time.Now().UnixNano(), 36)
	bin := fakeSuite(t, `signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)`)
	began := time.Now()
	_, err := Suite{Binary: bin, Timeout: time.Second}.Run(context.Background(), SuiteTarget{URL: "http://127.0.0.1:1", Server: token}, "")
	var se *SuiteError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "did not finish within 1s and was killed") {
		t.Errorf("Run = %v, want a SuiteError saying it was killed", err)
	}
	if d := time.Since(began); d > time.Second+killSlack+suiteStopGrace+5*time.Second {
		t.Errorf("took %s", d)
	}
	assertNoProcessLeft(t, "environ", token)
}
