package reports

import (
	"slices"

	"github.com/wsgispec/wsgispec/harness"
)

// matrixView is the data of the frameworks page: a row per framework, a column per server × host.
type matrixView struct {
	Columns  []string
	Rows     []*frameworkRow
	Commands []commandLine // per framework × server: each framework's app is its own
}

type frameworkRow struct {
	Name     string
	Versions []string // the framework's versions seen, usually one
	Cells    []frameworkCell
}

// frameworkCell is one framework on one server; Failing lists the steps that did not pass.
type frameworkCell struct {
	Run     *MatrixRun
	State   string // pass, fail, error (the run could not start), none
	Failing []harness.StepResult
	Passed  int
	Steps   int
}

// buildMatrix merges the matrix runs; of several runs of one framework on one server and host
// the latest is shown.
func buildMatrix(d *Data, tags hostTags) *matrixView {
	v := &matrixView{}
	var keys []serverKey
	colOf := map[serverKey]int{}
	rowOf := map[string]*frameworkRow{}
	latest := map[serverKey]map[string]*MatrixRun{}
	for i := range d.Matrix {
		r := &d.Matrix[i]
		k := serverKey{r.Server.Name, r.Source.Host.Label()}
		if _, ok := colOf[k]; !ok {
			colOf[k] = len(keys)
			keys = append(keys, k)
			v.Columns = append(v.Columns, tags.label(k))
			latest[k] = map[string]*MatrixRun{}
		}
		row, ok := rowOf[r.Framework.Name]
		if !ok {
			row = &frameworkRow{Name: r.Framework.Name}
			rowOf[r.Framework.Name] = row
			v.Rows = append(v.Rows, row)
		}
		if v := r.Framework.Version; v != "" && !slices.Contains(row.Versions, v) {
			row.Versions = append(row.Versions, v)
		}
		if prev := latest[k][r.Framework.Name]; prev == nil || !r.Source.Started.Before(prev.Source.Started) {
			latest[k][r.Framework.Name] = r
		}
	}
	for _, row := range v.Rows {
		for i, k := range keys {
			r := latest[k][row.Name]
			row.Cells = append(row.Cells, newFrameworkCell(r))
			if r != nil {
				v.Commands = append(v.Commands, commandLine{row.Name + " on " + v.Columns[i], r.Server.Command})
			}
		}
	}
	return v
}

func newFrameworkCell(r *MatrixRun) frameworkCell {
	c := frameworkCell{Run: r, State: "none"}
	if r == nil {
		return c
	}
	c.State = "pass"
	if r.Error != nil {
		c.State = "error"
	}
	for _, s := range r.Steps {
		c.Steps++
		switch s.Status {
		case harness.Pass:
			c.Passed++
		case harness.Skip:
		default:
			c.Failing = append(c.Failing, s)
			if c.State == "pass" {
				c.State = "fail"
			}
		}
	}
	return c
}
