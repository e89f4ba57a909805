package catalog

import (
	"strings"
	"testing"
)

// pepSections are PEP 3333's headings; every case names the one its requirement sits under.
var pepSections = map[string]bool{
	"Specification Details": true, "environ Variables": true, "Input and Error Streams": true,
	"The start_response() Callable": true, "Handling the Content-Length Header": true,
	"Buffering and Streaming": true, "The write() Callable": true, "Unicode Issues": true,
	"A Note On String Types": true, "Error Handling": true, "HTTP 1.1 Expect/Continue": true,
	"Other HTTP Features": true, "Optional Platform-Specific File Handling": true,
	"Specification Overview": true, "The Server/Gateway Side": true, "Thread Support": true,
	"Server Extension APIs": true, "Application Configuration": true, "URL Reconstruction": true,
	"Middleware Handling of Block Boundaries": true, "Supporting Older (<2.2) Versions of Python": true,
}

func TestRegisteredCases(t *testing.T) {
	cases := All()
	if len(cases) == 0 {
		t.Fatal("no cases registered")
	}
	areas := map[string]int{}
	for _, c := range cases {
		areas[c.Area]++
		if c.Title == "" || c.Requirement == "" {
			t.Errorf("%s: title and requirement must be set", c.ID)
		}
		if !pepSections[c.Section] {
			t.Errorf("%s: section %q is not a PEP 3333 heading", c.ID, c.Section)
		}
		if strings.ContainsAny(c.ID, " &|!,()/") {
			t.Errorf("%s: the ID cannot be part of a Ginkgo label", c.ID)
		}
	}
	for _, a := range Areas {
		if areas[a] == 0 {
			t.Errorf("area %s has no cases", a)
		}
	}
}
