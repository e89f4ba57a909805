package harness

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// CaseSelector is --cases: comma-separated globs over case IDs, where * matches any run of
// characters (dots included, so "environ*" is a whole area) and ? one character. The same
// pattern selects catalog cases here and, as a Ginkgo label filter, specs in the suite binary,
// so both sides agree on what was asked for.
type CaseSelector struct {
	globs []string
	re    *regexp.Regexp // matches a whole case ID; nil selects everything
}

// ParseCaseSelector parses --cases; "" selects every case.
func ParseCaseSelector(s string) (CaseSelector, error) {
	if strings.TrimSpace(s) == "" {
		return CaseSelector{}, nil
	}
	var sel CaseSelector
	var alts []string
	for _, g := range strings.Split(s, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			return CaseSelector{}, fmt.Errorf("--cases %q has an empty pattern", s)
		}
		var b strings.Builder
		for _, r := range g {
			switch {
			case r == '*':
				b.WriteString(".*")
			case r == '?':
				b.WriteString(".")
			case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-':
				b.WriteRune(r)
			case r == '.':
				b.WriteString(`\.`)
			default:
				// Case IDs hold nothing else, and Ginkgo's filter syntax reserves most punctuation.
				return CaseSelector{}, fmt.Errorf("--cases %q: %q may hold only letters, digits, . _ - and the wildcards * ?", s, g)
			}
		}
		sel.globs = append(sel.globs, g)
		alts = append(alts, b.String())
	}
	sel.re = regexp.MustCompile("^(?:" + strings.Join(alts, "|") + ")$")
	return sel, nil
}

// All reports whether the selector selects every case.
func (s CaseSelector) All() bool { return s.re == nil }

// String is the --cases value it came from.
func (s CaseSelector) String() string { return strings.Join(s.globs, ",") }

// Match reports whether a case ID is selected.
func (s CaseSelector) Match(id string) bool { return s.re == nil || s.re.MatchString(id) }

// Select returns the selected cases, in catalog order.
func (s CaseSelector) Select(cases []catalog.Case) []catalog.Case {
	var out []catalog.Case
	for _, c := range cases {
		if s.Match(c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// LabelFilter is the Ginkgo --label-filter that runs the selected cases' specs: a regular
// expression over the "case:<id>" label, or "" (run everything) when all are selected.
func (s CaseSelector) LabelFilter() string {
	if s.re == nil {
		return ""
	}
	// The pattern can hold no '/', the only character that ends a Ginkgo filter regexp.
	return "/^case:" + strings.TrimPrefix(s.re.String(), "^") + "/"
}
