package bench

import (
	"fmt"
	"io"
	"runtime"
	"strings"
)

// benchfmtPkg is the pkg configuration line of every bench file: benchstat groups by it.
const benchfmtPkg = "github.com/wsgispec/wsgispec/bench"

// WriteBenchfmt writes the runs in the Go benchmark format, one line per server × scenario ×
// round × model, so that benchstat compares bench files like Go benchmarks:
//
//	BenchmarkHello/server=gunicorn/model=closed 52000 6300 req/s 0.000198 cpu-sec/req 2.1 ctx-switches/req 0.0024 p50-sec 0.0079 p99-sec 8.1e+07 rss-B
//	BenchmarkHello/server=gunicorn/model=open 9000 3150 sent-req/s 0.00024 cpu-sec/req ...
//
// The iteration count is the requests measured. Units are base SI units (seconds, bytes), which
// benchstat scales itself (198µ cpu-sec/req, 77Mi rss-B). An open model's rate is what it was
// given, not a measurement of the server: its line has the rate achieved (sent-req/s) instead of
// req/s. The host facts go first as configuration lines.
func WriteBenchfmt(w io.Writer, f *File) error {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: %s\ncpu: %s\n", runtime.GOOS, runtime.GOARCH, benchfmtPkg, f.Host.CPU)
	if f.Commit != nil {
		fmt.Fprintf(w, "commit: %s\n", *f.Commit)
	}
	for _, r := range f.Runs {
		if r.Error != nil {
			continue // nothing was measured
		}
		fmt.Fprintf(w, "Benchmark%s/server=%s/model=%s %d", benchName(r.Scenario), r.Server.Name, r.Model, int64(r.Requests))
		if r.Model == Closed {
			fmt.Fprintf(w, " %.6g req/s", r.ThroughputRPS)
		} else {
			fmt.Fprintf(w, " %.6g sent-req/s", r.AchievedRate)
		}
		fmt.Fprintf(w, " %.6g cpu-sec/req %.6g ctx-switches/req %.6g p50-sec %.6g p99-sec %.6g rss-B",
			r.CPUUsPerReq/1e6, r.CtxSwitchesPerReq, r.LatencyMS.P50/1e3, r.LatencyMS.P99/1e3, r.ServerRSSMB*(1<<20))
		if r.VsReference != nil {
			if r.Model == Closed {
				fmt.Fprintf(w, " %.6g req/s/ref", r.VsReference.ThroughputRPS)
			}
			fmt.Fprintf(w, " %.6g cpu/ref", r.VsReference.CPUUsPerReq)
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	return nil
}

// benchName turns a scenario name into a benchmark name: flask-read → FlaskRead.
func benchName(scenario string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(scenario, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
