package harness

import (
	"fmt"
	"strings"
	"time"

	"github.com/wsgispec/wsgispec/harness/junit"
	"github.com/wsgispec/wsgispec/specs/catalog"
)

// ConformJUnit renders conformance runs as JUnit that means what the exit code means: a
// <failure> (status fail) or <error> (status error) only for a case that fails the run
// (CaseResult.Fails under strict), so a run that exits 0 shows none. Every other departure (MAY
// and INFO cases, SHOULD without --strict) and every expected failure passes, its verdict and
// evidence in <system-out>. A skipped case is <skipped> with its reason.
//
// Each server × area is a testsuite; a testcase's classname is "<server>.<area>" (the server's
// name as given), so several servers in one file stay apart, and its name is the stable case ID
// alone, so rewording a title keeps CI systems' test history. The schema CI systems check
// (junit-10.xsd) allows properties on suites only: each suite has the server's name, version
// and command, and per case "<id>.title", "<id>.level", "<id>.section", "<id>.requirement" and
// "<id>.verdict". A failure's message is one whole line: level, ID, title, expected and actual,
// and the requirement. A server that could not be tested is a suite "<server>.setup" with one
// errored testcase "setup" carrying its output.
func ConformJUnit(runs []ConformRun, strict bool, started time.Time, hostname string) junit.Testsuites {
	doc := junit.Testsuites{Name: "wsgispec conform"}
	stamp := started.UTC().Format("2006-01-02T15:04:05")
	for _, run := range runs {
		server := run.Server.Name
		newSuite := func(name string) *junit.Testsuite {
			return &junit.Testsuite{Name: name, Timestamp: stamp, Hostname: hostname, Properties: []junit.Property{
				{Name: "server.name", Value: server}, {Name: "server.version", Value: run.Server.Version},
				{Name: "server.command", Value: run.Server.Command},
			}}
		}
		if run.Error != nil {
			s := newSuite(server + ".setup")
			s.Cases = []junit.Testcase{{
				Classname: server + ".setup", Name: "setup", Time: junit.Seconds(run.DurationS),
				Error: &junit.Problem{Message: "server " + server + " could not be tested: " + run.Error.Message, Type: "setup", Text: run.Error.String()},
			}}
			doc.Suites = append(doc.Suites, *s)
			continue
		}
		byArea := map[string]*junit.Testsuite{}
		var order []string
		for _, c := range run.Cases {
			s := byArea[c.Area]
			if s == nil {
				s = newSuite(server + "." + c.Area)
				if len(order) == 0 && len(run.Warnings) > 0 {
					s.SystemErr = strings.Join(run.Warnings, "\n")
				}
				byArea[c.Area] = s
				order = append(order, c.Area)
			}
			s.Properties = append(s.Properties,
				junit.Property{Name: c.ID + ".title", Value: c.Title},
				junit.Property{Name: c.ID + ".level", Value: string(c.Level)},
				junit.Property{Name: c.ID + ".section", Value: c.Section},
				junit.Property{Name: c.ID + ".requirement", Value: c.Requirement},
				junit.Property{Name: c.ID + ".verdict", Value: verdict(c, strict)},
			)
			s.Cases = append(s.Cases, junitCase(server, c, strict))
		}
		for _, a := range order {
			doc.Suites = append(doc.Suites, *byArea[a])
		}
	}
	return doc
}

func junitCase(server string, c CaseResult, strict bool) junit.Testcase {
	tc := junit.Testcase{Classname: server + "." + c.Area, Name: c.ID, Time: junit.Seconds(c.DurationS)}
	switch {
	case c.Status == Skip:
		tc.Skipped = &junit.Skipped{Message: c.Message}
	case c.Fails(strict) && c.Status == Fail:
		tc.Failure = &junit.Problem{Message: problemLine(c), Type: string(c.Level), Text: caseDetails(c)}
	case c.Fails(strict):
		tc.Error = &junit.Problem{Message: problemLine(c), Type: string(c.Level), Text: caseDetails(c)}
	case c.Status != Pass || c.NowPassing():
		tc.SystemOut = "verdict: " + verdict(c, strict) + "\n" + caseDetails(c)
	}
	return tc
}

// verdict says what a case's result means for the run, in words.
func verdict(c CaseResult, strict bool) string {
	switch {
	case c.NowPassing():
		return "pass; listed in --expect-failures (" + c.ExpectedFailure + "): remove it from the list"
	case c.Status == Pass:
		return "pass"
	case c.Status == Skip:
		return "skip: " + oneLine(c.Message)
	case c.ExpectedFailure != "":
		return fmt.Sprintf("%s, expected (--expect-failures: %s): does not fail the run", c.Status, c.ExpectedFailure)
	case c.Fails(strict):
		return fmt.Sprintf("%s: fails the run (%s)", c.Status, c.Level)
	case c.Level == catalog.Should:
		return fmt.Sprintf("%s: a SHOULD departure, which fails the run only with --strict", c.Status)
	default:
		return fmt.Sprintf("%s: a %s departure, which never fails the run", c.Status, c.Level)
	}
}

// problemLine is the one-line message of a failed case, whole: what CI systems show first.
func problemLine(c CaseResult) string {
	what := oneLine(c.Message)
	if c.Expected != "" || c.Actual != "" {
		what = fmt.Sprintf("expected %s, actual %s", oneLine(c.Expected), oneLine(c.Actual))
	}
	return fmt.Sprintf("[%s] %s (%s): %s. PEP 3333, %s: %s", c.Level, c.ID, c.Title, what, c.Section, oneLine(c.Requirement))
}

// oneLine joins a text's lines and runs of blanks into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// caseDetails is everything known about a case's result, as plain text.
func caseDetails(c CaseResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s] %s\nPEP 3333, %s: %s\n", c.ID, c.Level, c.Title, c.Section, c.Requirement)
	for _, f := range []struct{ name, value string }{
		{"expected", c.Expected}, {"actual", c.Actual}, {"message", c.Message},
		{"reproduce", c.Reproduce}, {"transcript", c.Transcript},
	} {
		if v := strings.TrimRight(f.value, "\n"); v != "" {
			if strings.Contains(v, "\n") {
				fmt.Fprintf(&b, "%s:\n%s\n", f.name, indent(v, "  "))
			} else {
				fmt.Fprintf(&b, "%s: %s\n", f.name, v)
			}
		}
	}
	return b.String()
}
