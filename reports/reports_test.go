package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/specs/catalog"

	"github.com/wsgispec/wsgispec/bench"
)

// testdata/results holds real result files: host-a's conform, matrix and bench runs (cases,
// transcripts and raw requests trimmed), and host-b's conform file, two of host-a's runs with the
// host and start time of a second machine, so that merging across hosts is exercised.
const resultsDir = "testdata/results"

func loadTestdata(t *testing.T) *Data {
	t.Helper()
	d, err := Load(resultsDir)
	if err != nil {
		t.Fatalf("Load(%s): %v", resultsDir, err)
	}
	return d
}

func TestLoadMergesHosts(t *testing.T) {
	d := loadTestdata(t)
	if got := len(d.Sources); got != 4 {
		t.Fatalf("read %d result files, want 4 (three from host-a, one from host-b)", got)
	}
	for i := 1; i < len(d.Sources); i++ {
		if d.Sources[i].Started.Before(d.Sources[i-1].Started) {
			t.Errorf("sources not in start order: %s before %s", d.Sources[i-1].Path, d.Sources[i].Path)
		}
	}
	hosts := d.Hosts()
	if len(hosts) != 2 || !strings.Contains(hosts[0], "AMD EPYC") || !strings.Contains(hosts[1], "Xeon") {
		t.Fatalf("hosts = %q, want host-a's AMD EPYC then host-b's Xeon", hosts)
	}
	if len(d.Conform) != 6 || len(d.Matrix) != 12 || len(d.Bench) != 16 {
		t.Errorf("got %d conform runs, %d matrix runs, %d bench series; want 6, 12, 16", len(d.Conform), len(d.Matrix), len(d.Bench))
	}

	tags := newHostTags(d)
	cv := buildConform(d, tags)
	var labels []string
	for _, c := range cv.Columns {
		labels = append(labels, c.Label)
	}
	want := "gateway · H1, gunicorn · H1, waitress · H1, wsgiref · H1, gateway · H2, wsgiref · H2"
	if got := strings.Join(labels, ", "); got != want {
		t.Errorf("conformance columns = %s\nwant %s", got, want)
	}
	rows := 0
	for _, a := range cv.Areas {
		for _, r := range a.Rows {
			rows++
			if len(r.Cells) != len(cv.Columns) {
				t.Errorf("%s has %d cells for %d columns", r.ID, len(r.Cells), len(cv.Columns))
			}
		}
		if areaRank(a.Name) == len(catalog.Areas) {
			t.Errorf("area %q is not one of the catalog's", a.Name)
		}
	}
	if rows != 20 {
		t.Errorf("%d case rows, want the 20 cases of the test data", rows)
	}
	bv := buildBench(d, tags)
	if len(bv.Scenarios) != 4 {
		t.Errorf("%d scenario × model sections, want 4 (hello and json, closed and open)", len(bv.Scenarios))
	}
	for _, sv := range bv.Scenarios {
		if sv.OverTime == nil {
			t.Errorf("%s (%s): no latency-over-time chart though the raw results are beside the file", sv.Scenario, sv.Model)
		}
	}
}

// writeResult writes a result file of kind with the given runs and start time into dir.
func writeResult(t *testing.T, dir, name, kind, started string, runs any) {
	t.Helper()
	env := map[string]any{"tool": "wsgispec", "schema_version": harness.SchemaVersion, "version": "test", "kind": kind,
		"started": started, "commit": nil, "host": map[string]any{"cores": 2, "cpu": "Test CPU", "kernel": "6.1"}, "runs": runs}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLatestRunOfAServerWins(t *testing.T) {
	dir := t.TempDir()
	run := func(status harness.Status) []harness.ConformRun {
		return []harness.ConformRun{{Server: harness.ServerInfo{Name: "gunicorn"}, Cases: []harness.CaseResult{{Status: status}}}}
	}
	older, newer := run(harness.Fail), run(harness.Pass)
	for _, r := range [][]harness.ConformRun{older, newer} {
		r[0].Cases[0].ID, r[0].Cases[0].Area, r[0].Cases[0].Level = "close.called-once", "close", "MUST"
	}
	// Written newest first: the order of the files must not matter, only their start times.
	writeResult(t, dir, "a.json", "conform", "2026-01-02T00:00:00Z", newer)
	writeResult(t, dir, "b.json", "conform", "2026-01-01T00:00:00Z", older)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cv := buildConform(d, newHostTags(d))
	if len(cv.Columns) != 1 {
		t.Fatalf("%d columns for one server on one host, want 1", len(cv.Columns))
	}
	if got := cv.Areas[0].Rows[0].Cells[0].State; got != "pass" {
		t.Errorf("cell state %q, want the newer run's pass", got)
	}
	if got := cv.Columns[0].Label; got != "gunicorn" {
		t.Errorf("column label %q on a single-host site, want the bare server name", got)
	}
}

func TestLoadRejectsUnusableInput(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "ginkgo.json"), []byte(`[{"SuitePath": "x"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "no wsgispec result files") {
		t.Errorf("a directory with no result files: err = %v, want one saying there are none", err)
	}

	future := t.TempDir()
	writeResult(t, future, "new.json", "conform", "2026-01-01T00:00:00Z", []any{})
	b, _ := os.ReadFile(filepath.Join(future, "new.json"))
	newer := fmt.Sprintf(`"schema_version":%d`, harness.SchemaVersion+1)
	b = []byte(strings.Replace(string(b), fmt.Sprintf(`"schema_version":%d`, harness.SchemaVersion), newer, 1))
	os.WriteFile(filepath.Join(future, "new.json"), b, 0o644)
	if _, err := Load(future); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("new.json: schema_version %d", harness.SchemaVersion+1)) {
		t.Errorf("a newer schema: err = %v, want one naming the file and its schema_version", err)
	}

	badKind := t.TempDir()
	writeResult(t, badKind, "x.json", "soak", "2026-01-01T00:00:00Z", []any{})
	if _, err := Load(badKind); err == nil || !strings.Contains(err.Error(), `unknown kind "soak"`) {
		t.Errorf("an unknown kind: err = %v", err)
	}

	badRun := t.TempDir()
	writeResult(t, badRun, "m.json", "matrix", "2026-01-01T00:00:00Z", []any{map[string]any{"steps": "not a list"}})
	if _, err := Load(badRun); err == nil || !strings.Contains(err.Error(), "m.json: run 0") {
		t.Errorf("a malformed run: err = %v, want one naming the file and run", err)
	}

	if _, err := Load(filepath.Join(empty, "missing")); err == nil {
		t.Error("a missing directory loaded without error")
	}
}

// renderTestdata renders the site from the test data and returns each page's HTML.
func renderTestdata(t *testing.T, d *Data) map[string]string {
	t.Helper()
	site := &Site{Data: d, Generated: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	h, err := LoadHistory("testdata/history")
	if err != nil {
		t.Fatalf("LoadHistory: %v", err)
	}
	site.History = h
	out := t.TempDir()
	paths, err := site.Render(out)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	pages := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pages[filepath.Base(p)] = string(b)
	}
	if len(pages) != 5 {
		t.Fatalf("rendered %d pages, want 5", len(pages))
	}
	return pages
}

// external matches anything that would make a page fetch a resource: it must be self-contained.
var external = regexp.MustCompile(`(?i)<(link|img|iframe|object|embed)\b|<script[^>]*\bsrc=|@import|url\(\s*['"]?(https?:)?//`)

func TestRenderPages(t *testing.T) {
	d := loadTestdata(t)
	pages := renderTestdata(t, d)
	for name, html := range pages {
		if m := external.FindString(html); m != "" {
			t.Errorf("%s is not self-contained: it holds %q", name, m)
		}
		if !strings.Contains(html, "H2</b> = 8× Intel(R) Xeon(R)") && name != HistoryPage {
			t.Errorf("%s does not name the second host", name)
		}
	}
	for name, want := range map[string][]string{
		IndexPage: {
			`<th>gunicorn · H1</th>`, `href="conformance.html#srv1"`, `host-b/conform.json`,
			`1166 req/s`, // gunicorn's median hello throughput in the real bench file
		},
		ConformancePage: {
			`id="r-start_response.checks-headers"`, `href="#d1-start_response.checks-headers"`,
			`id="d1-start_response.checks-headers"`, `1 of 9 not rejected: headers:not-list`,
			`Servers should check for errors in the headers`, `<option>http</option>`,
			`id="coverage"`, `<th>Optional Platform-Specific File Handling</th>`, // the statement coverage table
		},
		FrameworksPage: {`<th>gateway · H1</th>`, `<th>django<br>`},
		BenchmarksPage: {`id="s-hello-closed"`, `latency over time`, `vs reference`, `server context switches per request`, `ctx switches/req`},
		HistoryPage: {`<h2>Regressions</h2>`, `gunicorn`, `-30.0%`, `<figcaption>server CPU per request</figcaption>`,
			`<figcaption>server context switches per request</figcaption>`, `<figcaption>p99 latency</figcaption>`, `CPU µs/req`},
	} {
		for _, w := range want {
			if !strings.Contains(pages[name], w) {
				t.Errorf("%s does not contain %q", name, w)
			}
		}
	}
}

// TestBenchPageStatesTheConnectionPolicy: beside a server's figures, how many connections it
// served at once and what the client did about it.
func TestBenchPageStatesTheConnectionPolicy(t *testing.T) {
	d := loadTestdata(t)
	for i := range d.Bench {
		if s := &d.Bench[i]; s.Server.Name == "gunicorn" {
			s.Connections = bench.Connections{Opened: 32, ServedAtOnce: 2, LongestWaitMS: 1234, Unanswered: 3}
		}
	}
	page := renderTestdata(t, d)[BenchmarksPage]
	for _, want := range []string{"served 2 of 32 connections at once; requests queued in the client; 3 requests never answered", "longest wait for a first byte 1234 ms"} {
		if !strings.Contains(page, want) {
			t.Errorf("the benchmarks page does not say %q", want)
		}
	}
}

// TestBenchPageListsServersNotMeasured: a server whose bench run failed (it never started) is
// named on the benchmarks page with its command, error and output, as conform and matrix do.
func TestBenchPageListsServersNotMeasured(t *testing.T) {
	d := loadTestdata(t)
	d.BenchFailed = append(d.BenchFailed, BenchFailure{Run: bench.Run{
		Server: harness.ServerInfo{Name: "mine", Version: "0.1", Command: "mywsgi --port 1"}, Scenario: "hello", Round: 1,
		Error: &harness.RunError{Message: "server mine exited (exit status 3) before answering HTTP", Output: "mine: cannot read its config"}}})
	page := renderTestdata(t, d)[BenchmarksPage]
	for _, want := range []string{"Could not be measured", "<b>mine</b> 0.1, scenario hello, round 1: server mine exited (exit status 3) before answering HTTP", "mywsgi --port 1", "mine: cannot read its config"} {
		if !strings.Contains(page, want) {
			t.Errorf("the benchmarks page does not say %q", want)
		}
	}
}

// TestEveryPageNamesTheCommands: each page lists the command line every server ran under, so a
// reader can start the same server again; a server wsgispec did not start says so.
func TestEveryPageNamesTheCommands(t *testing.T) {
	d := loadTestdata(t)
	for i := range d.Bench {
		d.Bench[i].Server.Command = "serve-" + d.Bench[i].Server.Name + " --bench"
	}
	for i := range d.Matrix {
		d.Matrix[i].Server.Command = "serve-" + d.Matrix[i].Server.Name + " --matrix"
	}
	for i := range d.Conform {
		d.Conform[i].Server.Command = ""
	}
	pages := renderTestdata(t, d)
	if len(d.Bench) == 0 || len(d.Matrix) == 0 || len(d.Conform) == 0 {
		t.Fatal("the testdata lacks a kind of result")
	}
	for page, want := range map[string]string{
		BenchmarksPage:  d.Bench[0].Server.Command,
		FrameworksPage:  d.Matrix[0].Server.Command,
		ConformancePage: "(external server, --url)",
	} {
		if !strings.Contains(pages[page], "server command lines") || !strings.Contains(pages[page], want) {
			t.Errorf("%s does not list the command line %q", page, want)
		}
	}
}

func TestFrameworksPageOpensFailingSteps(t *testing.T) {
	dir := t.TempDir()
	writeResult(t, dir, "matrix.json", "matrix", "2026-01-01T00:00:00Z", []harness.MatrixRun{{
		Server:    harness.ServerInfo{Name: "wsgiref", Version: "Python 3.11.2"},
		Framework: harness.FrameworkInfo{Name: "fastapi", Version: "0.92.0"},
		Steps: []harness.StepResult{
			{Name: "interop", Status: harness.Pass},
			{Name: "body-1mib", Title: "a 1 MiB body is stored whole", Status: harness.Fail, Expected: "201", Actual: "413 Request Entity Too Large"},
		},
	}})
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := (&Site{Data: d, Generated: time.Now()}).Render(out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(out, FrameworksPage))
	html := string(b)
	for _, w := range []string{`<summary><span class="st st-fail">fail</span> <span class="muted">1/2</span></summary>`, `body-1mib`, `413 Request Entity Too Large`} {
		if !strings.Contains(html, w) {
			t.Errorf("frameworks page does not contain %q", w)
		}
	}
	if strings.Contains(html, `<b class="mono">interop</b>`) {
		t.Error("the passing step interop is listed among the failing ones")
	}
	b, _ = os.ReadFile(filepath.Join(out, HistoryPage))
	if !strings.Contains(string(b), "No history store was given") {
		t.Error("the history page without --history does not say so")
	}
}

func TestHistoryMarksRegressions(t *testing.T) {
	h, err := LoadHistory("testdata/history")
	if err != nil {
		t.Fatal(err)
	}
	v := buildHistory(h)
	if len(v.Regressions) != 1 {
		t.Fatalf("%d regressions, want 1: %+v", len(v.Regressions), v.Regressions)
	}
	r := v.Regressions[0]
	if r.Server != "gunicorn" || r.Scenario != "hello" || r.Model != "closed" {
		t.Errorf("regression on %s %s (%s), want gunicorn hello (closed)", r.Server, r.Scenario, r.Model)
	}
	if _, err := LoadHistory(t.TempDir()); err == nil {
		t.Error("an empty history directory loaded without error")
	}
}

func TestFormatNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.0123: "0.0123", 1.5: "1.5", 12.34: "12.3", 512: "512", 15300: "15.3k", 2.5e6: "2.5M"} {
		if got := formatNum(v); got != want {
			t.Errorf("formatNum(%v) = %q, want %q", v, got, want)
		}
	}
}
