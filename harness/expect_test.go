package harness

import (
	"strings"
	"testing"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// knownCase is a case of the real catalog, which ParseExpectedFailures checks IDs against.
func knownCase(t *testing.T) catalog.Case {
	t.Helper()
	all := catalog.All()
	if len(all) < 2 {
		t.Skip("the catalog has fewer than two cases")
	}
	return all[0]
}

func TestParseExpectedFailures(t *testing.T) {
	c := knownCase(t)
	other := catalog.All()[1]
	in := "# gunicorn's known departures\n\n" +
		c.ID + "  gunicorn buffers write() until the app returns  \n" +
		"   " + other.ID + "\tsee upstream issue 1234\n"
	ef, err := ParseExpectedFailures(strings.NewReader(in), "known.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(ef) != 2 || ef[c.ID] != "gunicorn buffers write() until the app returns" || ef[other.ID] != "see upstream issue 1234" {
		t.Errorf("parsed %q", ef)
	}
}

func TestParseExpectedFailuresRejects(t *testing.T) {
	c := knownCase(t)
	for _, tc := range []struct{ in, wantErr string }{
		{"environ.no-such-case  typo\n", `known.txt:1: "environ.no-such-case" is not a case ID`},
		{"# ok\n" + c.ID + "\n", "known.txt:2: " + c.ID + " has no reason"},
		{c.ID + " a\n" + c.ID + " b\n", "known.txt:2: " + c.ID + " is listed twice"},
	} {
		_, err := ParseExpectedFailures(strings.NewReader(tc.in), "known.txt")
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseExpectedFailures(%q) = %v, want %q", tc.in, err, tc.wantErr)
		}
	}
}

func result(id string, level catalog.Level, st Status) CaseResult {
	area, _, _ := strings.Cut(id, ".")
	return CaseResult{Case: catalog.Case{ID: id, Area: area, Level: level, Title: id + " title", Section: id + " section", Requirement: "the PEP's words"}, Status: st}
}

func TestConformExit(t *testing.T) {
	run := func(cases ...CaseResult) ConformRun { return ConformRun{Server: ServerInfo{Name: "s"}, Cases: cases} }
	for _, tc := range []struct {
		name   string
		runs   []ConformRun
		expect ExpectedFailures
		strict bool
		want   int
	}{
		{"all pass", []ConformRun{run(result("a.must", catalog.Must, Pass))}, nil, false, 0},
		{"MUST fails", []ConformRun{run(result("a.must", catalog.Must, Fail))}, nil, false, 1},
		{"MUST errors", []ConformRun{run(result("a.must", catalog.Must, Error))}, nil, false, 1},
		{"MUST skipped", []ConformRun{run(result("a.must", catalog.Must, Skip))}, nil, false, 0},
		{"SHOULD fails", []ConformRun{run(result("a.should", catalog.Should, Fail))}, nil, false, 0},
		{"SHOULD fails, strict", []ConformRun{run(result("a.should", catalog.Should, Fail))}, nil, true, 1},
		{"MAY and INFO fail, strict", []ConformRun{run(result("a.may", catalog.May, Fail), result("a.info", catalog.Info, Error))}, nil, true, 0},
		{"MUST fails, expected", []ConformRun{run(result("a.must", catalog.Must, Fail))}, ExpectedFailures{"a.must": "known"}, false, 0},
		{"MUST errors, expected", []ConformRun{run(result("a.must", catalog.Must, Error))}, ExpectedFailures{"a.must": "known"}, false, 0},
		{"one server fails", []ConformRun{run(result("a.must", catalog.Must, Pass)), run(result("a.must", catalog.Must, Fail))}, nil, false, 1},
		{"setup error wins", []ConformRun{run(result("a.must", catalog.Must, Fail)), {Error: &RunError{Message: "never started"}}}, nil, false, 2},
	} {
		tc.expect.Apply(tc.runs)
		if got := ConformExit(tc.runs, tc.strict); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestNowPassing(t *testing.T) {
	runs := []ConformRun{{Cases: []CaseResult{result("a.fixed", catalog.Must, Pass), result("a.broken", catalog.Must, Fail), result("a.unlisted", catalog.Must, Pass)}}}
	ExpectedFailures{"a.fixed": "was broken", "a.broken": "still broken"}.Apply(runs)
	var now []string
	for _, c := range runs[0].Cases {
		if c.NowPassing() {
			now = append(now, c.ID)
		}
	}
	if strings.Join(now, ",") != "a.fixed" {
		t.Errorf("now passing: %v, want [a.fixed]", now)
	}
}
