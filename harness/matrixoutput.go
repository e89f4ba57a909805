package harness

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteMatrixSummary prints the terminal report of a matrix: a framework × server table, then
// each failing cell's failing steps with expected against actual, the pairs that could not be
// tested with why, warnings, and the verdict that matches the exit code.
func WriteMatrixSummary(w io.Writer, runs []MatrixRun, color bool) {
	p := painter(color)
	writeMatrixTable(w, p, runs)

	var failures, setup, limits, warnings []string
	for i, run := range runs {
		switch {
		case run.Error != nil:
			// gateway-multi's frameworks share one server: say once why it could not be tested.
			if i > 0 && runs[i-1].Server.Name == run.Server.Name && sameError(runs[i-1].Error, run.Error) {
				continue
			}
			setup = append(setup, fmt.Sprintf("  %s  %s\n%s", p.red("SETUP"), pairName(runs, i), indent(run.Error.String(), "        ")))
		case run.Failed():
			failures = append(failures, matrixFailureBlock(p, run))
		}
		for _, s := range run.Limited() {
			limits = append(limits, fmt.Sprintf("  %s  %s %s\n        %s", p.yellow("LIMIT"), pairName(runs, i), p.bold(s.Name), s.Limitation))
		}
		for _, wmsg := range run.Warnings {
			warnings = append(warnings, indent(pairName(runs, i)+": "+wmsg, "  "))
		}
	}
	section := func(title string, items []string) {
		if len(items) > 0 {
			fmt.Fprintf(w, "\n%s\n%s\n", p.bold(title), strings.Join(items, "\n\n"))
		}
	}
	section("Failing cells", failures)
	section("Pairs that could not be tested", setup)
	section("Known limitations of the servers (they do not fail the run)", limits)
	section("Warnings", dedupe(warnings))

	fmt.Fprintln(w)
	switch MatrixExit(runs) {
	case ExitSetup:
		n := 0
		for _, r := range runs {
			if r.Error != nil {
				n++
			}
		}
		fmt.Fprintf(w, "%s: %d of %s could not be tested (exit 2)\n", p.red("SETUP ERROR"), n, pairs(len(runs)))
	case ExitFail:
		n := 0
		for _, r := range runs {
			if r.Failed() {
				n++
			}
		}
		fmt.Fprintf(w, "%s: %d of %s have failing steps (exit 1)\n", p.red("FAIL"), n, pairs(len(runs)))
	default:
		if len(limits) > 0 {
			fmt.Fprintf(w, "%s: every step of %s passed but %d that the servers' known limitations explain\n", p.green("PASS"), pairs(len(runs)), len(limits))
		} else {
			fmt.Fprintf(w, "%s: every step of %s passed\n", p.green("PASS"), pairs(len(runs)))
		}
	}
}

// pairs is "1 pair" or "n pairs".
func pairs(n int) string {
	if n == 1 {
		return "1 pair"
	}
	return fmt.Sprintf("%d pairs", n)
}

// sameError reports whether two pairs could not be tested for the same reason.
func sameError(a, b *RunError) bool { return a != nil && b != nil && *a == *b }

// pairName names runs[i] for the report: "django on uwsgi", or "gateway-multi" for all of its
// frameworks when they share the same error.
func pairName(runs []MatrixRun, i int) string {
	run := runs[i]
	if run.Error != nil && i+1 < len(runs) && runs[i+1].Server.Name == run.Server.Name && sameError(runs[i+1].Error, run.Error) {
		return run.Server.Name
	}
	name := run.Framework.Name + " on " + run.Server.Name
	if run.Mount != "" {
		name += " at " + run.Mount
	}
	return name
}

// matrixCell is what the table shows for a run, uncoloured, and the colour it gets.
func matrixCell(p painter, run MatrixRun) (text string, paint func(string) string) {
	s := run.Summary
	switch {
	case run.Error != nil:
		return "setup error", p.red
	case !run.Failed() && s.Fail+s.Error > 0:
		return fmt.Sprintf("pass (%d limit)", s.Fail+s.Error), p.yellow
	case s.Fail > 0 && s.Error > 0:
		return fmt.Sprintf("%d fail %d err", s.Fail, s.Error), p.red
	case s.Fail > 0:
		return fmt.Sprintf("%d fail", s.Fail), p.red
	case s.Error > 0:
		return fmt.Sprintf("%d error", s.Error), p.yellow
	case s.Skip > 0:
		return fmt.Sprintf("pass (%d skip)", s.Skip), p.green
	default:
		return "pass", p.green
	}
}

// writeMatrixTable prints one row per framework and one column per server, in the order the
// runs come in; a cell missing from runs is blank.
func writeMatrixTable(w io.Writer, p painter, runs []MatrixRun) {
	var servers, frameworks []string
	serverVersion := map[string]string{}
	frameworkLabel := map[string]string{}
	cells := map[[2]string]MatrixRun{}
	for _, r := range runs {
		if _, seen := serverVersion[r.Server.Name]; !seen {
			servers = append(servers, r.Server.Name)
			serverVersion[r.Server.Name] = r.Server.Version
		}
		if _, seen := frameworkLabel[r.Framework.Name]; !seen {
			frameworks = append(frameworks, r.Framework.Name)
			frameworkLabel[r.Framework.Name] = strings.TrimSpace(r.Framework.Name + " " + r.Framework.Version)
		}
		cells[[2]string{r.Framework.Name, r.Server.Name}] = r
	}
	first := utf8.RuneCountInString("framework")
	for _, f := range frameworks {
		first = max(first, utf8.RuneCountInString(frameworkLabel[f]))
	}
	widths := make([]int, len(servers))
	for i, s := range servers {
		widths[i] = utf8.RuneCountInString(s)
		for _, f := range frameworks {
			if r, ok := cells[[2]string{f, s}]; ok {
				text, _ := matrixCell(p, r)
				widths[i] = max(widths[i], utf8.RuneCountInString(text))
			}
		}
	}
	pad := func(s string, n int) string { return s + strings.Repeat(" ", max(n-utf8.RuneCountInString(s), 0)) }

	fmt.Fprintln(w)
	var head strings.Builder
	head.WriteString(pad("framework", first))
	for i, s := range servers {
		head.WriteString("  " + pad(s, widths[i]))
	}
	fmt.Fprintln(w, p.bold(strings.TrimRight(head.String(), " ")))
	for _, f := range frameworks {
		var row strings.Builder
		row.WriteString(pad(frameworkLabel[f], first))
		for i, s := range servers {
			text, paint := "", func(s string) string { return s }
			if r, ok := cells[[2]string{f, s}]; ok {
				text, paint = matrixCell(p, r)
			}
			// Padding goes outside the colour codes, which take no columns.
			row.WriteString("  " + paint(text) + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(text)))
		}
		fmt.Fprintln(w, strings.TrimRight(row.String(), " "))
	}
	var versions []string
	for _, s := range servers {
		if v := serverVersion[s]; v != "" {
			versions = append(versions, s+" "+v)
		}
	}
	if len(versions) > 0 {
		fmt.Fprintln(w, p.dim("servers: "+strings.Join(versions, ", ")))
	}
}

// matrixFailureBlock lists a run's failing and erroring steps with what each expected and got.
func matrixFailureBlock(p painter, run MatrixRun) string {
	var b strings.Builder
	where := run.Framework.Name + " on " + run.Server.Name
	if run.Mount != "" {
		where += " at " + run.Mount
	}
	failing := run.Summary.Fail + run.Summary.Error - len(run.Limited())
	fmt.Fprintf(&b, "  %s: %d of %d steps failed or errored", p.bold(where), failing, len(run.Steps))
	if run.Server.Command != "" {
		fmt.Fprintf(&b, "  %s", p.dim(run.Server.Command))
	}
	b.WriteByte('\n')
	shown := 0
	lastActual := ""
	for _, s := range run.Steps {
		if s.Status != Fail && s.Status != Error || s.Limitation != "" {
			continue
		}
		if shown == maxStepsShown && failing > maxStepsShown+1 {
			fmt.Fprintf(&b, "    … and %d more failing steps (in --json)\n", failing-shown)
			break
		}
		shown++
		tag := p.red("FAIL ")
		if s.Status == Error {
			tag = p.yellow("ERROR")
		}
		fmt.Fprintf(&b, "    %s %s  %s\n", tag, p.bold(s.Name), s.Title)
		writeField(&b, "expected", s.Expected)
		// An app that cannot start answers every step with the same error page: show it once.
		if s.Actual != "" && s.Actual == lastActual {
			writeField(&b, "actual", "(as above)")
		} else {
			writeField(&b, "actual", s.Actual)
		}
		lastActual = s.Actual
		// The step's message repeats expected and actual; it is what explains an error or a
		// step that recorded no evidence.
		if s.Status == Error || s.Expected == "" && s.Actual == "" {
			writeField(&b, "detail", s.Detail)
		}
		writeField(&b, "reproduce", s.Reproduce)
	}
	if out := lastLines(run.ServerOutput, serverOutputLines); out != "" {
		fmt.Fprintf(&b, "    %s\n%s\n", p.dim("the server's output ends:"), indent(out, "      "))
	}
	return strings.TrimRight(b.String(), "\n")
}

// How much of a failing cell the terminal shows; --json has all of it.
const (
	maxStepsShown     = 5  // failing steps per cell (a broken app fails them all alike)
	maxFieldLines     = 8  // lines of a step's field
	serverOutputLines = 15 // lines of the server's output, where the app's traceback ends
)

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// writeField writes a named, possibly multi-line value under a failing step, its lines aligned.
func writeField(b *strings.Builder, name, v string) {
	if v = strings.TrimRight(v, "\n"); v == "" {
		return
	}
	lines := strings.Split(v, "\n")
	if len(lines) > maxFieldLines {
		lines = append(lines[:maxFieldLines], fmt.Sprintf("… (%d more lines in --json)", len(lines)-maxFieldLines))
	}
	const margin = "          "
	fmt.Fprintf(b, "%s%-10s %s\n", margin, name+":", strings.Join(lines, "\n"+margin+strings.Repeat(" ", 11)))
}
