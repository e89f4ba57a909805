package bench

import (
	"fmt"
	"io"
	"strings"
)

// WriteBenchfmt writes the runs in the Go benchmark format, one line per server × scenario ×
// round × model, so that benchstat compares bench files like Go benchmarks:
//
//	BenchmarkHello/server=gunicorn/model=closed 1 6300 req/s 198 cpu-us/req 2.4 p50-ms 7.9 p99-ms
//	BenchmarkHello/server=gunicorn/model=open 1 240 cpu-us/req 1.3 p50-ms 4.1 p99-ms
//
// The host facts go first as benchfmt configuration lines.
func WriteBenchfmt(w io.Writer, f *File) error {
	fmt.Fprintf(w, "goos: linux\ncpu: %s\n", f.Host.CPU)
	if f.Commit != nil {
		fmt.Fprintf(w, "commit: %s\n", *f.Commit)
	}
	for _, r := range f.Runs {
		fmt.Fprintf(w, "Benchmark%s/server=%s/model=%s 1", benchName(r.Scenario), r.Server.Name, r.Model)
		// An open model's req/s is the rate it was given, not a measurement: closed lines only.
		if r.Model == Closed {
			fmt.Fprintf(w, " %.6g req/s", r.ThroughputRPS)
		}
		fmt.Fprintf(w, " %.6g cpu-us/req %.6g p50-ms %.6g p99-ms", r.CPUUsPerReq, r.LatencyMS.P50, r.LatencyMS.P99)
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
