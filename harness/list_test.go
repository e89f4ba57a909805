package harness

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// TestWriteCoverage checks that the coverage table's last row accounts for every statement.
func TestWriteCoverage(t *testing.T) {
	var b bytes.Buffer
	WriteCoverage(&b)
	var all string
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "all sections") {
			all = line
		}
	}
	total := 0
	for _, cell := range strings.Fields(strings.TrimPrefix(strings.TrimSpace(all), "all sections")) {
		for _, n := range strings.Split(cell, "/") {
			var v int
			fmt.Sscan(n, &v)
			total += v
		}
	}
	if total != len(catalog.Statements()) {
		t.Errorf("the all-sections row %q counts %d statements, the index has %d", all, total, len(catalog.Statements()))
	}
}
