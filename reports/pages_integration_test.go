package reports_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgispec/wsgispec/reports"
)

// TestPagesInChromium renders the site from the real result files in testdata with the built
// wsgispec, opens every page in headless Chromium and fails on a console error, an uncaught
// exception or any request that leaves the file; each page's screenshot is kept in a temp dir.
func TestPagesInChromium(t *testing.T) {
	bin := os.Getenv("WSGISPEC_BIN")
	if bin == "" {
		t.Skip("WSGISPEC_BIN is not set: run `make test` (it builds bin/wsgispec first)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed (make deps installs it)", chromiumPath)
	}
	out := t.TempDir()
	cmd := exec.Command(filepath.Join(bin, "wsgispec"), "report", "--in", "testdata/results", "--history", "testdata/history", "--out", out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("wsgispec report: %v\n%s", err, stderr.String())
	}
	if got, want := strings.TrimSpace(stdout.String()), filepath.Join(out, reports.IndexPage); got != want {
		t.Fatalf("wsgispec report printed %q, want the index's path %q", got, want)
	}
	shots := filepath.Join(os.TempDir(), "wsgispec-report-screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	b := startBrowser(t)
	tab, err := b.newTab(ctx)
	if err != nil {
		t.Fatalf("opening a tab: %v\nchromium stderr:\n%s", err, b.stderr.String())
	}
	// Each page's own behaviour, checked in the browser: expression → the JSON value it must give.
	checks := map[string][][2]string{
		reports.IndexPage: {
			{`document.querySelectorAll("main table.grid")[0].rows.length > 4`, `true`},
		},
		reports.ConformancePage: {
			{`document.querySelectorAll("#matrix tr[data-level]").length`, `20`},
			{`document.getElementById("f-count").textContent`, `"20 of 20 cases"`},
			// The status filter leaves only rows with a failing cell.
			{`(function(){var s=document.getElementById("f-status");s.value="bad";s.dispatchEvent(new Event("input"));
			  return Array.prototype.every.call(document.querySelectorAll("#matrix tr[data-level]"), function(r){
			    return r.hidden === !/\b(fail|error)\b/.test(r.dataset.st)})})()`, `true`},
			{`(function(){document.getElementById("f-status").value="";var a=document.getElementById("f-area");a.value="close";a.dispatchEvent(new Event("input"));
			  return document.querySelectorAll("#matrix tbody:not([hidden])").length})()`, `1`},
			// A cell's link opens its evidence panel.
			{`(function(){location.hash="#d1-start_response.checks-headers";
			  return getComputedStyle(document.getElementById("d1-start_response.checks-headers")).display})()`, `"block"`},
			{`(function(){document.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape"}));
			  return [location.hash, getComputedStyle(document.getElementById("d1-start_response.checks-headers")).display]})()`,
				`["#r-start_response.checks-headers","none"]`},
		},
		reports.FrameworksPage: {
			{`document.querySelectorAll("main table.grid th").length > 3`, `true`},
		},
		reports.BenchmarksPage: {
			{`document.querySelectorAll("svg.chart").length >= 4`, `true`},
		},
		reports.HistoryPage: {
			{`document.querySelectorAll("svg.chart").length >= 1`, `true`},
		},
	}
	// The conformance page once more, with its filters given in the query string.
	const filtered = reports.ConformancePage + "?rows=bad&area=start_response&level=should"
	checks[filtered] = [][2]string{
		{`[document.getElementById("f-status").value, document.getElementById("f-area").value,
		   Array.prototype.filter.call(document.querySelectorAll(".f-level"), function(l){return l.checked}).length]`,
			`["bad","start_response",1]`},
		{`Array.prototype.every.call(document.querySelectorAll("#matrix tr[data-level]:not([hidden])"), function(r){
		    return r.dataset.level === "SHOULD" && r.parentNode.dataset.area === "start_response"})`, `true`},
	}
	for _, name := range []string{reports.IndexPage, reports.ConformancePage, filtered, reports.FrameworksPage, reports.BenchmarksPage, reports.HistoryPage} {
		path, query, _ := strings.Cut(name, "?")
		u := (&url.URL{Scheme: "file", Path: filepath.Join(out, path), RawQuery: query}).String()
		load, err := tab.open(ctx, u)
		if err != nil {
			t.Fatalf("%s: %v\nchromium stderr:\n%s", name, err, b.stderr.String())
		}
		for _, p := range load.problems {
			t.Errorf("%s: %s", name, p)
		}
		for _, c := range checks[name] {
			got, err := tab.eval(ctx, c[0])
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if string(got) != c[1] {
				t.Errorf("%s: %s\n  = %s, want %s", name, c[0], got, c[1])
			}
		}
		// Interaction must not have produced errors either.
		for _, p := range tab.problems(load.end) {
			t.Errorf("%s after interaction: %s", name, p)
		}
		shot := filepath.Join(shots, strings.NewReplacer(".html", "", "?", "-", "&", "-", "=", "-").Replace(name)+".png")
		if err := tab.screenshot(ctx, shot); err != nil {
			t.Errorf("%s: screenshot: %v", name, err)
		} else if fi, err := os.Stat(shot); err != nil || fi.Size() < 1000 {
			t.Errorf("%s: screenshot %s missing or empty", name, shot)
		}
	}
	t.Logf("screenshots in %s", shots)
}
