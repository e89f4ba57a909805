package harness

import (
	"fmt"
	"strings"
	"time"

	"github.com/wsgispec/wsgispec/harness/junit"
)

// serverProperties are the JUnit properties naming the server a testsuite tested.
func serverProperties(s ServerInfo) []junit.Property {
	return []junit.Property{{Name: "server.name", Value: s.Name}, {Name: "server.version", Value: s.Version}, {Name: "server.command", Value: s.Command}}
}

// ConformJUnit renders conformance runs as JUnit: a testsuite per server and area, a testcase per
// case (classname the area, name the ID and title). A failure or error carries the requirement,
// expected, actual, transcript and reproduce line. An expected failure (--expect-failures) is
// reported as skipped with its reason, so the report agrees with the exit code a CI job gates on.
// A server that could not be tested is a testsuite with one errored "setup" testcase.
func ConformJUnit(runs []ConformRun, started time.Time, hostname string) junit.Testsuites {
	doc := junit.Testsuites{Name: "wsgispec conform"}
	stamp := started.UTC().Format("2006-01-02T15:04:05")
	for _, run := range runs {
		if run.Error != "" {
			doc.Suites = append(doc.Suites, junit.Testsuite{
				Name: run.Server.Name, Timestamp: stamp, Hostname: hostname, Properties: serverProperties(run.Server),
				Cases: []junit.Testcase{{
					Classname: "setup", Name: "start " + run.Server.Name, Time: run.DurationS,
					Error: &junit.Problem{Message: firstLine(run.Error), Type: "setup", Text: run.Error},
				}},
			})
			continue
		}
		byArea := map[string]*junit.Testsuite{}
		var order []string
		for _, c := range run.Cases {
			s := byArea[c.Area]
			if s == nil {
				s = &junit.Testsuite{Name: run.Server.Name + "/" + c.Area, Timestamp: stamp, Hostname: hostname, Properties: serverProperties(run.Server)}
				if len(order) == 0 && len(run.Warnings) > 0 {
					s.SystemErr = strings.Join(run.Warnings, "\n")
				}
				byArea[c.Area] = s
				order = append(order, c.Area)
			}
			s.Cases = append(s.Cases, junitCase(c))
		}
		for _, a := range order {
			doc.Suites = append(doc.Suites, *byArea[a])
		}
	}
	return doc
}

func junitCase(c CaseResult) junit.Testcase {
	tc := junit.Testcase{Classname: c.Area, Name: c.ID + ": " + c.Title, Time: c.DurationS}
	details := caseDetails(c)
	switch {
	case c.Status == Pass && c.NowPassing():
		tc.SystemOut = "listed in --expect-failures (" + c.ExpectedFailure + ") but passes now: remove it from the list"
	case c.Status == Skip:
		tc.Skipped = &junit.Skipped{Message: c.Message}
	case c.ExpectedFailure != "":
		tc.Skipped = &junit.Skipped{Message: fmt.Sprintf("expected %s (--expect-failures): %s", c.Status, c.ExpectedFailure)}
		tc.SystemOut = details
	case c.Status == Fail:
		tc.Failure = &junit.Problem{Message: problemLine(c), Type: string(c.Level), Text: details}
	case c.Status == Error:
		tc.Error = &junit.Problem{Message: problemLine(c), Type: string(c.Level), Text: details}
	}
	return tc
}

// problemLine is the one-line message of a failed case.
func problemLine(c CaseResult) string {
	if c.Expected != "" || c.Actual != "" {
		return fmt.Sprintf("[%s] %s: expected %s, actual %s", c.Level, c.ID, oneLine(c.Expected), oneLine(c.Actual))
	}
	return fmt.Sprintf("[%s] %s: %s", c.Level, c.ID, firstLine(c.Message))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// caseDetails is everything known about a failed case, as plain text.
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
