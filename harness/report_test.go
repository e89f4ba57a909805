package harness

import (
	"strings"
	"testing"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// The reports in testdata/ginkgo were recorded from a small Ginkgo suite (labels made with
// catalog.Case.Labels, evidence added as the conformance suite adds it) run three ways:
// mixed.json normally; timeout.json with --ginkgo.timeout=1s, so that a spec times out and the
// one after it is skipped unrun; beforesuite.json with its BeforeSuite failing.
var recordedCases = []catalog.Case{
	{ID: "environ.t-pass", Area: "environ", Level: catalog.Must},
	{ID: "environ.t-fail", Area: "environ", Level: catalog.Must},
	{ID: "environ.t-skip", Area: "environ", Level: catalog.Should},
	{ID: "environ.t-nospec", Area: "environ", Level: catalog.Must}, // in the catalog, no spec
	{ID: "close.t-timeout", Area: "close", Level: catalog.Must},
	{ID: "close.t-panic", Area: "close", Level: catalog.Must},
	{ID: "close.t-two", Area: "close", Level: catalog.May}, // one spec passes, one fails
	{ID: "close.t-slow", Area: "close", Level: catalog.Must},
	{ID: "close.t-after", Area: "close", Level: catalog.Info},
}

func joinRecorded(t *testing.T, name string) (map[string]CaseResult, []string) {
	t.Helper()
	reports, err := ReadGinkgoReport(testdataDir(t, "ginkgo", name))
	if err != nil {
		t.Fatal(err)
	}
	results, warnings := JoinReport(reports, recordedCases)
	if len(results) != len(recordedCases) {
		t.Fatalf("%d results for %d cases", len(results), len(recordedCases))
	}
	byID := map[string]CaseResult{}
	for i, r := range results {
		if r.ID != recordedCases[i].ID {
			t.Errorf("result %d is %s, want %s: results keep the catalog's order", i, r.ID, recordedCases[i].ID)
		}
		byID[r.ID] = r
	}
	return byID, warnings
}

func checkCase(t *testing.T, results map[string]CaseResult, id string, status Status, messagePart string) CaseResult {
	t.Helper()
	r := results[id]
	if r.Status != status || !strings.Contains(r.Message, messagePart) {
		t.Errorf("%s: %s %q, want %s with a message containing %q", id, r.Status, r.Message, status, messagePart)
	}
	return r
}

func TestJoinReportMapsEveryState(t *testing.T) {
	results, warnings := joinRecorded(t, "mixed.json")
	checkCase(t, results, "environ.t-pass", Pass, "")
	failed := checkCase(t, results, "environ.t-fail", Fail, "SERVER_PORT must be present")
	want := catalog.Evidence{
		Expected: `SERVER_PORT "8000"`, Actual: "SERVER_PORT missing",
		Transcript: "> GET / HTTP/1.1\r\n< HTTP/1.1 200 OK\r\n", Reproduce: "curl -sS http://127.0.0.1:8000/environ",
	}
	if failed.Evidence != want {
		t.Errorf("environ.t-fail evidence %+v, want %+v", failed.Evidence, want)
	}
	checkCase(t, results, "environ.t-skip", Skip, "WSGISPEC_PROBE_DIR is not set")
	checkCase(t, results, "environ.t-nospec", Skip, "no spec for this case ran")
	checkCase(t, results, "close.t-timeout", Error, "spec timedout: A node timeout occurred")
	checkCase(t, results, "close.t-panic", Error, "spec panicked")
	two := checkCase(t, results, "close.t-two", Fail, "close() called twice")
	if two.Actual != "close() twice" {
		t.Errorf("close.t-two: evidence from %q, want the failing spec's", two.Actual)
	}
	checkCase(t, results, "close.t-slow", Pass, "")
	if results["environ.t-fail"].Area != "environ" || results["environ.t-fail"].Level != catalog.Must {
		t.Errorf("the catalog's fields are not carried into the result: %+v", results["environ.t-fail"].Case)
	}

	joined := strings.Join(warnings, "\n")
	for _, want := range []string{`"close has no case label"`, `"close has an unknown case" is labelled with case "close.t-unknown"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("no warning about %s in %q", want, joined)
		}
	}
}

func TestJoinReportTurnsAnInterruptedSuiteIntoErrors(t *testing.T) {
	results, _ := joinRecorded(t, "timeout.json")
	checkCase(t, results, "environ.t-pass", Pass, "")
	checkCase(t, results, "close.t-slow", Error, "A suite timeout occurred")
	checkCase(t, results, "close.t-after", Error, "not run: Suite Timeout Elapsed")
	checkCase(t, results, "environ.t-nospec", Error, "not run: Suite Timeout Elapsed")
	checkCase(t, results, "environ.t-skip", Skip, "WSGISPEC_PROBE_DIR") // skipped on purpose before the timeout
}

func TestJoinReportTurnsAFailedBeforeSuiteIntoErrors(t *testing.T) {
	results, _ := joinRecorded(t, "beforesuite.json")
	for _, c := range recordedCases {
		checkCase(t, results, c.ID, Error, "refused the connection")
	}
}

func TestReadGinkgoReportRejectsOtherFiles(t *testing.T) {
	if _, err := ReadGinkgoReport(testdataDir(t, "hello", "hello.py")); err == nil || !strings.Contains(err.Error(), "not a Ginkgo JSON report") {
		t.Errorf("ReadGinkgoReport(hello.py) = %v", err)
	}
}
