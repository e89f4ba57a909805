package catalog

import (
	"strings"
	"testing"
)

func TestStatementIndex(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Statements() {
		if seen[s.ID] {
			t.Errorf("statement %s listed twice", s.ID)
		}
		seen[s.ID] = true
		if !pepSections[s.Section] {
			t.Errorf("%s: section %q is not a PEP 3333 heading", s.ID, s.Section)
		}
		switch s.Keyword {
		case KeyMust, KeyShould, KeyMay, KeyOther:
		default:
			t.Errorf("%s: unknown keyword %q", s.ID, s.Keyword)
		}
		if strings.TrimSpace(s.Says) == "" {
			t.Errorf("%s: says nothing", s.ID)
		}
		for _, id := range s.Cases {
			if _, ok := Lookup(id); !ok {
				t.Errorf("%s cites case %s, which is not in the catalog", s.ID, id)
			}
		}
		switch {
		case s.Untestable != "" && (len(s.Cases) > 0 || s.NoCase != "" || s.Gap != ""):
			t.Errorf("%s: untestable, yet it has cases, a gap or a reason for having no case", s.ID)
		case s.Untestable == "" && len(s.Cases) == 0 && s.NoCase == "":
			t.Errorf("%s: testable statement with no case and no written reason (NoCase)", s.ID)
		case len(s.Cases) > 0 && s.NoCase != "":
			t.Errorf("%s: has cases and also a reason for having none", s.ID)
		}
	}
}

func TestEveryCaseCitesAStatement(t *testing.T) {
	for _, c := range All() {
		cited := StatementsOf(c.ID)
		why, beyond := BeyondPEP()[c.ID]
		switch {
		case len(cited) == 0 && !beyond:
			t.Errorf("case %s tests no statement of the index (add it to a statement's Cases, or to beyondPEP with a reason)", c.ID)
		case len(cited) > 0 && beyond:
			t.Errorf("case %s is listed beyond the PEP, yet tests %v", c.ID, cited)
		case beyond && why == "":
			t.Errorf("case %s is beyond the PEP without a reason", c.ID)
		}
	}
	for id := range BeyondPEP() {
		if _, ok := Lookup(id); !ok {
			t.Errorf("beyondPEP names %s, which is not in the catalog", id)
		}
	}
}
