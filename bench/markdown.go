package bench

import (
	"fmt"
	"io"
	"slices"
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

	// One row per server, its closed and open medians side by side; scenarios and servers in
	// the order the medians come.
	type row struct {
		server       string
		closed, open *Median
	}
	var scenarios []string
	rows := map[string][]*row{}
	for i := range f.Medians {
		m := &f.Medians[i]
		if rows[m.Scenario] == nil {
			scenarios = append(scenarios, m.Scenario)
		}
		i := slices.IndexFunc(rows[m.Scenario], func(r *row) bool { return r.server == m.Server.Name })
		if i < 0 {
			rows[m.Scenario] = append(rows[m.Scenario], &row{server: m.Server.Name})
			i = len(rows[m.Scenario]) - 1
		}
		if r := rows[m.Scenario][i]; m.Model == Closed {
			r.closed = m
		} else {
			r.open = m
		}
	}
	for _, sc := range scenarios {
		fmt.Fprintf(w, "\n**%s**\n\n", sc)
		fmt.Fprintln(w, "| server | req/s | server CPU µs/req | CPU ÷ reference | ctx switches/req | p99 ms | RSS MB | version |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---|")
		for _, r := range rows[sc] {
			cells := []string{r.server, "-", "-", "-", "-", "-", "-", "-"}
			if c := r.closed; c != nil {
				cells[1] = fmt.Sprintf("%.0f", c.ThroughputRPS)
				cells[2] = fmt.Sprintf("%.1f", c.CPUUsPerReq)
				if c.VsReference != nil {
					cells[3] = fmt.Sprintf("%.2f", c.VsReference.CPUUsPerReq)
				}
				cells[4] = fmt.Sprintf("%.2f", c.CtxSwitchesPerReq)
				cells[6] = fmt.Sprintf("%.0f", c.ServerRSSMB)
				cells[7] = c.Server.Version
			}
			if o := r.open; o != nil {
				cells[5] = fmt.Sprintf("%.2f", o.LatencyMS.P99)
			}
			for i, c := range cells {
				cells[i] = strings.ReplaceAll(c, "|", "\\|")
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	return nil
}
