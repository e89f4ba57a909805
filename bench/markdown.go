package bench

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes a bench file's medians as Markdown, one table per scenario, headed by
// when, at which commit and on which machine they were measured: the table the README shows.
// Throughput and CPU per request come from the closed model, latency from the open one.
func WriteMarkdown(w io.Writer, f *File) error {
	commit := "(not a git checkout)"
	if f.Commit != nil {
		commit = *f.Commit
	}
	rounds, concurrency := 0, 0
	for _, m := range f.Medians {
		rounds = max(rounds, m.Rounds)
		if m.Model == Closed {
			concurrency = max(concurrency, m.Concurrency)
		}
	}
	fmt.Fprintf(w, "Measured %s at commit `%s` on %d × %s (Linux %s, load %.1f at the start); "+
		"medians of %d rounds; throughput and server CPU per request with %d concurrent clients, "+
		"p99 at half of each server's own throughput.\n",
		f.Started, commit, f.Host.Cores, f.Host.CPU, f.Host.Kernel, f.Host.LoadAvg, rounds, concurrency)

	type row struct{ closed, open *Median }
	var scenarios []string
	rows := map[string][]string{} // scenario -> servers in order
	byKey := map[[2]string]*row{}
	for i := range f.Medians {
		m := &f.Medians[i]
		k := [2]string{m.Scenario, m.Server.Name}
		r := byKey[k]
		if r == nil {
			r = &row{}
			byKey[k] = r
			if _, seen := rows[m.Scenario]; !seen {
				scenarios = append(scenarios, m.Scenario)
			}
			rows[m.Scenario] = append(rows[m.Scenario], m.Server.Name)
		}
		if m.Model == Closed {
			r.closed = m
		} else {
			r.open = m
		}
	}
	for _, sc := range scenarios {
		fmt.Fprintf(w, "\n**%s**\n\n", sc)
		fmt.Fprintln(w, "| server | req/s | server CPU µs/req | CPU ÷ reference | p99 ms | RSS MB | version |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
		for _, name := range rows[sc] {
			r := byKey[[2]string{sc, name}]
			cells := []string{name, "-", "-", "-", "-", "-", "-"}
			if c := r.closed; c != nil {
				cells[1] = fmt.Sprintf("%.0f", c.ThroughputRPS)
				cells[2] = fmt.Sprintf("%.1f", c.CPUUsPerReq)
				if c.VsReference != nil {
					cells[3] = fmt.Sprintf("%.2f", c.VsReference.CPUUsPerReq)
				}
				cells[5] = fmt.Sprintf("%.0f", c.ServerRSSMB)
				cells[6] = c.Server.Version
			}
			if o := r.open; o != nil {
				cells[4] = fmt.Sprintf("%.2f", o.LatencyMS.P99)
			}
			for i, c := range cells {
				cells[i] = strings.ReplaceAll(c, "|", "\\|")
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	return nil
}
