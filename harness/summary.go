package harness

import (
	"fmt"
	"io"
	"strings"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// painter adds ANSI colour when on (stdout is a terminal and NO_COLOR is unset).
type painter bool

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
func (p painter) red(s string) string    { return p.paint("31", s) }
func (p painter) green(s string) string  { return p.paint("32", s) }
func (p painter) yellow(s string) string { return p.paint("33", s) }
func (p painter) bold(s string) string   { return p.paint("1", s) }
func (p painter) dim(s string) string    { return p.paint("2", s) }

// WriteConformSummary prints the terminal report: per server a table of pass/fail/skip/error
// counts per area, then every failure and error with its level, requirement, expected against
// actual and how to reproduce it, the expected failures and those now passing, warnings, and the
// verdict that matches the exit code.
func WriteConformSummary(w io.Writer, runs []ConformRun, strict, color bool) {
	p := painter(color)
	for _, run := range runs {
		writeServerTable(w, p, run)
	}

	var failures, departures, expected, nowPassing []string
	for _, run := range runs {
		for _, c := range run.Cases {
			switch {
			case c.NowPassing():
				nowPassing = append(nowPassing, fmt.Sprintf("  %s  %s  (listed as: %s)", run.Server.Name, c.ID, c.ExpectedFailure))
			case c.Status != Fail && c.Status != Error:
			case c.ExpectedFailure != "":
				expected = append(expected, fmt.Sprintf("  %s  %s  %s: %s", run.Server.Name, c.ID, c.Status, c.ExpectedFailure))
			case c.Fails(strict):
				failures = append(failures, failureBlock(p, run.Server.Name, c))
			default:
				departures = append(departures, failureBlock(p, run.Server.Name, c))
			}
		}
	}
	section := func(title string, items []string, sep string) {
		if len(items) > 0 {
			fmt.Fprintf(w, "\n%s\n%s\n", p.bold(title), strings.Join(items, sep))
		}
	}
	section("Failures that fail the run", failures, "\n\n")
	section("Departures that do not fail the run (MAY and INFO cases, or SHOULD without --strict)", departures, "\n\n")
	section("Expected failures (--expect-failures)", expected, "\n")
	section("Now passing: remove these from the --expect-failures list", nowPassing, "\n")

	var warnings []string
	for _, run := range runs {
		for _, wmsg := range run.Warnings {
			warnings = append(warnings, indent(run.Server.Name+": "+wmsg, "  "))
		}
	}
	section("Warnings", warnings, "\n")

	fmt.Fprintln(w)
	var setup []string
	for _, run := range runs {
		if run.Error != nil {
			setup = append(setup, run.Server.Name)
		}
	}
	what := "MUST"
	if strict {
		what = "MUST or SHOULD"
	}
	switch ConformExit(runs, strict) {
	case ExitSetup:
		fmt.Fprintf(w, "%s: could not test %s (exit 2)\n", p.red("SETUP ERROR"), strings.Join(setup, ", "))
	case ExitFail:
		fmt.Fprintf(w, "%s: %d %s case results failed or errored (exit 1)\n", p.red("FAIL"), countFailing(runs, strict), what)
	default:
		fmt.Fprintf(w, "%s: no %s case failed or errored beyond the expected failures\n", p.green("PASS"), what)
	}
}

func countFailing(runs []ConformRun, strict bool) int {
	n := 0
	for _, run := range runs {
		for _, c := range run.Cases {
			if c.Fails(strict) {
				n++
			}
		}
	}
	return n
}

func writeServerTable(w io.Writer, p painter, run ConformRun) {
	head := run.Server.Name
	if run.Server.Version != "" {
		head += " " + run.Server.Version
	}
	details := fmt.Sprintf("(%.1fs)", run.DurationS)
	if run.Server.Command != "" {
		details += " " + run.Server.Command
	}
	fmt.Fprintf(w, "\n%s  %s\n", p.bold(head), p.dim(details))
	if run.Error != nil {
		fmt.Fprintf(w, "  %s\n%s\n", p.red("could not be tested:"), indent(run.Error.String(), "    "))
		return
	}
	byArea := map[string]*Summary{}
	for _, c := range run.Cases {
		if byArea[c.Area] == nil {
			byArea[c.Area] = &Summary{}
		}
		byArea[c.Area].Add(c.Status)
	}
	fmt.Fprintf(w, "  %-16s %5s %5s %5s %5s\n", "area", "pass", "fail", "skip", "error")
	row := func(name string, s Summary) {
		fail, errs := fmt.Sprintf("%5d", s.Fail), fmt.Sprintf("%5d", s.Error)
		if s.Fail > 0 {
			fail = p.red(fail)
		}
		if s.Error > 0 {
			errs = p.yellow(errs)
		}
		fmt.Fprintf(w, "  %-16s %5d %s %5d %s\n", name, s.Pass, fail, s.Skip, errs)
	}
	for _, a := range catalog.Areas {
		if s := byArea[a]; s != nil {
			row(a, *s)
		}
	}
	row("all", run.Summary)
}

func failureBlock(p painter, server string, c CaseResult) string {
	tag := p.red("FAIL ")
	if c.Status == Error {
		tag = p.yellow("ERROR")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s %s  %s  [%s]  %s\n", tag, server, p.bold(c.ID), c.Level, c.Title)
	field := func(name, v string) {
		if v = strings.TrimRight(v, "\n"); v == "" {
			return
		}
		lines := strings.Split(v, "\n")
		if len(lines) > 12 {
			lines = append(lines[:12], fmt.Sprintf("… (%d more lines in --json)", len(lines)-12))
		}
		fmt.Fprintf(&b, "        %-12s %s\n", name+":", strings.Join(lines, "\n                     "))
	}
	field("requirement", c.Requirement)
	field("expected", c.Expected)
	field("actual", c.Actual)
	// The spec's message repeats expected and actual; it is what explains an error or a case
	// that recorded no evidence.
	if c.Status == Error || c.Expected == "" && c.Actual == "" {
		field("message", c.Message)
	}
	field("reproduce", c.Reproduce)
	return strings.TrimRight(b.String(), "\n")
}
