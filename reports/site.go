package reports

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

//go:embed templates
var templateFS embed.FS

// Page files of the site, in the order of the navigation bar.
const (
	IndexPage       = "index.html"
	ConformancePage = "conformance.html"
	FrameworksPage  = "frameworks.html"
	BenchmarksPage  = "benchmarks.html"
	HistoryPage     = "history.html"
)

var pages = []struct{ file, name, tmpl, js string }{
	{IndexPage, "Overview", "index.html", ""},
	{ConformancePage, "Conformance", "conformance.html", "conformance.js"},
	{FrameworksPage, "Frameworks", "frameworks.html", ""},
	{BenchmarksPage, "Benchmarks", "benchmarks.html", ""},
	{HistoryPage, "History", "history.html", ""},
}

// Site is what the pages are rendered from.
type Site struct {
	Data      *Data
	History   *History // nil without a history store
	Generated time.Time
}

// page is the data every page template receives; each page reads its own view.
type page struct {
	Title     string
	CSS       template.CSS
	JS        template.JS
	Nav       []navLink
	Meta      string
	Hosts     []string
	MultiHost bool
	Sources   []*Source
	Skipped   []string
	Index     *indexView
	Conform   *conformView
	Matrix    *matrixView
	Bench     *benchView
	History   *historyView
}

type navLink struct {
	File, Name string
	Here       bool
}

// Render writes every page of the site into dir (created if needed) and returns their paths.
func (s *Site) Render(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	tags := newHostTags(s.Data)
	base := page{
		CSS:       template.CSS(css),
		Hosts:     tags.order,
		MultiHost: len(tags.order) > 1,
		Sources:   s.Data.Sources,
		Skipped:   s.Data.Skipped,
		Meta:      s.meta(),
		Conform:   buildConform(s.Data, tags),
		Matrix:    buildMatrix(s.Data, tags),
		Bench:     buildBench(s.Data, tags),
	}
	base.Index = buildIndex(base.Conform, base.Matrix, base.Bench)
	if s.History != nil {
		base.History = buildHistory(s.History)
	}
	var written []string
	for _, pg := range pages {
		p := base
		p.Title = pg.name
		for _, q := range pages {
			p.Nav = append(p.Nav, navLink{File: q.file, Name: q.name, Here: q.file == pg.file})
		}
		if pg.js != "" {
			js, err := templateFS.ReadFile("templates/" + pg.js)
			if err != nil {
				return nil, err
			}
			p.JS = template.JS(js)
		}
		t, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/charts.html", "templates/"+pg.tmpl)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
			return nil, fmt.Errorf("%s: %w", pg.file, err)
		}
		path := filepath.Join(dir, pg.file)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		written = append(written, path)
	}
	return written, nil
}

// meta is the header line: when the newest run started, at which commits, and when the pages
// were made.
func (s *Site) meta() string {
	var newest time.Time
	var commits []string
	for _, src := range s.Data.Sources {
		if src.Started.After(newest) {
			newest = src.Started
		}
		if c := shortCommit(src.Commit); c != "" && !slices.Contains(commits, c) {
			commits = append(commits, c)
		}
	}
	m := "runs of " + newest.UTC().Format("2006-01-02 15:04 MST")
	if len(commits) > 0 {
		m += " · commit " + strings.Join(commits, ", ")
	}
	return m + " · generated " + s.Generated.UTC().Format("2006-01-02 15:04 MST")
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

var funcs = template.FuncMap{
	"inc":   func(i int) int { return i + 1 },
	"join":  strings.Join,
	"num":   formatNum,
	"short": shortCommit,
	"pct":   func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"stateShort": func(st string) string {
		switch st {
		case "pass":
			return "ok"
		case "fail":
			return "FAIL"
		case "error":
			return "ERR"
		case "xfail":
			return "xfail"
		case "skip":
			return "skip"
		}
		return "–"
	},
	"add":    func(a, b any) float64 { return float(a) + float(b) },
	"sub":    func(a, b any) float64 { return float(a) - float(b) },
	"mul":    func(a, b any) float64 { return float(a) * float(b) },
	"change": func(v, base float64) string { return fmt.Sprintf("%+.1f%%", (v/base-1)*100) },
	"when":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") },
}

// float converts the numbers templates do arithmetic on (chart coordinates, loop indexes).
func float(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	panic(fmt.Sprintf("reports: template arithmetic on %T", v))
}
