package conformance

import "testing"

// TestConformance runs the suite under `go test` (for development: the harness runs it inside
// wsgispec instead) and checks that every catalog case has exactly one spec.
func TestConformance(t *testing.T) {
	Run(t)
	for _, p := range Undeclared() {
		t.Error(p)
	}
}
