package harness

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

var selectorCases = []catalog.Case{
	{ID: "environ.request-method", Area: "environ", Level: catalog.Must},
	{ID: "environ.script-name", Area: "environ", Level: catalog.Must},
	{ID: "close.on-iteration-error", Area: "close", Level: catalog.Must},
	{ID: "close.once", Area: "close", Level: catalog.Must},
	{ID: "start_response.returns-write", Area: "start_response", Level: catalog.Must},
}

// The glob must select the same cases here as its label filter selects specs in Ginkgo: both
// are checked against every case, Ginkgo's side with Ginkgo's own filter parser.
func TestCaseSelectorAgreesWithGinkgo(t *testing.T) {
	for _, tc := range []struct {
		glob string
		want []string
	}{
		{"environ.*", []string{"environ.request-method", "environ.script-name"}},
		{"close.on-*,start_response.*", []string{"close.on-iteration-error", "start_response.returns-write"}},
		{"*.once", []string{"close.once"}},
		{"close.onc?", []string{"close.once"}},
		{"environ", nil}, // a glob matches whole IDs
		{"environ*", []string{"environ.request-method", "environ.script-name"}},
		{"environ.request-method", []string{"environ.request-method"}},
	} {
		sel, err := ParseCaseSelector(tc.glob)
		if err != nil {
			t.Fatalf("ParseCaseSelector(%q): %v", tc.glob, err)
		}
		filter, err := types.ParseLabelFilter(sel.LabelFilter())
		if err != nil {
			t.Fatalf("Ginkgo rejects the label filter %q for %q: %v", sel.LabelFilter(), tc.glob, err)
		}
		var got, ginkgo []string
		for _, c := range sel.Select(selectorCases) {
			got = append(got, c.ID)
		}
		for _, c := range selectorCases {
			if filter(c.Labels()) {
				ginkgo = append(ginkgo, c.ID)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("--cases %q selects %v, want %v", tc.glob, got, tc.want)
		}
		if strings.Join(ginkgo, " ") != strings.Join(tc.want, " ") {
			t.Errorf("--cases %q: Ginkgo filter %q selects %v, want %v", tc.glob, sel.LabelFilter(), ginkgo, tc.want)
		}
	}
}

func TestCaseSelectorEmptySelectsAll(t *testing.T) {
	sel, err := ParseCaseSelector("")
	if err != nil || !sel.All() || sel.LabelFilter() != "" || len(sel.Select(selectorCases)) != len(selectorCases) {
		t.Errorf("empty --cases: %v, all=%v, filter %q", err, sel.All(), sel.LabelFilter())
	}
}

func TestCaseSelectorRejectsWhatIsNoCaseID(t *testing.T) {
	for _, glob := range []string{"environ/*", "close.(once)", "a|b", "environ.*,", "x&&y", "[ab]*", "env ron"} {
		if _, err := ParseCaseSelector(glob); err == nil {
			t.Errorf("ParseCaseSelector(%q) accepted it", glob)
		}
	}
}
