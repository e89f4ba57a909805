// Package catalog is the list of wsgispec's conformance cases: stable IDs, the PEP 3333 section
// and keyword each one rests on, and the requirement's own words. The Ginkgo suites tag each spec
// with its case's labels; the harness joins Ginkgo's report back to this catalog by ID, and lists
// it without running anything (`wsgispec conform --list`). Plain Go: no Ginkgo, no cgo.
package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Level is the PEP's own keyword in the sentence a case quotes; INFO marks behaviour the PEP does
// not state (keep-alive, HTTP handling beyond it).
type Level string

const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	May    Level = "MAY"
	Info   Level = "INFO"
)

// Case is one conformance requirement.
type Case struct {
	ID          string `json:"id"`      // "<area>.<name>", stable forever
	Area        string `json:"area"`    // environ, input, errors, start_response, headers, exc_info, write, close, body, file_wrapper, http
	Section     string `json:"section"` // the PEP 3333 heading the requirement sits under
	Level       Level  `json:"level"`
	Title       string `json:"title"`
	Requirement string `json:"requirement"` // the PEP's words (or, for INFO, the behaviour checked)
	// LevelWhy defends a level that is not simply the keyword of the quoted sentence: a duty
	// the PEP implies, an HTTP rule, a permission that binds the other side.
	LevelWhy string `json:"level_why,omitempty"`
}

// Labels are the Ginkgo labels a spec for this case carries: "case:<id>", "area:<area>",
// "level:<must|should|may|info>". Ginkgo labels cannot hold &|!,()/ so nothing else goes in them.
func (c Case) Labels() []string {
	return []string{"case:" + c.ID, "area:" + c.Area, "level:" + strings.ToLower(string(c.Level))}
}

// Evidence is what a spec attaches to its report (as a Ginkgo report entry named EvidenceEntry)
// so that a failure shows expected against actual, the bytes exchanged and how to replay them.
type Evidence struct {
	Expected   string `json:"expected"`
	Actual     string `json:"actual"`
	Transcript string `json:"transcript,omitempty"`
	Reproduce  string `json:"reproduce,omitempty"`
}

// EvidenceEntry is the name of the Ginkgo report entry that carries a case's Evidence.
const EvidenceEntry = "evidence"

// Busy is what the suite reports about a case after which the server was still busy (its
// requests unfinished, or a new request unanswered): the suite then stops, and the harness
// restarts the server for the cases that remain. State and Failure are the case's own verdict
// before that ("passed", "failed", "skipped", …, and its message), which the abort replaces in
// Ginkgo's report.
type Busy struct {
	Message string `json:"message"`
	State   string `json:"state"`
	Failure string `json:"failure,omitempty"`
}

// BusyEntry is the name of the Ginkgo report entry that carries a Busy.
const BusyEntry = "server-busy"

// BusyPrefix starts every Busy message: "server still busy with <case> after N s: …".
const BusyPrefix = "server still busy with "

var registry = map[string]Case{}

// Register adds cases to the catalog; each area's file calls it from init. A duplicate or
// malformed ID is a programming error and panics at start-up, before any run.
func Register(cases ...Case) {
	for _, c := range cases {
		area, _, ok := strings.Cut(c.ID, ".")
		if !ok || area != c.Area {
			panic(fmt.Sprintf("catalog: case ID %q must be <area>.<name> with area %q", c.ID, c.Area))
		}
		switch c.Level {
		case Must, Should, May, Info:
		default:
			panic(fmt.Sprintf("catalog: case %q has unknown level %q", c.ID, c.Level))
		}
		if _, dup := registry[c.ID]; dup {
			panic(fmt.Sprintf("catalog: case %q registered twice", c.ID))
		}
		registry[c.ID] = c
	}
}

// Lookup returns the case with this ID.
func Lookup(id string) (Case, bool) {
	c, ok := registry[id]
	return c, ok
}

// MustLookup returns the case with this ID and panics when there is none (for spec files, whose
// IDs are constants).
func MustLookup(id string) Case {
	c, ok := registry[id]
	if !ok {
		panic(fmt.Sprintf("catalog: no case %q", id))
	}
	return c
}

// All returns every case, ordered by area then ID.
func All() []Case {
	out := make([]Case, 0, len(registry))
	for _, c := range registry {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Area != out[j].Area {
			return areaOrder(out[i].Area) < areaOrder(out[j].Area)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Areas lists the areas in the order reports show them.
var Areas = []string{"environ", "input", "errors", "start_response", "headers", "exc_info", "write", "close", "body", "file_wrapper", "http"}

func areaOrder(a string) int {
	for i, x := range Areas {
		if x == a {
			return i
		}
	}
	return len(Areas)
}
