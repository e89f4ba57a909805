package harness

import (
	"fmt"
	"io"
	"strings"

	"github.com/wsgispec/wsgispec/internal/version"
	"github.com/wsgispec/wsgispec/specs/catalog"
)

// CatalogFile is `wsgispec conform --list --json`: the cases, for tools.
type CatalogFile struct {
	Tool          string         `json:"tool"`
	SchemaVersion int            `json:"schema_version"`
	Version       string         `json:"version"`
	Kind          string         `json:"kind"` // "catalog"
	Cases         []catalog.Case `json:"cases"`
}

// NewCatalogFile wraps cases for --list --json.
func NewCatalogFile(cases []catalog.Case) CatalogFile {
	if cases == nil {
		cases = []catalog.Case{}
	}
	return CatalogFile{Tool: "wsgispec", SchemaVersion: SchemaVersion, Version: version.Version, Kind: "catalog", Cases: cases}
}

// WriteCatalog prints cases for people: per area, each case's ID, level and title, then the
// PEP section and the requirement's words.
func WriteCatalog(w io.Writer, cases []catalog.Case) {
	area := ""
	for _, c := range cases {
		if c.Area != area {
			area = c.Area
			fmt.Fprintf(w, "\n%s\n", area)
		}
		fmt.Fprintf(w, "  %-40s %-6s %s\n", c.ID, c.Level, c.Title)
		fmt.Fprintf(w, "      %s: %s\n", c.Section, strings.Join(strings.Fields(c.Requirement), " "))
	}
	fmt.Fprintf(w, "\n%d cases\n", len(cases))
}
