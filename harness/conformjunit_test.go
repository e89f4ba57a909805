package harness

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgispec/wsgispec/harness/junit"
	"github.com/wsgispec/wsgispec/specs/catalog"
)

// sampleRuns is one server with a case of every outcome and one that could not be started.
func sampleRuns() []ConformRun {
	failed := result("close.on-error", catalog.Must, Fail)
	failed.Message = "close.on-error: close() must be called"
	failed.Evidence = catalog.Evidence{Expected: "close() called once", Actual: "close() never called",
		Transcript: "> GET /close HTTP/1.1\r\n", Reproduce: "curl -sS http://127.0.0.1:1/close"}
	errored := result("write.timing", catalog.Must, Error)
	errored.Message = "spec timedout: A node timeout occurred"
	skipped := result("file_wrapper.closes", catalog.May, Skip)
	skipped.Message = "wsgi.file_wrapper is absent"
	known := result("environ.path-info", catalog.Must, Fail)
	known.Evidence = catalog.Evidence{Expected: "/a%2Fb", Actual: "/a/b"}
	known.ExpectedFailure = "decodes %2F like every server"
	fixed := result("environ.script-name", catalog.Must, Pass)
	fixed.ExpectedFailure = "was broken"
	info := result("http.foo-bar-collision", catalog.Info, Fail)
	info.Evidence = catalog.Evidence{Expected: "one of the two headers", Actual: "both joined"}
	run := ConformRun{
		Server:   ServerInfo{Name: "gunicorn", Version: "20.1.0", Command: "python3 -m gunicorn"},
		Cases:    []CaseResult{known, fixed, failed, errored, skipped, info, result("close.once", catalog.Must, Pass)},
		Warnings: []string{"the server exited during the run"},
	}
	for _, c := range run.Cases {
		run.Summary.Add(c.Status)
	}
	return []ConformRun{run, {Server: ServerInfo{Name: "uwsgi"}, Error: &RunError{Message: "server uwsgi exited (exit status 1) before answering HTTP", Output: "no python3 plugin"}}}
}

// writeJUnit renders runs as conform --junit writes them.
func writeJUnit(t *testing.T, runs []ConformRun, strict bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := junit.Write(&buf, ConformJUnit(runs, strict, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "ci")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func parseJUnit(t *testing.T, b []byte) (junit.Testsuites, map[string]junit.Testcase) {
	t.Helper()
	var doc junit.Testsuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, b)
	}
	cases := map[string]junit.Testcase{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			key := c.Classname + " " + c.Name
			if _, dup := cases[key]; dup {
				t.Errorf("classname+name %q appears twice", key)
			}
			cases[key] = c
		}
	}
	return doc, cases
}

func TestConformJUnit(t *testing.T) {
	doc, cases := parseJUnit(t, writeJUnit(t, sampleRuns(), false))
	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "gunicorn.environ gunicorn.close gunicorn.write gunicorn.file_wrapper gunicorn.http uwsgi.setup" {
		t.Errorf("testsuites %q, want one per server and area, and one for the server that did not start", got)
	}
	// Only the MUST failure and the MUST error fail the run, and the setup error is an error.
	if doc.Tests != 8 || doc.Failures != 1 || doc.Errors != 2 {
		t.Errorf("counts: %d tests, %d failures, %d errors; want 8, 1, 2", doc.Tests, doc.Failures, doc.Errors)
	}
	f := cases["gunicorn.close close.on-error"]
	if f.Failure == nil {
		t.Fatalf("close.on-error: %+v, want a <failure> with classname gunicorn.close and the case ID as name", f)
	}
	for _, want := range []string{"the PEP's words", "expected: close() called once", "actual: close() never called", "GET /close HTTP/1.1", "reproduce: curl"} {
		if !strings.Contains(f.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Failure.Text)
		}
	}
	if want := "[MUST] close.on-error (close.on-error title): expected close() called once, actual close() never called. PEP 3333, close.on-error section: the PEP's words"; f.Failure.Message != want {
		t.Errorf("failure message\n%q, want\n%q", f.Failure.Message, want)
	}
	if c := cases["gunicorn.environ environ.path-info"]; c.Failure != nil || c.Skipped != nil || !strings.Contains(c.SystemOut, "expected (--expect-failures: decodes %2F like every server)") {
		t.Errorf("an expected failure passes, its verdict in system-out: %+v", c)
	}
	if c := cases["gunicorn.http http.foo-bar-collision"]; c.Failure != nil || !strings.Contains(c.SystemOut, "a INFO departure, which never fails the run") || !strings.Contains(c.SystemOut, "actual: both joined") {
		t.Errorf("an INFO departure passes with its verdict and evidence: %+v", c)
	}
	if c := cases["gunicorn.environ environ.script-name"]; !strings.Contains(c.SystemOut, "remove it from the list") {
		t.Errorf("a listed case that passes should say so: %+v", c)
	}
	if c := cases["gunicorn.write write.timing"]; c.Error == nil || !strings.Contains(c.Error.Message, "timedout") {
		t.Errorf("write.timing: %+v, want an <error>", c)
	}
	if c := cases["gunicorn.file_wrapper file_wrapper.closes"]; c.Skipped == nil || c.Skipped.Message != "wsgi.file_wrapper is absent" {
		t.Errorf("a skipped case: %+v", c)
	}
	if c := cases["uwsgi.setup setup"]; c.Error == nil || !strings.Contains(c.Error.Text, "no python3 plugin") {
		t.Errorf("the setup failure should be an <error> with the server's output: %+v", c)
	}
	props := map[string]string{}
	for _, s := range doc.Suites {
		if s.Name == "gunicorn.close" {
			for _, p := range s.Properties {
				props[p.Name] = p.Value
			}
		}
	}
	for name, want := range map[string]string{
		"server.name": "gunicorn", "server.version": "20.1.0", "close.on-error.title": "close.on-error title",
		"close.on-error.requirement": "the PEP's words", "close.on-error.level": "MUST",
		"close.on-error.verdict": "fail: fails the run (MUST)", "close.once.verdict": "pass",
	} {
		if props[name] != want {
			t.Errorf("property %s = %q, want %q", name, props[name], want)
		}
	}
}

// TestConformJUnitMeansTheExitCode: a run that exits 0 has no <failure> or <error>, whatever
// departures and expected failures it has; with --strict a SHOULD failure is one.
func TestConformJUnitMeansTheExitCode(t *testing.T) {
	should := result("headers.should-thing", catalog.Should, Fail)
	may := result("body.may-thing", catalog.May, Fail)
	known := result("environ.known", catalog.Must, Error)
	known.ExpectedFailure = "known"
	runs := []ConformRun{{Server: ServerInfo{Name: "s"}, Cases: []CaseResult{should, may, known, result("close.once", catalog.Must, Pass)}}}
	for _, strict := range []bool{false, true} {
		doc, _ := parseJUnit(t, writeJUnit(t, runs, strict))
		exit := ConformExit(runs, strict)
		if failing := doc.Failures + doc.Errors; (exit == ExitPass) != (failing == 0) || strict && failing != 1 {
			t.Errorf("strict=%v: exit %d but %d failures and %d errors in the JUnit", strict, exit, doc.Failures, doc.Errors)
		}
	}
}

// TestConformJUnitKeepsServersApart: two servers' identical cases are distinct test cases.
func TestConformJUnitKeepsServersApart(t *testing.T) {
	a := sampleRuns()[0]
	b := a
	b.Server = ServerInfo{Name: "wsgiref"}
	_, cases := parseJUnit(t, writeJUnit(t, []ConformRun{a, b}, false))
	if len(cases) != 2*len(a.Cases) {
		t.Errorf("%d distinct classname+name pairs for 2 servers × %d cases", len(cases), len(a.Cases))
	}
	if _, ok := cases["wsgiref.close close.on-error"]; !ok {
		t.Error("no wsgiref.close close.on-error test case")
	}
}

// TestConformJUnitValidatesAgainstJUnit10XSD checks the JUnit against the Jenkins xUnit plugin's
// schema (testdata/junit), with every kind of outcome, a warning and a duration too small for
// %g to write as a plain decimal.
func TestConformJUnitValidatesAgainstJUnit10XSD(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not installed (Debian: libxml2-utils; make deps installs it)")
	}
	runs := sampleRuns()
	runs[0].Cases[0].DurationS = 0.00001
	path := filepath.Join(t.TempDir(), "c.xml")
	if err := os.WriteFile(path, writeJUnit(t, runs, false), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit", "junit-10.xsd"), path).CombinedOutput()
	if err != nil {
		t.Errorf("the JUnit does not validate against junit-10.xsd: %v\n%s", err, out)
	}
}

func TestWriteConformSummary(t *testing.T) {
	var buf bytes.Buffer
	runs := sampleRuns()
	WriteConformSummary(&buf, runs, false, false)
	out := buf.String()
	for _, want := range []string{
		"gunicorn 20.1.0", "close                1     1     0     0", "all                  2     3     1     1",
		"Failures that fail the run", "FAIL  gunicorn  close.on-error  [MUST]", "expected:    close() called once",
		"actual:      close() never called", "reproduce:   curl -sS http://127.0.0.1:1/close",
		"ERROR gunicorn  write.timing", "message:     spec timedout",
		"Departures that do not fail the run", "http.foo-bar-collision  [INFO]",
		"Expected failures", "environ.path-info  fail: decodes %2F",
		"Now passing", "environ.script-name  (listed as: was broken)",
		"Warnings", "gunicorn: the server exited during the run",
		"uwsgi", "could not be tested", "no python3 plugin",
		"SETUP ERROR: could not test uwsgi (exit 2)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes without colour")
	}
	buf.Reset()
	WriteConformSummary(&buf, runs[:1], false, true)
	if !strings.Contains(buf.String(), "\x1b[31mFAIL") || !strings.Contains(buf.String(), "2 MUST case results failed or errored (exit 1)") {
		t.Errorf("coloured summary of the failing server:\n%s", buf.String())
	}
}
