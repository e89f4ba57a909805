package contract

import "testing"

// TestFrameworks runs the contract under `go test` (for development: the harness runs it inside
// wsgispec instead) and checks that every step has a spec.
func TestFrameworks(t *testing.T) {
	Run(t)
	for _, p := range Undeclared() {
		t.Error(p)
	}
}
