package bench

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"
)

// DefaultThreshold is the median change (10%) below which compare calls no change a regression,
// however significant: back-to-back runs of one server differ by 7-30% here.
const DefaultThreshold = 0.10

// Verdicts of one comparison.
const (
	Regression  = "regression"
	Improvement = "improvement"
	NoChange    = "~"
	// Drift is a significant change of the reference server itself: the machine changed, not the
	// code under test. It never fails a comparison; the other servers are judged against it.
	Drift = "drift (machine)"
)

// compareMetric is a figure compare decides on, from the closed model: throughput or server
// CPU per request.
type compareMetric struct {
	name       string
	higherGood bool
	of         func(r *Run) float64
	ofRatio    func(r *Ratios) float64
}

var compareMetrics = []compareMetric{
	{"req/s", true, func(r *Run) float64 { return r.ThroughputRPS }, func(r *Ratios) float64 { return r.ThroughputRPS }},
	{"cpu-µs/req", false, func(r *Run) float64 { return r.CPUUsPerReq }, func(r *Ratios) float64 { return r.CPUUsPerReq }},
}

// Comparison is one server × scenario × metric of two bench files.
type Comparison struct {
	Server, Scenario, Metric string
	// VsReference: the values are ratios to the reference server of the same round (both files
	// measured it), not raw figures; Raw then judges the raw figures too.
	VsReference bool
	Base, New   []float64
	judgement
	Raw *judgement
}

// CompareResult is every comparison of two files and what they share.
type CompareResult struct {
	Threshold   float64
	Comparisons []Comparison
	// Unmatched names the series only one file has.
	Unmatched []string
}

// Regressions counts the comparisons judged a regression.
func (c *CompareResult) Regressions() int {
	n := 0
	for _, x := range c.Comparisons {
		if x.Verdict == Regression {
			n++
		}
	}
	return n
}

// Compare judges NEW against BASE per server × scenario: a regression when a Mann-Whitney U
// test over the rounds finds the samples differ (p < 0.05) AND the median moved the wrong way
// by more than threshold, in req/s or in CPU µs per request (closed model). Each figure is taken
// as a ratio to the same round's reference server when both files have it, which cancels drift
// of the machine between the two runs; the raw figure must then have moved the same way at
// p < 0.05 as well, so that the reference's own noise (it is measured, too) does not pass for a
// regression. The reference
// itself is compared in raw figures, and its changes are reported as drift, never as regressions.
func Compare(base, new *File, threshold float64) (*CompareResult, error) {
	baseSeries, newSeries := closedSeries(base.Runs), closedSeries(new.Runs)
	if len(baseSeries) == 0 || len(newSeries) == 0 {
		return nil, errors.New("a file has no closed-model runs to compare")
	}
	if err := checkRounds(baseSeries, newSeries); err != nil {
		return nil, err
	}
	res := &CompareResult{Threshold: threshold}
	keys := make([]seriesKey, 0, len(baseSeries))
	for k := range baseSeries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].scenario != keys[j].scenario {
			return keys[i].scenario < keys[j].scenario
		}
		return keys[i].server < keys[j].server
	})
	for _, k := range keys {
		nr, ok := newSeries[k]
		if !ok {
			res.Unmatched = append(res.Unmatched, fmt.Sprintf("%s %s only in BASE", k.server, k.scenario))
			continue
		}
		br := baseSeries[k]
		relative := k.server != ReferenceServer && allHaveRatios(br) && allHaveRatios(nr)
		for _, m := range compareMetrics {
			res.Comparisons = append(res.Comparisons, compareOne(k, m, br, nr, relative, threshold))
		}
	}
	for k := range newSeries {
		if _, ok := baseSeries[k]; !ok {
			res.Unmatched = append(res.Unmatched, fmt.Sprintf("%s %s only in NEW", k.server, k.scenario))
		}
	}
	sort.Strings(res.Unmatched)
	if len(res.Comparisons) == 0 {
		return nil, errors.New("the two files have no server and scenario in common")
	}
	return res, nil
}

type seriesKey struct{ server, scenario string }

// GateRounds is the rounds a side a CI gate should use (README, "Measuring performance"): on a
// 2-core machine, with 8 rounds of 1 s windows a +25% CPU change was flagged 10 times in 10 and
// a repeat run never; with 5 only 8 times in 10.
const GateRounds = 8

// checkRounds refuses series with too few rounds on either side for the U test ever to reach
// p < 0.05, however far apart the rounds are: a gate on them could never fail.
func checkRounds(base, new map[seriesKey][]*Run) error {
	alpha := benchmath.DefaultThresholds.CompareAlpha
	for k, b := range base {
		n, ok := new[k]
		if !ok {
			continue
		}
		if p := minUTestP(len(b), len(n)); p > alpha {
			return fmt.Errorf("too few rounds to ever show a change at p < %.2f: %s %s has %d rounds in BASE and %d in NEW (the best p is %.3f); run bench with --rounds %d on both sides for a gate",
				alpha, k.server, k.scenario, len(b), len(n), p, GateRounds)
		}
	}
	return nil
}

// minUTestP is the smallest two-sided p a Mann-Whitney U test of samples of n1 and n2 values
// can give: all of one sample below all of the other, 2 of the C(n1+n2, n1) orderings.
func minUTestP(n1, n2 int) float64 {
	orderings := 1.0
	for i := 1; i <= n1; i++ {
		orderings = orderings * float64(n2+i) / float64(i)
	}
	return min(1, 2/orderings)
}

func closedSeries(runs []Run) map[seriesKey][]*Run {
	out := map[seriesKey][]*Run{}
	for i := range runs {
		if r := &runs[i]; r.Model == Closed && r.Error == nil {
			k := seriesKey{r.Server.Name, r.Scenario}
			out[k] = append(out[k], r)
		}
	}
	return out
}

func allHaveRatios(runs []*Run) bool {
	for _, r := range runs {
		if r.VsReference == nil {
			return false
		}
	}
	return true
}

func compareOne(k seriesKey, m compareMetric, base, new []*Run, relative bool, threshold float64) Comparison {
	values := func(runs []*Run, ratio bool) []float64 {
		out := make([]float64, len(runs))
		for i, r := range runs {
			if ratio {
				out[i] = m.ofRatio(r.VsReference)
			} else {
				out[i] = m.of(r)
			}
		}
		return out
	}
	c := Comparison{Server: k.server, Scenario: k.scenario, Metric: m.name, VsReference: relative,
		Base: values(base, relative), New: values(new, relative)}
	c.judgement = judge(c.Base, c.New, m.higherGood, threshold)
	if relative {
		// A ratio moves when the reference does too: the raw figure must have moved the same
		// way, significantly, or the change was the reference's own noise. Its size is judged on
		// the ratio alone, since the machine's drift may shrink or swell the raw change.
		raw := judge(values(base, false), values(new, false), m.higherGood, threshold)
		c.Raw = &raw
		confirmed := raw.P < benchmath.DefaultThresholds.CompareAlpha && (raw.Change > 0) == (c.Change > 0)
		if (c.Verdict == Regression || c.Verdict == Improvement) && !confirmed {
			c.Note = fmt.Sprintf("the ratio to the reference moved %+.1f%% but the raw figure %+.1f%% (p=%.3f)", 100*c.Change, 100*raw.Change, raw.P)
			c.Verdict = NoChange
		}
	}
	if k.server == ReferenceServer && (c.Verdict == Regression || c.Verdict == Improvement) {
		c.Verdict = Drift
	}
	return c
}

// judgement is two samples of one metric judged: their medians, the change, the U test's p and
// the verdict.
type judgement struct {
	BaseMedian float64
	NewMedian  float64
	Change     float64 // (new - base) / base
	P          float64
	Verdict    string
	Note       string // why no verdict could be reached, when so
}

func judge(base, new []float64, higherGood bool, threshold float64) judgement {
	j := judgement{BaseMedian: median(base), NewMedian: median(new)}
	if j.BaseMedian != 0 {
		j.Change = (j.NewMedian - j.BaseMedian) / j.BaseMedian
	}
	thresholds := benchmath.DefaultThresholds
	cmp := benchmath.AssumeNothing.Compare(benchmath.NewSample(base, &thresholds), benchmath.NewSample(new, &thresholds))
	j.P = cmp.P
	worse, better := j.Change < -threshold, j.Change > threshold
	if !higherGood {
		worse, better = better, worse
	}
	switch {
	case cmp.P < cmp.Alpha && worse:
		j.Verdict = Regression
	case cmp.P < cmp.Alpha && better:
		j.Verdict = Improvement
	case len(cmp.Warnings) > 0:
		j.Verdict = NoChange
		j.Note = cmp.Warnings[0].Error()
	default:
		j.Verdict = NoChange
	}
	return j
}

// WriteCompareTable prints the comparisons like benchstat: medians with their spread, the change
// and p, and the verdict.
func WriteCompareTable(w io.Writer, res *CompareResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "server\tscenario\tmetric\tbase\tnew\tchange\tp\tn\traw change\tverdict")
	for _, c := range res.Comparisons {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%+.1f%%\t%.3f\t%d+%d\t%s\t%s\n", c.Server, c.Scenario, c.metricLabel(),
			formatSample(c.BaseMedian, c.Base), formatSample(c.NewMedian, c.New), 100*c.Change, c.P,
			len(c.Base), len(c.New), c.rawLabel(), c.Verdict)
	}
	tw.Flush()
	writeCompareNotes(w, res, "")
}

// WriteCompareMarkdown writes the same table in Markdown, for a pull request comment.
func WriteCompareMarkdown(w io.Writer, res *CompareResult) error {
	fmt.Fprintf(w, "### wsgispec bench compare\n\n%s\n\n", VerdictLine(res))
	fmt.Fprintln(w, "| server | scenario | metric | base | new | change | p | n | raw change | verdict |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---|")
	for _, c := range res.Comparisons {
		verdict := c.Verdict
		if verdict == Regression {
			verdict = "**regression**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %+.1f%% | %.3f | %d+%d | %s | %s |\n", c.Server, c.Scenario,
			c.metricLabel(), formatSample(c.BaseMedian, c.Base), formatSample(c.NewMedian, c.New), 100*c.Change,
			c.P, len(c.Base), len(c.New), c.rawLabel(), verdict)
	}
	fmt.Fprintln(w)
	writeCompareNotes(w, res, "- ")
	return nil
}

func (c Comparison) metricLabel() string {
	if c.VsReference {
		return c.Metric + " ÷ref"
	}
	return c.Metric
}

// rawLabel is the raw figure's change and p beside a ratio's, or "-" when the values are raw.
func (c Comparison) rawLabel() string {
	if c.Raw == nil {
		return "-"
	}
	return fmt.Sprintf("%+.1f%% p=%.3f", 100*c.Raw.Change, c.Raw.P)
}

// formatSample is a median with the sample's spread around it, as benchstat shows it.
func formatSample(med float64, values []float64) string {
	lo, hi := minMax(values)
	spread := ""
	if med != 0 && len(values) > 1 {
		spread = fmt.Sprintf(" ±%.0f%%", 100*max(hi-med, med-lo)/med)
	}
	if med >= 100 {
		return fmt.Sprintf("%.0f%s", med, spread)
	}
	return fmt.Sprintf("%.4g%s", med, spread)
}

// VerdictLine is the one-line outcome of a comparison.
func VerdictLine(res *CompareResult) string {
	switch n := res.Regressions(); {
	case n > 0:
		return fmt.Sprintf("%d regression(s) beyond %.0f%% at p < 0.05", n, 100*res.Threshold)
	default:
		return fmt.Sprintf("no regression beyond %.0f%% at p < 0.05", 100*res.Threshold)
	}
}

func writeCompareNotes(w io.Writer, res *CompareResult, bullet string) {
	var notes []string
	for _, c := range res.Comparisons {
		if c.Verdict == Drift {
			notes = append(notes, "drift (machine): the reference server itself changed between the files; the other servers are judged as ratios to it")
			break
		}
	}
	if len(res.Unmatched) > 0 {
		notes = append(notes, "not compared: "+strings.Join(res.Unmatched, "; "))
	}
	relative := false
	for _, c := range res.Comparisons {
		relative = relative || c.VsReference
	}
	if relative {
		notes = append(notes, "÷ref: ratio to the reference server measured in the same round; a regression must show in the raw figure too (raw change, same direction at p < 0.05)")
	}
	for _, c := range res.Comparisons {
		if c.Verdict == NoChange && c.Note != "" {
			notes = append(notes, fmt.Sprintf("no verdict for %s %s %s: %s", c.Server, c.Scenario, c.Metric, c.Note))
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, bullet+n)
	}
}
