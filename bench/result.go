package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/wsgispec/wsgispec/harness"
)

// Load models.
const (
	// Closed: a fixed number of clients, each sending its next request when the last one is
	// answered. Measures throughput.
	Closed = "closed"
	// Open: requests sent at a fixed rate whatever the server does, as real traffic arrives.
	// Measures latency without the coordinated omission a closed model hides.
	Open = "open"
)

// Figures are the measured numbers of one run, and (in a Median) their medians over the rounds.
type Figures struct {
	Rate          float64 `json:"rate"`          // open model's target req/s; 0 for closed
	AchievedRate  float64 `json:"achieved_rate"` // req/s actually sent
	DurationS     float64 `json:"duration_s"`
	Requests      float64 `json:"requests"`
	ThroughputRPS float64 `json:"throughput_rps"` // successful responses per second
	Success       float64 `json:"success"`        // fraction of 2xx/3xx responses, 0..1
	LatencyMS     Latency `json:"latency_ms"`
	ServerCPUS    float64 `json:"server_cpu_s"`   // user + system of the server's process group
	CPUUsPerReq   float64 `json:"cpu_us_per_req"` // ServerCPUS / Requests, in µs
	// CtxSwitchesPerReq is the server's context switches (voluntary and involuntary, over every
	// thread of every process) per request: each is a wake-up or a preemption the request paid
	// for. InvoluntaryCtxSwitchesPerReq is the preemptions alone.
	CtxSwitchesPerReq            float64 `json:"ctx_switches_per_req"`
	InvoluntaryCtxSwitchesPerReq float64 `json:"involuntary_ctx_switches_per_req"`
	ServerRSSMB                  float64 `json:"server_rss_mb"` // sum of its processes' peak RSS
	ClientCPUS                   float64 `json:"client_cpu_s"`  // wsgispec's own CPU over the window
}

// Latency percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Ratios are a run's figures divided by the reference server's in the same round, scenario and
// model: machine drift between rounds and between runs cancels out of them.
type Ratios struct {
	ThroughputRPS float64 `json:"throughput_rps"`
	CPUUsPerReq   float64 `json:"cpu_us_per_req"`
	LatencyP50    float64 `json:"latency_p50"`
	LatencyP99    float64 `json:"latency_p99"`
}

// Run is one server × scenario × round × model: DESIGN.md's bench run.
type Run struct {
	Server      harness.ServerInfo `json:"server"`
	Scenario    string             `json:"scenario"`
	Round       int                `json:"round"` // from 1
	Model       string             `json:"model"`
	Concurrency int                `json:"concurrency"` // closed model's clients; 0 for open
	Figures
	StatusCodes map[string]int `json:"status_codes"`
	ClientBound bool           `json:"client_bound"` // the client used most of a core: req/s understates the server
	Connections Connections    `json:"connections"`
	VsReference *Ratios        `json:"vs_reference,omitempty"`
	Warnings    []string       `json:"warnings,omitempty"`
	// Error is set when the server could not be measured in this scenario and round: it never
	// started (Error.Output is the end of what it printed) or answered the scenario wrongly.
	// The run then has no model and no figures, its later rounds of the scenario are not
	// attempted, and the bench exits 2.
	Error *harness.RunError `json:"error,omitempty"`
}

// failedRun is how a Run with an Error is written: what identifies it, and the error, with no
// figures that could be read as measured.
type failedRun struct {
	Server   harness.ServerInfo `json:"server"`
	Scenario string             `json:"scenario"`
	Round    int                `json:"round"`
	Error    *harness.RunError  `json:"error"`
	Warnings []string           `json:"warnings,omitempty"`
}

// MarshalJSON writes a measured run as it is, and a failed one as a failedRun.
func (r Run) MarshalJSON() ([]byte, error) {
	if r.Error != nil {
		return json.Marshal(failedRun{Server: r.Server, Scenario: r.Scenario, Round: r.Round, Error: r.Error, Warnings: r.Warnings})
	}
	type plain Run
	return json.Marshal(plain(r))
}

// Failed reports whether any run could not be measured.
func Failed(runs []Run) bool {
	for _, r := range runs {
		if r.Error != nil {
			return true
		}
	}
	return false
}

// Spread is how far the rounds strayed from their median.
type Spread struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// Median is one server × scenario × model over all its rounds: the median of every figure and
// of every ratio to the reference, and each figure's spread.
type Median struct {
	Server      harness.ServerInfo `json:"server"`
	Scenario    string             `json:"scenario"`
	Model       string             `json:"model"`
	Rounds      int                `json:"rounds"`
	Concurrency int                `json:"concurrency"`
	Figures
	ClientBoundRounds int `json:"client_bound_rounds"`
	// Connections over the rounds: the most opened, the fewest served at once, the longest
	// wait and every unanswered request.
	Connections Connections       `json:"connections"`
	VsReference *Ratios           `json:"vs_reference,omitempty"`
	Spread      map[string]Spread `json:"spread"` // by field name, e.g. "throughput_rps", "latency_ms.p99"
}

// File is a bench result file: the DESIGN.md envelope of kind bench plus the medians, and the
// name of the raw vegeta results written beside it.
type File struct {
	harness.Envelope[Run]
	Medians []Median `json:"medians"`
	// Results is the file beside this one holding every measured request (gzip'ed vegeta JSON
	// lines, sequence numbers from 0 per run after the warm-up), for latency-over-time plots.
	Results string `json:"results,omitempty"`
}

// figureFields names every Figures field as in the JSON, for medians, spreads and compare.
var figureFields = []struct {
	name string
	of   func(*Figures) *float64
}{
	{"rate", func(f *Figures) *float64 { return &f.Rate }},
	{"achieved_rate", func(f *Figures) *float64 { return &f.AchievedRate }},
	{"duration_s", func(f *Figures) *float64 { return &f.DurationS }},
	{"requests", func(f *Figures) *float64 { return &f.Requests }},
	{"throughput_rps", func(f *Figures) *float64 { return &f.ThroughputRPS }},
	{"success", func(f *Figures) *float64 { return &f.Success }},
	{"latency_ms.p50", func(f *Figures) *float64 { return &f.LatencyMS.P50 }},
	{"latency_ms.p90", func(f *Figures) *float64 { return &f.LatencyMS.P90 }},
	{"latency_ms.p99", func(f *Figures) *float64 { return &f.LatencyMS.P99 }},
	{"latency_ms.max", func(f *Figures) *float64 { return &f.LatencyMS.Max }},
	{"server_cpu_s", func(f *Figures) *float64 { return &f.ServerCPUS }},
	{"cpu_us_per_req", func(f *Figures) *float64 { return &f.CPUUsPerReq }},
	{"ctx_switches_per_req", func(f *Figures) *float64 { return &f.CtxSwitchesPerReq }},
	{"involuntary_ctx_switches_per_req", func(f *Figures) *float64 { return &f.InvoluntaryCtxSwitchesPerReq }},
	{"server_rss_mb", func(f *Figures) *float64 { return &f.ServerRSSMB }},
	{"client_cpu_s", func(f *Figures) *float64 { return &f.ClientCPUS }},
}

var ratioFields = []func(*Ratios) *float64{
	func(r *Ratios) *float64 { return &r.ThroughputRPS },
	func(r *Ratios) *float64 { return &r.CPUUsPerReq },
	func(r *Ratios) *float64 { return &r.LatencyP50 },
	func(r *Ratios) *float64 { return &r.LatencyP99 },
}

// runKey identifies a series of rounds.
type runKey struct{ server, scenario, model string }

// AddReferenceRatios sets every non-reference run's VsReference from the reference run of the
// same scenario, round and model, when there is one.
func AddReferenceRatios(runs []Run) {
	type roundKey struct {
		scenario, model string
		round           int
	}
	ref := map[roundKey]*Run{}
	for i := range runs {
		if r := &runs[i]; r.Server.Name == ReferenceServer && r.Error == nil {
			ref[roundKey{r.Scenario, r.Model, r.Round}] = r
		}
	}
	for i := range runs {
		r := &runs[i]
		base, ok := ref[roundKey{r.Scenario, r.Model, r.Round}]
		if !ok || r.Server.Name == ReferenceServer || r.Error != nil {
			continue
		}
		r.VsReference = &Ratios{
			ThroughputRPS: ratio(r.ThroughputRPS, base.ThroughputRPS),
			CPUUsPerReq:   ratio(r.CPUUsPerReq, base.CPUUsPerReq),
			LatencyP50:    ratio(r.LatencyMS.P50, base.LatencyMS.P50),
			LatencyP99:    ratio(r.LatencyMS.P99, base.LatencyMS.P99),
		}
	}
}

// ratio is a/b, or 0 when b is 0 (a figure the reference did not produce).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Medians summarises the measured runs per server × scenario × model, in the order the series
// first appear; failed runs have no figures and are left out.
func Medians(runs []Run) []Median {
	var order []runKey
	series := map[runKey][]*Run{}
	for i := range runs {
		r := &runs[i]
		if r.Error != nil {
			continue
		}
		k := runKey{r.Server.Name, r.Scenario, r.Model}
		if _, ok := series[k]; !ok {
			order = append(order, k)
		}
		series[k] = append(series[k], r)
	}
	out := make([]Median, 0, len(order))
	for _, k := range order {
		rs := series[k]
		m := Median{Server: rs[0].Server, Scenario: k.scenario, Model: k.model, Rounds: len(rs),
			Concurrency: rs[0].Concurrency, Spread: map[string]Spread{}}
		for _, f := range figureFields {
			values := make([]float64, len(rs))
			for i, r := range rs {
				values[i] = *f.of(&r.Figures)
			}
			*f.of(&m.Figures) = median(values)
			lo, hi := minMax(values)
			m.Spread[f.name] = Spread{Min: lo, Max: hi}
		}
		var ratios []*Ratios
		for i, r := range rs {
			if r.ClientBound {
				m.ClientBoundRounds++
			}
			m.Connections.add(r.Connections, i == 0)
			if r.VsReference != nil {
				ratios = append(ratios, r.VsReference)
			}
		}
		if len(ratios) > 0 {
			m.VsReference = &Ratios{}
			for _, of := range ratioFields {
				values := make([]float64, len(ratios))
				for i, r := range ratios {
					values[i] = *of(r)
				}
				*of(m.VsReference) = median(values)
			}
		}
		out = append(out, m)
	}
	return out
}

// median of values (not modified); 0 for none.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minMax(values []float64) (lo, hi float64) {
	for i, v := range values {
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	return lo, hi
}

// ReadFile reads a bench result file, refusing anything else with a message that says why.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s is not a wsgispec result file: %v", path, err)
	}
	switch {
	case f.Tool != "wsgispec":
		return nil, fmt.Errorf("%s is not a wsgispec result file (no \"tool\": \"wsgispec\")", path)
	case f.Kind != harness.KindBench:
		return nil, fmt.Errorf("%s holds %q results, not bench results", path, f.Kind)
	case harness.ReadableSchema(f.SchemaVersion) != nil:
		return nil, fmt.Errorf("%s: %v", path, harness.ReadableSchema(f.SchemaVersion))
	}
	return &f, nil
}
