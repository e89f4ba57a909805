package bench

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wsgispec/wsgispec/harness"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := append([]float64(nil), tc.in...)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !reflect.DeepEqual(in, tc.in) {
			t.Errorf("median reordered its input: %v became %v", in, tc.in)
		}
	}
}

func TestRoundOrderAlternates(t *testing.T) {
	servers := []string{"reference", "gateway", "gunicorn"}
	var got [][]string
	for round := 0; round < 4; round++ {
		got = append(got, RoundOrder(servers, round))
	}
	want := [][]string{
		{"reference", "gateway", "gunicorn"},
		{"gunicorn", "gateway", "reference"},
		{"reference", "gateway", "gunicorn"},
		{"gunicorn", "gateway", "reference"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RoundOrder over 4 rounds = %v, want %v (ABBA)", got, want)
	}
	if servers[0] != "reference" {
		t.Errorf("RoundOrder modified its input: %v", servers)
	}
}

func TestWithReference(t *testing.T) {
	for in, want := range map[string]string{
		"gunicorn,uwsgi":        "reference,gunicorn,uwsgi",
		"gunicorn, reference":   "gunicorn, reference",
		"all":                   "all",
		"reference":             "reference",
		"gateway,reference,foo": "gateway,reference,foo",
	} {
		if got := WithReference(in); got != want {
			t.Errorf("WithReference(%q) = %q, want %q", in, got, want)
		}
	}
}

func benchRun(server, model string, round int, rps, cpu float64) Run {
	return Run{Server: harness.ServerInfo{Name: server}, Scenario: "hello", Round: round, Model: model,
		Figures: Figures{ThroughputRPS: rps, AchievedRate: rps, Requests: 2 * rps, CPUUsPerReq: cpu, CtxSwitchesPerReq: cpu / 100,
			LatencyMS: Latency{P50: 1, P99: cpu / 10}, ServerRSSMB: 40}}
}

func TestReferenceRatiosAndMedians(t *testing.T) {
	runs := []Run{
		benchRun("reference", Closed, 1, 10000, 30),
		benchRun("gunicorn", Closed, 1, 2000, 200),
		benchRun("gunicorn", Closed, 2, 1800, 210),
		benchRun("reference", Closed, 2, 9000, 35),
		benchRun("gunicorn", Closed, 3, 2500, 180),
		benchRun("gunicorn", Open, 3, 1000, 250), // no reference in round 3: no ratio
	}
	runs[0].ClientBound = true
	AddReferenceRatios(runs)
	if runs[0].VsReference != nil {
		t.Errorf("the reference got a ratio to itself: %+v", runs[0].VsReference)
	}
	if r := runs[2].VsReference; r == nil || r.ThroughputRPS != 0.2 || r.CPUUsPerReq != 6 {
		t.Errorf("gunicorn round 2 ratio = %+v, want throughput 1800/9000 = 0.2 and cpu 210/35 = 6", r)
	}
	if runs[4].VsReference != nil || runs[5].VsReference != nil {
		t.Errorf("round 3 has no reference run but got ratios: %+v, %+v", runs[4].VsReference, runs[5].VsReference)
	}

	medians := Medians(runs)
	if len(medians) != 3 {
		t.Fatalf("got %d medians, want 3 (reference closed, gunicorn closed, gunicorn open): %+v", len(medians), medians)
	}
	ref, g := medians[0], medians[1]
	if ref.Server.Name != "reference" || ref.Rounds != 2 || ref.ClientBoundRounds != 1 || ref.ThroughputRPS != 9500 {
		t.Errorf("reference median = %+v, want 2 rounds, 1 client-bound, 9500 req/s", ref)
	}
	if g.Rounds != 3 || g.ThroughputRPS != 2000 || g.CPUUsPerReq != 200 {
		t.Errorf("gunicorn closed median = %v req/s, %v µs over %d rounds; want 2000, 200, 3", g.ThroughputRPS, g.CPUUsPerReq, g.Rounds)
	}
	if s := g.Spread["throughput_rps"]; s != (Spread{Min: 1800, Max: 2500}) {
		t.Errorf("gunicorn throughput spread = %+v, want 1800..2500", s)
	}
	// The ratios' median is over the rounds that have one (1 and 2): (2000/10000 + 1800/9000)/2.
	if r := g.VsReference; r == nil || r.ThroughputRPS != 0.2 {
		t.Errorf("gunicorn median ratio = %+v, want throughput 0.2", r)
	}
}

// TestFailedRunsAreNotMeasurements: a failed run is written without figures, gets no ratio, and
// counts in no median.
func TestFailedRunsAreNotMeasurements(t *testing.T) {
	failed := Run{Server: harness.ServerInfo{Name: "mine", Command: "mywsgi"}, Scenario: "hello", Round: 1,
		Error: &harness.RunError{Message: "server mine exited (exit status 3) before answering HTTP", Output: "bad config"}}
	runs := []Run{benchRun("reference", Closed, 1, 10000, 30), failed, benchRun("gunicorn", Closed, 1, 2000, 200)}
	AddReferenceRatios(runs)
	if runs[1].VsReference != nil {
		t.Errorf("a failed run got a ratio: %+v", runs[1].VsReference)
	}
	for _, m := range Medians(runs) {
		if m.Server.Name == "mine" {
			t.Errorf("a median of a failed run: %+v", m)
		}
	}
	if !Failed(runs) || Failed(runs[2:]) {
		t.Errorf("Failed: want true with the failed run, false without")
	}
	b, err := json.Marshal(runs[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{`"model"`, `"throughput_rps"`, `"latency_ms"`, `"connections"`} {
		if strings.Contains(string(b), absent) {
			t.Errorf("the failed run is written with %s: %s", absent, b)
		}
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil || back.Error == nil || back.Error.Output != "bad config" || back.Server.Command != "mywsgi" {
		t.Errorf("read back as %+v (%v)", back, err)
	}
}
