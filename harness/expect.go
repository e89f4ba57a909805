package harness

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// ExpectedFailures is an --expect-failures file: case ID → reason. A CI job lists the cases a
// server is known to fail so that only new failures fail the job.
type ExpectedFailures map[string]string

// ReadExpectedFailures reads an --expect-failures file (see ParseExpectedFailures).
func ReadExpectedFailures(path string) (ExpectedFailures, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--expect-failures: %w", err)
	}
	defer f.Close()
	return ParseExpectedFailures(f, path)
}

// ParseExpectedFailures parses lines of `case.id  reason`; blank lines and lines starting with #
// are ignored. Every ID must be in the catalog (a typo would otherwise hide nothing and be
// noticed never), listed once, and come with a reason. name is used in error messages.
func ParseExpectedFailures(r io.Reader, name string) (ExpectedFailures, error) {
	ef := ExpectedFailures{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			id, reason = line[:i], strings.TrimSpace(line[i+1:])
		}
		switch _, known := catalog.Lookup(id); {
		case !known:
			return nil, fmt.Errorf("%s:%d: %q is not a case ID (wsgispec conform --list shows them)", name, n, id)
		case reason == "":
			return nil, fmt.Errorf("%s:%d: %s has no reason; write `%s  why it fails`", name, n, id, id)
		case ef[id] != "":
			return nil, fmt.Errorf("%s:%d: %s is listed twice", name, n, id)
		}
		ef[id] = reason
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ef, nil
}

// Apply marks the listed cases of every run with their reasons.
func (ef ExpectedFailures) Apply(runs []ConformRun) {
	for i := range runs {
		for j := range runs[i].Cases {
			runs[i].Cases[j].ExpectedFailure = ef[runs[i].Cases[j].ID]
		}
	}
}

// Fails reports whether a case result fails the run: a MUST case (or with strict a SHOULD case)
// that failed or errored and is not an expected failure. MAY and INFO cases never do.
func (r CaseResult) Fails(strict bool) bool {
	if r.Status != Fail && r.Status != Error || r.ExpectedFailure != "" {
		return false
	}
	return r.Level == catalog.Must || strict && r.Level == catalog.Should
}

// NowPassing reports whether an expected failure passed: it should leave the list.
func (r CaseResult) NowPassing() bool { return r.ExpectedFailure != "" && r.Status == Pass }

// Exit codes of conform and matrix.
const (
	ExitPass  = 0
	ExitFail  = 1
	ExitSetup = 2
)

// ConformExit is the exit code for a set of runs: 2 if any server could not be tested, else 1
// if any case fails the run (CaseResult.Fails), else 0.
func ConformExit(runs []ConformRun, strict bool) int {
	code := ExitPass
	for _, run := range runs {
		if run.Error != nil {
			return ExitSetup
		}
		for _, c := range run.Cases {
			if c.Fails(strict) {
				code = ExitFail
			}
		}
	}
	return code
}
