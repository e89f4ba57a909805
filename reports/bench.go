package reports

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/wsgispec/wsgispec/bench"
)

// benchView is the data of the benchmarks page.
type benchView struct {
	Scenarios []*scenarioView
	// RawErrors name raw results files that exist but could not be read.
	RawErrors []string
	// Failed are the servers that could not be measured in a scenario.
	Failed []BenchFailure
}

// scenarioView is one scenario under one load model, across servers.
type scenarioView struct {
	Scenario, Model string
	Stats           []*benchStat
	Throughput      *barChart
	CPU             *barChart
	Switches        *barChart // context switches per request
	RSS             *barChart
	Latency         *lineChart
	OverTime        *lineChart // nil without raw results
	HasReference    bool
	// Commands are the servers' command lines in this scenario (its app is the scenario's).
	Commands []commandLine
}

// benchStat is one server's medians in a scenario.
type benchStat struct {
	BenchSeries
	Label string
	// Ratio is the median over rounds of throughput over the reference server's in the same
	// round; 0 without a reference.
	Ratio float64
}

type benchKey struct {
	scenario, model string
	server          serverKey
}

// overTimeBuckets is how many intervals a run's latency-over-time line has.
const overTimeBuckets = 60

// buildBench groups the bench series by scenario and model, one per server × host: when several
// files hold the same series (re-runs), the latest file's wins.
func buildBench(d *Data, tags hostTags) *benchView {
	v := &benchView{Failed: d.BenchFailed}
	latest := map[benchKey]*BenchSeries{}
	var order []benchKey
	for i := range d.Bench {
		s := &d.Bench[i]
		k := benchKey{s.Scenario, s.Model, serverKey{s.Server.Name, s.Source.Host.Label()}}
		prev, ok := latest[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || !s.Source.Started.Before(prev.Source.Started) {
			latest[k] = s
		}
	}
	byScenario := map[[2]string]*scenarioView{}
	for _, k := range order {
		sk := [2]string{k.scenario, k.model}
		sv, ok := byScenario[sk]
		if !ok {
			sv = &scenarioView{Scenario: k.scenario, Model: k.model}
			byScenario[sk] = sv
			v.Scenarios = append(v.Scenarios, sv)
		}
		st := &benchStat{BenchSeries: *latest[k], Label: tags.label(k.server)}
		if r := st.VsReference; r != nil {
			st.Ratio = r.ThroughputRPS
		}
		sv.Stats = append(sv.Stats, st)
		sv.Commands = append(sv.Commands, commandLine{st.Label, st.Server.Command})
	}
	raw := map[string]map[string][]point{}
	for _, sv := range v.Scenarios {
		sv.charts()
		var lines []lineSeries
		for _, s := range sv.Stats {
			if s.Source.RawResults == "" {
				continue
			}
			byAttack, ok := raw[s.Source.RawResults]
			if !ok {
				var err error
				if byAttack, err = latencyOverTime(s.Source.RawResults); err != nil {
					v.RawErrors = append(v.RawErrors, err.Error())
				}
				raw[s.Source.RawResults] = byAttack
			}
			// Round 1 stands for the series: the rounds differ in noise, not in shape.
			if pts := byAttack[fmt.Sprintf("%s/%s/1/%s", s.Server.Name, sv.Scenario, sv.Model)]; len(pts) > 0 {
				lines = append(lines, lineSeries{Label: s.Label, Points: pts})
			}
		}
		if len(lines) > 0 {
			sv.OverTime = newLineChart(lines, secondTicks(lines), "ms", true)
		}
	}
	return v
}

// charts draws the scenario's throughput, CPU, memory and latency-percentile charts.
func (sv *scenarioView) charts() {
	var tp, cpu, sw, rss []barItem
	var lat []lineSeries
	for _, s := range sv.Stats {
		ref := s.Server.Name == bench.ReferenceServer
		sv.HasReference = sv.HasReference || ref
		spread := s.Spread["throughput_rps"]
		tp = append(tp, barItem{Label: s.Label, Value: s.ThroughputRPS, Lo: spread.Min, Hi: spread.Max, Highlight: ref})
		cpu = append(cpu, barItem{Label: s.Label, Value: s.CPUUsPerReq, Highlight: ref})
		sw = append(sw, barItem{Label: s.Label, Value: s.CtxSwitchesPerReq, Highlight: ref})
		rss = append(rss, barItem{Label: s.Label, Value: s.ServerRSSMB, Highlight: ref})
		l := s.LatencyMS
		var pts []point
		for i, p := range []struct {
			name string
			ms   float64
		}{{"p50", l.P50}, {"p90", l.P90}, {"p99", l.P99}, {"max", l.Max}} {
			pts = append(pts, point{X: float64(i), Y: p.ms, Title: fmt.Sprintf("%s %s: %s ms", s.Label, p.name, formatNum(p.ms))})
		}
		lat = append(lat, lineSeries{Label: s.Label, Points: pts})
	}
	sv.Throughput = newBarChart(tp, "req/s", formatNum)
	sv.CPU = newBarChart(cpu, "µs/req", formatNum)
	sv.Switches = newBarChart(sw, "switches/req", formatNum)
	sv.RSS = newBarChart(rss, "MB", formatNum)
	sv.Latency = newLineChart(lat, []point{{X: 0, Title: "p50"}, {X: 1, Title: "p90"}, {X: 2, Title: "p99"}, {X: 3, Title: "max"}}, "ms", true)
}

// latencyOverTime reads a raw results file (gzip'ed vegeta JSON lines, attacks named
// server/scenario/round/model) into one line per attack: the 99th percentile latency of each of
// overTimeBuckets intervals, x in seconds from the attack's first request.
func latencyOverTime(path string) (map[string][]point, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("raw results %s: %v", path, err)
	}
	type sample struct {
		at  time.Time
		lat time.Duration
	}
	attacks := map[string][]sample{}
	dec := vegeta.NewJSONDecoder(gz)
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("raw results %s: %v", path, err)
		}
		attacks[r.Attack] = append(attacks[r.Attack], sample{r.Timestamp, r.Latency})
	}
	out := map[string][]point{}
	for name, ss := range attacks {
		slices.SortFunc(ss, func(a, b sample) int { return a.at.Compare(b.at) })
		start, span := ss[0].at, ss[len(ss)-1].at.Sub(ss[0].at)
		if span <= 0 {
			continue
		}
		buckets := make([][]float64, overTimeBuckets)
		for _, s := range ss {
			i := min(int(float64(s.at.Sub(start))/float64(span)*overTimeBuckets), overTimeBuckets-1)
			buckets[i] = append(buckets[i], float64(s.lat)/float64(time.Millisecond))
		}
		var pts []point
		for i, b := range buckets {
			if len(b) == 0 {
				continue
			}
			slices.Sort(b)
			p99 := b[min(len(b)-1, len(b)*99/100)]
			at := (float64(i) + 0.5) / overTimeBuckets * span.Seconds()
			pts = append(pts, point{X: at, Y: p99, Title: fmt.Sprintf("%.2f s: p99 %s ms over %d requests", at, formatNum(p99), len(b))})
		}
		out[name] = pts
	}
	return out, nil
}

// secondTicks are five marks in seconds across the series' x range.
func secondTicks(lines []lineSeries) []point {
	hi := 0.0
	for _, l := range lines {
		for _, p := range l.Points {
			hi = max(hi, p.X)
		}
	}
	var out []point
	for i := 0; i <= 4; i++ {
		x := hi * float64(i) / 4
		out = append(out, point{X: x, Title: fmt.Sprintf("%.1f s", x)})
	}
	return out
}
