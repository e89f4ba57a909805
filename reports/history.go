package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"time"

	"github.com/wsgispec/wsgispec/bench"
)

// History is a benchmark history store (`wsgispec bench --history DIR`): one bench result file
// per stored run, oldest first.
type History struct {
	Points []HistoryPoint
}

// HistoryPoint is one server × scenario × model of one stored run: the medians over its rounds.
type HistoryPoint struct {
	Time       time.Time
	Commit     string
	Host       string
	Server     string
	Scenario   string
	Model      string
	Throughput float64
	CPU        float64 // server CPU µs per request
	Switches   float64 // server context switches per request
	P99        float64
}

// LoadHistory reads the history store in dir; an empty store is an error.
func LoadHistory(dir string) (*History, error) {
	files, err := bench.ReadHistory(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no benchmark history in %s (it has no %s; wsgispec bench --history %s writes one)", dir, bench.HistoryFile, dir)
	}
	if err != nil {
		return nil, err
	}
	h := &History{}
	for i, f := range files {
		t, err := time.Parse(time.RFC3339, f.Started)
		if err != nil {
			return nil, fmt.Errorf("%s entry %d: started %q is not an RFC 3339 time", dir, i+1, f.Started)
		}
		commit := ""
		if f.Commit != nil {
			commit = *f.Commit
		}
		host := Host{Cores: f.Host.Cores, CPU: f.Host.CPU, Kernel: f.Host.Kernel}.Label()
		medians := f.Medians
		if len(medians) == 0 {
			medians = bench.Medians(f.Runs)
		}
		for _, m := range medians {
			h.Points = append(h.Points, HistoryPoint{Time: t, Commit: commit, Host: host, Server: m.Server.Name,
				Scenario: m.Scenario, Model: m.Model, Throughput: m.ThroughputRPS, CPU: m.CPUUsPerReq,
				Switches: m.CtxSwitchesPerReq, P99: m.LatencyMS.P99})
		}
	}
	if len(h.Points) == 0 {
		return nil, fmt.Errorf("the benchmark history in %s holds no measurements", dir)
	}
	sort.SliceStable(h.Points, func(i, j int) bool { return h.Points[i].Time.Before(h.Points[j].Time) })
	return h, nil
}

// RegressionThreshold is how far below the median of the points before it a throughput must
// fall to be marked a regression.
const RegressionThreshold = 0.10

// regressionWindow is how many earlier points that median looks at.
const regressionWindow = 5

// historyView is the data of the history page: a chart per scenario × model, a line per server
// × host, and the regressions found.
type historyView struct {
	Charts      []*historyChart
	Regressions []regression
	Threshold   float64
}

// historyChart is one scenario × model over time: throughput (where regressions are marked),
// server CPU and context switches per request, and p99 latency.
type historyChart struct {
	Scenario, Model                string
	Throughput, CPU, Switches, P99 *lineChart
}

// historyMetric is a figure the history page plots.
type historyMetric struct {
	unit string
	of   func(HistoryPoint) float64
}

type regression struct {
	Scenario, Model, Server string
	Time                    time.Time
	Commit                  string
	Throughput, Baseline    float64
}

func buildHistory(h *History) *historyView {
	v := &historyView{Threshold: RegressionThreshold}
	type chartKey struct{ scenario, model string }
	type seriesKey struct{ server, host string }
	var charts []chartKey
	series := map[chartKey][]seriesKey{}
	points := map[chartKey]map[seriesKey][]HistoryPoint{}
	hosts := map[string]bool{}
	for _, p := range h.Points {
		hosts[p.Host] = true
	}
	for _, p := range h.Points {
		ck, sk := chartKey{p.Scenario, p.Model}, seriesKey{p.Server, p.Host}
		if points[ck] == nil {
			charts = append(charts, ck)
			points[ck] = map[seriesKey][]HistoryPoint{}
		}
		if points[ck][sk] == nil {
			series[ck] = append(series[ck], sk)
		}
		points[ck][sk] = append(points[ck][sk], p)
	}
	for _, ck := range charts {
		var minT, maxT time.Time
		for _, sk := range series[ck] {
			for _, p := range points[ck][sk] {
				if minT.IsZero() || p.Time.Before(minT) {
					minT = p.Time
				}
				maxT = later(maxT, p.Time)
			}
		}
		ticks := timeTicks(minT, maxT)
		chart := func(m historyMetric, mark func(label string, i int, p HistoryPoint, pt *point)) *lineChart {
			var lines []lineSeries
			for _, sk := range series[ck] {
				label := sk.server
				if len(hosts) > 1 {
					label += " · " + sk.host
				}
				ls := lineSeries{Label: label}
				for i, p := range points[ck][sk] {
					pt := point{X: float64(p.Time.Unix()), Y: m.of(p),
						Title: fmt.Sprintf("%s %s: %s %s%s", label, p.Time.UTC().Format("2006-01-02 15:04"), formatNum(m.of(p)), m.unit, commitNote(p.Commit))}
					if mark != nil {
						mark(label, i, p, &pt)
					}
					ls.Points = append(ls.Points, pt)
				}
				lines = append(lines, ls)
			}
			return newLineChart(lines, ticks, m.unit, false)
		}
		hc := &historyChart{Scenario: ck.scenario, Model: ck.model}
		hc.Throughput = chart(historyMetric{"req/s", func(p HistoryPoint) float64 { return p.Throughput }},
			func(label string, i int, p HistoryPoint, pt *point) {
				prev := points[ck][seriesKey{p.Server, p.Host}][max(0, i-regressionWindow):i]
				if base := baseline(prev); base > 0 && p.Throughput < base*(1-RegressionThreshold) {
					pt.Marked = true
					pt.Title += fmt.Sprintf(" (regression: %.0f%% below %s)", (1-p.Throughput/base)*100, formatNum(base))
					v.Regressions = append(v.Regressions, regression{Scenario: ck.scenario, Model: ck.model, Server: label,
						Time: p.Time, Commit: p.Commit, Throughput: p.Throughput, Baseline: base})
				}
			})
		hc.CPU = chart(historyMetric{"CPU µs/req", func(p HistoryPoint) float64 { return p.CPU }}, nil)
		hc.Switches = chart(historyMetric{"switches/req", func(p HistoryPoint) float64 { return p.Switches }}, nil)
		hc.P99 = chart(historyMetric{"ms p99", func(p HistoryPoint) float64 { return p.P99 }}, nil)
		v.Charts = append(v.Charts, hc)
	}
	return v
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// baseline is the median throughput of the earlier points, 0 when there are none.
func baseline(prev []HistoryPoint) float64 {
	if len(prev) == 0 {
		return 0
	}
	xs := make([]float64, len(prev))
	for i, p := range prev {
		xs[i] = p.Throughput
	}
	return median(xs)
}

func commitNote(c string) string {
	if c == "" {
		return ""
	}
	return " at " + shortCommit(c)
}

// timeTicks are up to five dates spread over [lo, hi].
func timeTicks(lo, hi time.Time) []point {
	if !hi.After(lo) {
		return []point{{X: float64(lo.Unix()), Title: lo.UTC().Format("01-02 15:04")}}
	}
	layout := "2006-01-02"
	if hi.Sub(lo) < 7*24*time.Hour {
		layout = "01-02 15:04"
	}
	var out []point
	for i := 0; i <= 4; i++ {
		t := lo.Add(time.Duration(float64(hi.Sub(lo)) * float64(i) / 4))
		out = append(out, point{X: float64(t.Unix()), Title: t.UTC().Format(layout)})
	}
	return out
}

// median of xs (not empty); xs is reordered.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
