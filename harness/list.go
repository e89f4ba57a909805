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
	// Statements is PEP 3333's statement index, each with the cases that test it, and
	// Coverage its counts by section and keyword.
	Statements []catalog.Statement       `json:"statements"`
	Coverage   []catalog.SectionCoverage `json:"coverage"`
}

// NewCatalogFile wraps cases for --list --json.
func NewCatalogFile(cases []catalog.Case) CatalogFile {
	if cases == nil {
		cases = []catalog.Case{}
	}
	return CatalogFile{Tool: "wsgispec", SchemaVersion: SchemaVersion, Version: version.Version, Kind: "catalog", Cases: cases,
		Statements: catalog.Statements(), Coverage: catalog.CoverageBySection()}
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
		if c.LevelWhy != "" {
			fmt.Fprintf(w, "      level: %s\n", c.LevelWhy)
		}
		if ids := catalog.StatementsOf(c.ID); len(ids) > 0 {
			fmt.Fprintf(w, "      tests: %s\n", strings.Join(ids, ", "))
		}
	}
	fmt.Fprintf(w, "\n%d cases\n", len(cases))
	WriteCoverage(w)
}

// WriteCoverage prints how PEP 3333's server-side statements are covered by the cases, per
// section and keyword, as covered/partly/none/untestable.
func WriteCoverage(w io.Writer) {
	fmt.Fprintf(w, "\nPEP 3333 statements binding the server, by section: covered/partly/none/untestable\n")
	row := func(name string, cells []string) {
		line := fmt.Sprintf("  %-44s", name)
		for _, c := range cells {
			line += fmt.Sprintf(" %-12s", c)
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	var head []string
	for _, k := range catalog.Keywords {
		head = append(head, string(k))
	}
	row("section", head)
	for _, sc := range catalog.CoverageBySection() {
		name := sc.Section
		if name == "all" {
			name = "all sections"
		}
		var cells []string
		for _, k := range catalog.Keywords {
			cells = append(cells, sc.ByKeyword[k].String())
		}
		row(name, cells)
	}
	var none []string
	for _, s := range catalog.Statements() {
		if s.Coverage() == catalog.Uncovered {
			none = append(none, s.ID)
		}
	}
	fmt.Fprintf(w, "  testable without a case (each with its reason in --list --json): %s\n", strings.Join(none, ", "))
}
