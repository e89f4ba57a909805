package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// ReadGinkgoReport reads the file written by --ginkgo.json-report.
func ReadGinkgoReport(path string) ([]types.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return nil, fmt.Errorf("%s is not a Ginkgo JSON report: %w", path, err)
	}
	return reports, nil
}

// caseLabel is the prefix of the label naming a spec's case (catalog.Case.Labels).
const caseLabel = "case:"

// JoinReport turns Ginkgo's report into one result per case of cases, in their order. A case's
// status comes from its specs (the worst of them when there are several): passed → pass;
// skipped or pending → skip with the reason given to Skip; failed → fail; timed out, panicked,
// aborted or interrupted → error. A case no spec ran for is a skip, unless the suite itself
// failed (a BeforeSuite, a timeout, an interrupt) before reaching it: then it is an error with
// that reason. Warnings name specs that carry no known case label.
func JoinReport(reports []types.Report, cases []catalog.Case) (results []CaseResult, warnings []string) {
	known := make(map[string]bool, len(cases))
	for _, c := range cases {
		known[c.ID] = true
	}
	byCase := map[string][]types.SpecReport{}
	suiteProblem := eachSpec(reports, func(s types.SpecReport) {
		id := specCaseID(s)
		switch {
		case id == "":
			if !s.State.Is(types.SpecStateSkipped) { // filtered out specs are reported as skipped
				warnings = append(warnings, fmt.Sprintf("spec %q has no %s label; its result is not reported", s.FullText(), caseLabel))
			}
		case known[id]:
			byCase[id] = append(byCase[id], s)
		case !catalogHas(id) && !s.State.Is(types.SpecStateSkipped):
			warnings = append(warnings, fmt.Sprintf("spec %q is labelled with case %q, which the catalog does not have", s.FullText(), id))
		}
	})
	for _, c := range cases {
		results = append(results, caseResult(c, byCase[c.ID], suiteProblem))
	}
	return results, warnings
}

// eachSpec calls f for every It of the reports and returns what went wrong in the suite itself
// (a failed BeforeSuite, a timeout, an interrupt), joined, or "".
func eachSpec(reports []types.Report, f func(types.SpecReport)) (suiteProblem string) {
	var problems []string
	for _, r := range reports {
		problems = append(problems, r.SpecialSuiteFailureReasons...)
		for _, s := range r.SpecReports {
			if s.State.Is(types.SpecStateAborted) {
				// AbortSuite skips every later spec without a message: they were not run for
				// this reason, which no skip may hide.
				problems = append(problems, "the suite was aborted: "+firstLine(s.Failure.Message))
			}
			if s.LeafNodeType != types.NodeTypeIt {
				if s.State.Is(types.SpecStateFailureStates) {
					problems = append(problems, fmt.Sprintf("%s %s: %s", s.LeafNodeType, s.State, firstLine(s.Failure.Message)))
				}
				continue
			}
			f(s)
		}
	}
	return strings.Join(dedupe(problems), "; ")
}

func catalogHas(id string) bool {
	_, ok := catalog.Lookup(id)
	return ok
}

func specCaseID(s types.SpecReport) string {
	for _, l := range s.Labels() {
		if id, ok := strings.CutPrefix(l, caseLabel); ok {
			return id
		}
	}
	return ""
}

// statusRank orders statuses from least to most serious, for combining a case's specs.
var statusRank = map[Status]int{Skip: 0, Pass: 1, Fail: 2, Error: 3}

func caseResult(c catalog.Case, specs []types.SpecReport, suiteProblem string) CaseResult {
	r := CaseResult{Case: c, Status: Skip}
	if len(specs) == 0 {
		r.Message = "no spec for this case ran in this build of the suite"
		if suiteProblem != "" {
			r.Status, r.Message = Error, "not run: "+suiteProblem
		}
		return r
	}
	var worst *types.SpecReport
	var messages []string
	for i := range specs {
		s := &specs[i]
		st, msg := specStatus(*s, suiteProblem)
		r.DurationS += Seconds(s.RunTime)
		if worst == nil || statusRank[st] > statusRank[r.Status] {
			worst, r.Status, messages = s, st, nil
		}
		if st == r.Status && msg != "" {
			messages = append(messages, msg)
		}
	}
	r.Message = strings.Join(dedupe(messages), "\n")
	if ev, ok := evidence(*worst); ok {
		r.Evidence = ev
	}
	return r
}

func specStatus(s types.SpecReport, suiteProblem string) (Status, string) {
	switch {
	case s.State.Is(types.SpecStatePassed):
		return Pass, ""
	case s.State.Is(types.SpecStateFailed):
		return Fail, s.Failure.Message
	case s.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		// Ginkgo skips the remaining specs, with no message, once the suite is interrupted.
		if s.Failure.Message == "" && suiteProblem != "" {
			return Error, "not run: " + suiteProblem
		}
		if s.Failure.Message == "" {
			return Skip, "skipped by the suite"
		}
		return Skip, s.Failure.Message
	default: // timed out, panicked, aborted, interrupted, invalid
		msg := fmt.Sprintf("spec %s", s.State)
		if s.Failure.Message != "" {
			msg += ": " + s.Failure.Message
		}
		return Error, msg
	}
}

// evidence decodes the spec's last evidence entry (a spec that retries records one per try).
func evidence(s types.SpecReport) (catalog.Evidence, bool) {
	for i := len(s.ReportEntries) - 1; i >= 0; i-- {
		e := s.ReportEntries[i]
		if e.Name != catalog.EvidenceEntry {
			continue
		}
		var ev catalog.Evidence
		if err := json.Unmarshal([]byte(e.Value.AsJSON), &ev); err == nil {
			return ev, true
		}
	}
	return catalog.Evidence{}, false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
