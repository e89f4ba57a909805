package reports

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/specs/catalog"
)

// serverKey identifies a column across pages: one server on one host. Runs of the same server
// on the same host from several files are re-runs; the latest one is shown.
type serverKey struct{ name, host string }

// hostTags gives each host a short tag ("H1", "H2", …) used beside server names when results
// come from more than one machine; the pages list the tags with each host's full description.
type hostTags struct {
	order []string
	tag   map[string]string
}

func newHostTags(d *Data) hostTags {
	t := hostTags{order: d.Hosts(), tag: map[string]string{}}
	for i, h := range t.order {
		t.tag[h] = fmt.Sprintf("H%d", i+1)
	}
	return t
}

// label is how a server is named in a column header: bare on a single-host site, with the
// host's tag otherwise.
func (t hostTags) label(k serverKey) string {
	if len(t.order) < 2 {
		return k.name
	}
	return k.name + " · " + t.tag[k.host]
}

// commandLine is the command a server ran under, as a page lists it: a result is only worth as
// much as the reader's ability to start the same server again.
type commandLine struct {
	Label   string // the server (and host, scenario or framework) it ran for
	Command string // empty for a server wsgispec did not start (--url)
}

// conformView is the data of the conformance page.
type conformView struct {
	Columns  []*conformColumn
	Commands []commandLine
	Areas    []*areaGroup
	Levels   []catalog.Level
	// Coverage is how the catalog covers PEP 3333's server-side statements, per section and
	// keyword (the catalog of this build, whatever the runs' versions).
	Coverage []catalog.SectionCoverage
	Keywords []catalog.Keyword
}

// levelCount counts one level's cases in one column.
type levelCount struct {
	Pass, Fail, Total int // Fail counts fail and error that are not expected failures
}

// conformColumn is one server's run as a column of the matrix.
type conformColumn struct {
	Index   int
	Label   string
	Run     ConformRun
	Host    string
	HostTag string
	Must    levelCount
	Should  levelCount
	results map[string]*harness.CaseResult
}

// areaGroup is one area's rows, with each column's pass count in the area.
type areaGroup struct {
	Name   string
	Rows   []*caseRow
	Totals []areaTotal
}

type areaTotal struct {
	Pass, Run int // Run excludes skips and cases the column has no result for
}

// caseRow is one case across the columns.
type caseRow struct {
	catalog.Case
	Cells []cell
	// Statuses is the space-separated set of the row's cell states, and Agree whether all
	// columns that ran the case agree: what the page's filters match on.
	Statuses string
	Agree    bool
}

// cell is one case's result against one column's server; Result is nil when that run has no
// result for the case (an older catalog, a --cases filter, a server that never started).
type cell struct {
	Column *conformColumn
	Result *harness.CaseResult
	State  string // pass, fail, error, skip, xfail (fail or error listed in --expect-failures), none
	Anchor string
}

// buildConform merges the conform runs into one matrix: a column per server × host (the latest
// run of each), a row per case any run reported, grouped by area in the catalog's order.
func buildConform(d *Data, tags hostTags) *conformView {
	v := &conformView{Levels: []catalog.Level{catalog.Must, catalog.Should, catalog.May, catalog.Info},
		Coverage: catalog.CoverageBySection(), Keywords: catalog.Keywords}
	byKey := map[serverKey]*conformColumn{}
	cases := map[string]catalog.Case{}
	var caseOrder []string
	for _, r := range d.Conform {
		k := serverKey{r.Server.Name, r.Source.Host.Label()}
		col, ok := byKey[k]
		if !ok {
			col = &conformColumn{Index: len(v.Columns), Label: tags.label(k), Host: k.host, HostTag: tags.tag[k.host]}
			byKey[k] = col
			v.Columns = append(v.Columns, col)
		} else if r.Source.Started.Before(col.Run.Source.Started) {
			continue
		}
		col.Run = r
		col.results = map[string]*harness.CaseResult{}
		for i := range r.Cases {
			c := &r.Cases[i]
			col.results[c.ID] = c
			if _, seen := cases[c.ID]; !seen {
				caseOrder = append(caseOrder, c.ID)
			}
			cases[c.ID] = c.Case
		}
	}
	for _, col := range v.Columns {
		v.Commands = append(v.Commands, commandLine{col.Label, col.Run.Server.Command})
		for _, c := range col.Run.Cases {
			var lc *levelCount
			switch c.Level {
			case catalog.Must:
				lc = &col.Must
			case catalog.Should:
				lc = &col.Should
			default:
				continue
			}
			lc.Total++
			switch cellState(&c) {
			case "pass":
				lc.Pass++
			case "fail", "error":
				lc.Fail++
			}
		}
	}
	slices.SortStableFunc(caseOrder, func(a, b string) int { return areaRank(cases[a].Area) - areaRank(cases[b].Area) })
	var group *areaGroup
	for _, id := range caseOrder {
		c := cases[id]
		if group == nil || group.Name != c.Area {
			group = &areaGroup{Name: c.Area, Totals: make([]areaTotal, len(v.Columns))}
			v.Areas = append(v.Areas, group)
		}
		row := &caseRow{Case: c, Agree: true}
		states := map[string]bool{}
		first := ""
		for i, col := range v.Columns {
			res := col.results[id]
			st := cellState(res)
			row.Cells = append(row.Cells, cell{Column: col, Result: res, State: st, Anchor: fmt.Sprintf("d%d-%s", col.Index, id)})
			if !states[st] {
				states[st] = true
				row.Statuses += " " + st
			}
			if st == "none" || st == "skip" {
				continue
			}
			group.Totals[i].Run++
			if st == "pass" {
				group.Totals[i].Pass++
			}
			if first == "" {
				first = st
			} else if st != first {
				row.Agree = false
			}
		}
		row.Statuses = strings.TrimSpace(row.Statuses)
		group.Rows = append(group.Rows, row)
	}
	return v
}

// cellState is a result's state as the page colours it.
func cellState(r *harness.CaseResult) string {
	switch {
	case r == nil:
		return "none"
	case r.ExpectedFailure != "" && (r.Status == harness.Fail || r.Status == harness.Error):
		return "xfail"
	}
	return string(r.Status)
}

// areaRank orders areas as the catalog does, unknown ones (from a newer catalog) last.
func areaRank(area string) int {
	if i := slices.Index(catalog.Areas, area); i >= 0 {
		return i
	}
	return len(catalog.Areas)
}
