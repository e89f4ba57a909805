package harness

import (
	"bytes"
	"encoding/xml"
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
	return []ConformRun{run, {Server: ServerInfo{Name: "uwsgi"}, Error: "server uwsgi exited (exit status 1) before answering HTTP; its output ends:\n    no python3 plugin"}}
}

func TestConformJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := junit.Write(&buf, ConformJUnit(sampleRuns(), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "ci")); err != nil {
		t.Fatal(err)
	}
	var doc junit.Testsuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, buf.String())
	}
	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "gunicorn/environ gunicorn/close gunicorn/write gunicorn/file_wrapper gunicorn/http uwsgi" {
		t.Errorf("testsuites %q, want one per server and area, and one for the server that did not start", got)
	}
	if doc.Tests != 8 || doc.Failures != 2 || doc.Errors != 2 || doc.Skipped != 2 {
		t.Errorf("counts: %d tests, %d failures, %d errors, %d skipped; want 8, 2, 2, 2", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	cases := map[string]junit.Testcase{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			cases[c.Name] = c
		}
	}
	f := cases["close.on-error: close.on-error title"]
	if f.Classname != "close" || f.Failure == nil {
		t.Fatalf("close.on-error: %+v, want a <failure> with classname close", f)
	}
	for _, want := range []string{"the PEP's words", "expected: close() called once", "actual: close() never called", "GET /close HTTP/1.1", "reproduce: curl"} {
		if !strings.Contains(f.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Failure.Text)
		}
	}
	if f.Failure.Message != "[MUST] close.on-error: expected close() called once, actual close() never called" {
		t.Errorf("failure message %q", f.Failure.Message)
	}
	if c := cases["environ.path-info: environ.path-info title"]; c.Skipped == nil || !strings.Contains(c.Skipped.Message, "decodes %2F") {
		t.Errorf("an expected failure should be skipped with its reason: %+v", c)
	}
	if c := cases["environ.script-name: environ.script-name title"]; !strings.Contains(c.SystemOut, "remove it from the list") {
		t.Errorf("a listed case that passes should say so: %+v", c)
	}
	if c := cases["write.timing: write.timing title"]; c.Error == nil || !strings.Contains(c.Error.Message, "timedout") {
		t.Errorf("write.timing: %+v, want an <error>", c)
	}
	if c := cases["start uwsgi"]; c.Error == nil || !strings.Contains(c.Error.Text, "no python3 plugin") {
		t.Errorf("the setup failure should be an <error> with the server's output: %+v", c)
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
