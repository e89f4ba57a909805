package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/wsgispec/wsgispec/internal/version"
	"github.com/wsgispec/wsgispec/specs/catalog"
)

// SchemaVersion is the version of the JSON files' layout (DESIGN.md "Case IDs, levels, results";
// docs/schema/*.json). 2: "error" became an object with the server's output apart, a run that
// could not be tested has "cases": [], bench runs have ctx_switches_per_req.
const SchemaVersion = 2

// oldestReadable is the oldest layout readers still accept: version 1 files differ only in
// fields they tolerate (a string "error", no context switches), so stored histories stay usable.
const oldestReadable = 1

// ReadableSchema reports whether a file of schema_version v can be read, and if not why.
func ReadableSchema(v int) error {
	if v < oldestReadable || v > SchemaVersion {
		return fmt.Errorf("schema_version %d; this wsgispec reads %d to %d", v, oldestReadable, SchemaVersion)
	}
	return nil
}

// Kinds of result file.
const (
	KindConform = "conform"
	KindMatrix  = "matrix"
	KindBench   = "bench"
)

// Envelope is the outside of every JSON file wsgispec writes; R is the kind's run type. Bench
// embeds it to add its medians; readers of any kind use Envelope[json.RawMessage].
type Envelope[R any] struct {
	Tool          string  `json:"tool"`
	SchemaVersion int     `json:"schema_version"`
	Version       string  `json:"version"`
	Kind          string  `json:"kind"`
	Started       string  `json:"started"` // RFC 3339
	Commit        *string `json:"commit"`  // of the code under test when the cwd is a git checkout
	Host          Host    `json:"host"`
	Runs          []R     `json:"runs"`
}

// NewEnvelope fills in the tool, versions, host facts and commit for a run that began at started.
func NewEnvelope[R any](ctx context.Context, kind string, started time.Time) Envelope[R] {
	return Envelope[R]{
		Tool:          "wsgispec",
		SchemaVersion: SchemaVersion,
		Version:       version.Version,
		Kind:          kind,
		Started:       started.Format(time.RFC3339),
		Commit:        gitCommit(ctx),
		Host:          CollectHost(),
		Runs:          []R{},
	}
}

// Host is the machine the results come from; results from different hosts are only comparable
// with these beside them.
type Host struct {
	Cores   int     `json:"cores"`
	CPU     string  `json:"cpu"`
	Kernel  string  `json:"kernel"`
	LoadAvg float64 `json:"load_avg"` // 1-minute load average when the run started
}

// CollectHost reads the host's facts from /proc; a fact it cannot read stays empty.
func CollectHost() Host {
	h := Host{Cores: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			h.LoadAvg, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return h
}

// gitCommit is HEAD of the git checkout the command runs in, or nil outside one.
func gitCommit(ctx context.Context) *string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return nil
	}
	c := strings.TrimSpace(string(out))
	return &c
}

// ServerInfo names the server a run tested.
type ServerInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Command string `json:"command"` // as a shell would read it; empty for --url
}

// Status of a case in one run.
type Status string

const (
	Pass  Status = "pass"
	Fail  Status = "fail"
	Skip  Status = "skip"
	Error Status = "error" // the check could not complete: timeout, panic, interrupted suite
)

// Summary counts a run's cases by status.
type Summary struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Skip  int `json:"skip"`
	Error int `json:"error"`
}

// Add counts one status.
func (s *Summary) Add(st Status) {
	switch st {
	case Pass:
		s.Pass++
	case Fail:
		s.Fail++
	case Skip:
		s.Skip++
	case Error:
		s.Error++
	}
}

// CaseResult is a catalog case and what happened to it against one server.
type CaseResult struct {
	catalog.Case
	Status  Status `json:"status"`
	Message string `json:"message,omitempty"` // the failure, error or skip reason
	catalog.Evidence
	DurationS float64 `json:"duration_s"`
	// ExpectedFailure is the reason given in --expect-failures when the case is listed there.
	ExpectedFailure string `json:"expected_failure,omitempty"`
}

// ConformRun is one server's conformance results.
type ConformRun struct {
	Server    ServerInfo   `json:"server"`
	Cases     []CaseResult `json:"cases"`
	Summary   Summary      `json:"summary"`
	DurationS float64      `json:"duration_s"`
	// Error is set when the server could not be tested at all (it never started, the suite
	// could not run); Cases is then empty and the run is a setup error (exit 2).
	Error *RunError `json:"error,omitempty"`
	// Warnings are things the reader should know that are no case's result: the server died
	// during the run, the suite's output when it crashed, specs without a case label.
	Warnings []string `json:"warnings,omitempty"`
}

// RunError is why a server could not be tested: one line, and apart from it the end of what the
// server printed when it ran (its traceback or complaint about its configuration).
type RunError struct {
	Message string `json:"message"`
	Output  string `json:"output"`
}

// NewRunError describes err, keeping a *StartError's output apart from its reason.
func NewRunError(err error) *RunError {
	var se *StartError
	if !errors.As(err, &se) {
		return &RunError{Message: err.Error()}
	}
	e := &RunError{Message: "server " + se.Server + " " + se.Reason, Output: strings.TrimSpace(se.Output)}
	if se.Ran && e.Output == "" {
		e.Message += "; it printed nothing"
	}
	return e
}

// UnmarshalJSON reads the object, or a schema_version 1 file's string.
func (e *RunError) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*e = RunError{Message: s}
		return nil
	}
	type plain RunError
	return json.Unmarshal(b, (*plain)(e))
}

// String is the message and, below it, the output indented: what the terminal and the reports show.
func (e *RunError) String() string {
	if e.Output == "" {
		return e.Message
	}
	return e.Message + "; its output ends:\n" + indent(e.Output, "    ")
}

// Seconds is d in seconds, to the millisecond: what the files and reports show.
func Seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

// WriteJSON writes v indented, to path or to stdout for "-".
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
