package bench

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
)

// synthetic is a file of n rounds of the reference and gunicorn, closed model. Round i's figures
// wobble by a fixed pattern of a few percent, as repeated runs do; slowdown scales gunicorn's
// throughput down and its CPU per request up; drift does the same to both servers (the machine).
func synthetic(n int, slowdown, drift float64) *File {
	wobble := []float64{1.00, 1.03, 0.98, 1.02, 0.97, 1.01, 0.99}
	var runs []Run
	for i := 0; i < n; i++ {
		w := wobble[i%len(wobble)]
		ref := benchRun(ReferenceServer, Closed, i+1, 10000*w/(1+drift), 30*w*(1+drift))
		// gunicorn wobbles against the pattern reversed, so its ratios wobble too.
		g := wobble[(len(wobble)-1-i%len(wobble))%len(wobble)]
		gun := benchRun("gunicorn", Closed, i+1, 2000*g/(1+slowdown)/(1+drift), 200*g*(1+slowdown)*(1+drift))
		runs = append(runs, ref, gun)
	}
	AddReferenceRatios(runs)
	f := &File{}
	f.Runs = runs
	return f
}

func verdicts(t *testing.T, base, new *File) map[string]Comparison {
	t.Helper()
	res, err := Compare(base, new, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Comparison{}
	for _, c := range res.Comparisons {
		out[c.Server+" "+c.Metric] = c
	}
	return out
}

func TestCompareFlagsSlowdown(t *testing.T) {
	v := verdicts(t, synthetic(5, 0, 0), synthetic(5, 0.20, 0))
	for _, key := range []string{"gunicorn req/s", "gunicorn cpu-µs/req"} {
		c := v[key]
		if c.Verdict != Regression || !c.VsReference {
			t.Errorf("%s after a 20%% slowdown: verdict %q (p=%.3f, change %+.1f%%, vs reference %v), want a regression measured against the reference",
				key, c.Verdict, c.P, 100*c.Change, c.VsReference)
		}
	}
	if c := v["reference req/s"]; c.Verdict != NoChange {
		t.Errorf("the unchanged reference: verdict %q, want %q", c.Verdict, NoChange)
	}
}

func TestCompareRepeatIsQuiet(t *testing.T) {
	for key, c := range verdicts(t, synthetic(5, 0, 0), synthetic(5, 0, 0)) {
		if c.Verdict != NoChange {
			t.Errorf("%s compared with a repeat of itself: verdict %q (p=%.3f), want %q", key, c.Verdict, c.P, NoChange)
		}
	}
}

func TestCompareMachineDriftCancelsAgainstReference(t *testing.T) {
	// Everything 25% slower, the reference too: the machine, not gunicorn.
	for key, c := range verdicts(t, synthetic(5, 0, 0), synthetic(5, 0, 0.25)) {
		if c.Server == "gunicorn" && c.Verdict != NoChange {
			t.Errorf("%s when the whole machine slowed: verdict %q (change %+.1f%%), want %q", key, c.Verdict, 100*c.Change, NoChange)
		}
	}
}

func TestCompareReferenceChangeIsDriftNotRegression(t *testing.T) {
	// The reference 20% slower, gunicorn's ratios to it unchanged: the machine slowed.
	base, new := synthetic(5, 0, 0), synthetic(5, 0, 0)
	for i := range new.Runs {
		if r := &new.Runs[i]; r.Server.Name == ReferenceServer {
			r.ThroughputRPS /= 1.2
			r.CPUUsPerReq *= 1.2
		}
	}
	res, err := Compare(base, new, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Comparisons {
		if c.Server == ReferenceServer && c.Verdict != Drift {
			t.Errorf("reference %s 20%% worse: verdict %q, want %q", c.Metric, c.Verdict, Drift)
		}
	}
	if res.Regressions() != 0 {
		t.Errorf("a slower reference alone counted %d regressions, want 0", res.Regressions())
	}
}

func TestCompareReferenceNoiseIsNotARegression(t *testing.T) {
	// NEW's reference happened to be 20% cheaper, so gunicorn's CPU ratio to it rose 25%, but
	// gunicorn's own figures did not move.
	base, new := synthetic(5, 0, 0), synthetic(5, 0, 0)
	for i := range new.Runs {
		if r := &new.Runs[i]; r.Server.Name == ReferenceServer {
			r.CPUUsPerReq /= 1.25
		}
	}
	AddReferenceRatios(new.Runs)
	res, err := Compare(base, new, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Comparisons {
		if c.Server == "gunicorn" && c.Metric == "cpu-µs/req" {
			if c.Verdict != NoChange || c.Raw == nil || c.Raw.Verdict != NoChange || c.Change < 0.2 {
				t.Errorf("gunicorn cpu ratio %+.1f%% with its raw figure unchanged: verdict %q (raw %+v), want %q",
					100*c.Change, c.Verdict, c.Raw, NoChange)
			}
		}
	}
}

// TestCompareRefusesTooFewRounds: with rounds too few for the U test ever to reach p < 0.05 on
// either side, compare refuses to gate (a gate that can never fail is no gate), in one line
// that gives the rounds the README recommends.
func TestCompareRefusesTooFewRounds(t *testing.T) {
	for _, n := range [][2]int{{3, 3}, {3, 4}, {2, 5}, {8, 1}} {
		_, err := Compare(synthetic(n[0], 0, 0), synthetic(n[1], 0.5, 0), DefaultThreshold)
		if err == nil || !strings.Contains(err.Error(), "too few rounds to ever show a change") ||
			!strings.Contains(err.Error(), fmt.Sprintf("--rounds %d", GateRounds)) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%d and %d rounds: %v, want one line refusing to gate", n[0], n[1], err)
		}
	}
	for _, n := range [][2]int{{4, 4}, {3, 5}, {8, 8}} {
		if _, err := Compare(synthetic(n[0], 0, 0), synthetic(n[1], 0.5, 0), DefaultThreshold); err != nil {
			t.Errorf("%d and %d rounds can reach p < 0.05 but compare refused: %v", n[0], n[1], err)
		}
	}
}

func TestMinUTestP(t *testing.T) {
	// The exact minima, as golang.org/x/perf/benchmath tabulates them for equal sizes.
	for _, tc := range []struct {
		n1, n2 int
		want   float64
	}{{3, 3, 0.1}, {4, 4, 0.02857142857142857}, {5, 5, 0.007936507936507936}, {3, 5, 2.0 / 56}, {1, 1, 1}} {
		if got := minUTestP(tc.n1, tc.n2); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("minUTestP(%d, %d) = %g, want %g", tc.n1, tc.n2, got, tc.want)
		}
	}
}

func TestCompareMarkdown(t *testing.T) {
	res, err := Compare(synthetic(5, 0, 0), synthetic(5, 0.20, 0), DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := WriteCompareMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| gunicorn | hello | req/s ÷ref |", "**regression**", "2 regression(s) beyond 10%"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
}

func TestCompareNothingInCommon(t *testing.T) {
	other := synthetic(5, 0, 0)
	for i := range other.Runs {
		other.Runs[i].Scenario = "json"
	}
	if _, err := Compare(synthetic(5, 0, 0), other, DefaultThreshold); err == nil {
		t.Error("Compare of files with no scenario in common returned no error")
	}
}
