package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteSummary prints the medians as a table: throughput and CPU per request from the closed
// model, latency from the open model, each with its ratio to the reference where there is one.
func WriteSummary(w io.Writer, medians []Median) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tscenario\tmodel\trounds\treq/s\t±%\tcpu-µs/req\t±%\tctxsw/req\tp50 ms\tp99 ms\trss MB\treq/s÷ref\tcpu÷ref\tnotes\t")
	for _, m := range medians {
		refTput, refCPU := "-", "-"
		if m.VsReference != nil {
			refTput = fmt.Sprintf("%.3f", m.VsReference.ThroughputRPS)
			refCPU = fmt.Sprintf("%.2f", m.VsReference.CPUUsPerReq)
		}
		notes := ""
		if m.ClientBoundRounds > 0 {
			notes = fmt.Sprintf("client-bound in %d/%d", m.ClientBoundRounds, m.Rounds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f\t%s\t%.1f\t%s\t%.2f\t%.2f\t%.2f\t%.1f\t%s\t%s\t%s\t\n",
			m.Server.Name, m.Scenario, m.Model, m.Rounds,
			m.ThroughputRPS, spreadPct(m, "throughput_rps"), m.CPUUsPerReq, spreadPct(m, "cpu_us_per_req"), m.CtxSwitchesPerReq,
			m.LatencyMS.P50, m.LatencyMS.P99, m.ServerRSSMB, refTput, refCPU, notes)
	}
	tw.Flush()
}

// spreadPct is the range of a figure over the rounds as a percentage of its median.
func spreadPct(m Median, field string) string {
	s, ok := m.Spread[field]
	var med float64
	for _, f := range figureFields {
		if f.name == field {
			med = *f.of(&m.Figures)
		}
	}
	if !ok || med == 0 || m.Rounds < 2 {
		return "-"
	}
	return fmt.Sprintf("%.0f", 100*(s.Max-s.Min)/med)
}
