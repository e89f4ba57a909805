package reports

// indexView is the data of the overview page: one line per server × host over all kinds.
type indexView struct {
	Servers []*indexLine
	// HelloModel is the load model whose hello numbers are shown ("" without hello results).
	HelloModel string
}

type indexLine struct {
	Label   string
	Version string
	// Conform is the server's conformance column (nil without a conformance run).
	Conform *conformColumn
	// Frameworks counts the frameworks that passed the matrix on this server, of Tried.
	Frameworks, Tried int
	Hello             *benchStat
}

// helloScenario is the benchmark the overview quotes: the smallest response, where the server's
// own overhead dominates.
const helloScenario = "hello"

func buildIndex(cv *conformView, mv *matrixView, bv *benchView) *indexView {
	v := &indexView{}
	byLabel := map[string]*indexLine{}
	line := func(label, version string) *indexLine {
		l, ok := byLabel[label]
		if !ok {
			l = &indexLine{Label: label}
			byLabel[label] = l
			v.Servers = append(v.Servers, l)
		}
		if l.Version == "" {
			l.Version = version
		}
		return l
	}
	for _, col := range cv.Columns {
		line(col.Label, col.Run.Server.Version).Conform = col
	}
	for i, label := range mv.Columns {
		var l *indexLine
		for _, row := range mv.Rows {
			c := row.Cells[i]
			if c.Run == nil {
				continue
			}
			if l == nil {
				l = line(label, c.Run.Server.Version)
			}
			l.Tried++
			if c.State == "pass" {
				l.Frameworks++
			}
		}
	}
	// The closed model is the throughput figure when a scenario ran under both.
	var hello *scenarioView
	for _, sv := range bv.Scenarios {
		if sv.Scenario == helloScenario && (hello == nil || sv.Model == "closed") {
			hello = sv
		}
	}
	if hello != nil {
		v.HelloModel = hello.Model
		for _, s := range hello.Stats {
			line(s.Label, s.Server.Version).Hello = s
		}
	}
	return v
}
