// Package reports renders wsgispec's result files (DESIGN.md "Case IDs, levels, results") as a
// small static site: index, conformance, frameworks, benchmarks and history pages. Every page is
// one self-contained HTML file (CSS, JS and SVG charts inline, no fonts or scripts fetched), so a
// report opened from disk, mailed, or kept as a CI artifact looks the same everywhere.
//
// Input may come from many machines and CI jobs: Load reads every result file under a directory,
// tags each run with the host and file it came from, and merges runs of the same kind.
package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wsgispec/wsgispec/bench"
	"github.com/wsgispec/wsgispec/harness"
)

// Source is one result file that went into the site.
type Source struct {
	Path    string // relative to the input directory
	Kind    string // conform, matrix or bench
	Version string // of the wsgispec that wrote it
	Started time.Time
	Commit  string // empty when the run did not know it
	Host    Host
	Runs    int
	// RawResults is the absolute path of a bench file's raw requests (gzip'ed vegeta JSON lines
	// beside it), when the file names one and it exists.
	RawResults string
}

// Host is the machine a file came from. The envelope carries no host name, only the facts that
// make results comparable, so hosts are told apart (and labelled) by those facts.
type Host struct {
	Cores   int     `json:"cores"`
	CPU     string  `json:"cpu"`
	Kernel  string  `json:"kernel"`
	LoadAvg float64 `json:"load_avg"`
}

// Label names the host on the pages.
func (h Host) Label() string {
	cpu := h.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	s := fmt.Sprintf("%d× %s", h.Cores, cpu)
	if h.Kernel != "" {
		s += ", Linux " + h.Kernel
	}
	return s
}

// envelope is the outside of every result file; the runs are decoded by kind.
type envelope struct {
	Tool          string            `json:"tool"`
	SchemaVersion int               `json:"schema_version"`
	Version       string            `json:"version"`
	Kind          string            `json:"kind"`
	Started       string            `json:"started"`
	Commit        *string           `json:"commit"`
	Host          Host              `json:"host"`
	Runs          []json.RawMessage `json:"runs"`
}

// Data is everything read from an input directory.
type Data struct {
	Sources []*Source // by start time
	Conform []ConformRun
	Matrix  []MatrixRun
	Bench   []BenchSeries
	// BenchFailed are the bench runs of servers that could not be measured (never started,
	// answered a scenario wrongly), with the error and the server's output.
	BenchFailed []BenchFailure
	Skipped     []string // JSON files under the directory that are not wsgispec results
}

// BenchFailure is a failed bench run and the file it came from.
type BenchFailure struct {
	bench.Run
	Source *Source
}

// Hosts lists the distinct host labels, in the order of the sources.
func (d *Data) Hosts() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range d.Sources {
		if l := s.Host.Label(); !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// ConformRun is one server's conformance run and the file it came from.
type ConformRun struct {
	harness.ConformRun
	Source *Source
}

// MatrixRun is one server × framework run of the framework matrix.
type MatrixRun struct {
	harness.MatrixRun
	Source *Source
}

// BenchSeries is one server × scenario × model of a bench file: the medians over its rounds.
type BenchSeries struct {
	bench.Median
	Source *Source
}

// Load reads every *.json file under dir (recursively). Files that are JSON but not wsgispec
// results (a Ginkgo report, a browser profile) are listed in Skipped; a result file that cannot
// be decoded is an error, as is a directory holding no results at all.
func Load(dir string) (*Data, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("result directory %s does not exist", dir)
	}
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	d := &Data{}
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return d.add(path, rel, b)
	})
	if err != nil {
		return nil, err
	}
	if len(d.Sources) == 0 {
		return nil, fmt.Errorf("no wsgispec result files (*.json with \"tool\": \"wsgispec\") under %s", dir)
	}
	sort.SliceStable(d.Sources, func(i, j int) bool { return d.Sources[i].Started.Before(d.Sources[j].Started) })
	return d, nil
}

// add decodes one file's bytes into d; abs is its path (raw results are found beside it), rel
// names it in errors and on the pages.
func (d *Data) add(abs, rel string, b []byte) error {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil || env.Tool != "wsgispec" {
		d.Skipped = append(d.Skipped, rel)
		return nil
	}
	if err := harness.ReadableSchema(env.SchemaVersion); err != nil {
		return fmt.Errorf("%s: %v", rel, err)
	}
	src := &Source{Path: rel, Kind: env.Kind, Version: env.Version, Host: env.Host, Runs: len(env.Runs)}
	if env.Commit != nil {
		src.Commit = *env.Commit
	}
	if env.Started != "" {
		t, err := time.Parse(time.RFC3339, env.Started)
		if err != nil {
			return fmt.Errorf("%s: started %q is not an RFC 3339 time", rel, env.Started)
		}
		src.Started = t
	}
	switch env.Kind {
	case harness.KindConform:
		for i, raw := range env.Runs {
			r := ConformRun{Source: src}
			if err := json.Unmarshal(raw, &r.ConformRun); err != nil {
				return fmt.Errorf("%s: run %d: %v", rel, i, err)
			}
			d.Conform = append(d.Conform, r)
		}
	case harness.KindMatrix:
		for i, raw := range env.Runs {
			r := MatrixRun{Source: src}
			if err := json.Unmarshal(raw, &r.MatrixRun); err != nil {
				return fmt.Errorf("%s: run %d: %v", rel, i, err)
			}
			d.Matrix = append(d.Matrix, r)
		}
	case harness.KindBench:
		var f bench.File
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("%s: %v", rel, err)
		}
		// Files written before medians existed, or trimmed by hand, still have their runs.
		medians := f.Medians
		if len(medians) == 0 {
			medians = bench.Medians(f.Runs)
		}
		for _, m := range medians {
			d.Bench = append(d.Bench, BenchSeries{Median: m, Source: src})
		}
		for _, r := range f.Runs {
			if r.Error != nil {
				d.BenchFailed = append(d.BenchFailed, BenchFailure{Run: r, Source: src})
			}
		}
		if f.Results != "" {
			raw := f.Results
			if !filepath.IsAbs(raw) {
				raw = filepath.Join(filepath.Dir(abs), raw)
			}
			if _, err := os.Stat(raw); err == nil {
				src.RawResults = raw
			}
		}
	default:
		return fmt.Errorf("%s: unknown kind %q (want conform, matrix or bench)", rel, env.Kind)
	}
	d.Sources = append(d.Sources, src)
	return nil
}
