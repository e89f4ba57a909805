package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/wsgispec/wsgispec/internal/procstat"
	"github.com/wsgispec/wsgispec/internal/readcap"
)

// clientBoundShare is the share of one core the client may use before its own CPU is taken to
// limit the run: vegeta then cannot send faster, and req/s understates the server.
const clientBoundShare = 0.75

// openRateShortfall is how far below the open model's target rate the achieved rate may fall
// before the run says so (vegeta under-sends when it cannot keep up).
const openRateShortfall = 0.9

// requestTimeout bounds one request; a server slower than this is failing the run anyway.
const requestTimeout = 10 * time.Second

// attack is one load of a server: the target, the model and how long.
type attack struct {
	name        string // vegeta's attack name: server/scenario/round/model
	target      vegeta.Target
	model       string
	concurrency int     // closed model
	rate        float64 // open model, req/s
	duration    time.Duration
	keepResults bool // keep every request's result for the raw results file
}

// client is the HTTP client of one server's attacks: its connections are kept from the warm-up
// to the measured windows and closed when the server is done with.
type client struct {
	transport *keepAliveTransport
	http      *http.Client
}

// newClient returns a client that keeps at most maxConns connections to the server and reads
// within limits. Its http.Client has no Timeout: the transport bounds each request itself (see
// keepAliveTransport).
func newClient(maxConns int, limits readcap.Limits) *client {
	t := newKeepAliveTransport(maxConns, requestTimeout, limits)
	return &client{transport: t, http: &http.Client{Transport: t}}
}

func (c *client) close() { c.transport.CloseIdleConnections() }

// check sends the scenario's request once and compares the answer with what it must be, so that a
// misconfigured server fails loudly before its numbers are taken.
func (c *client) check(t vegeta.Target, sc Scenario) error {
	req, err := t.Request()
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", t.Method, t.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading the body: %w", t.Method, t.URL, err)
	}
	switch {
	case sc.Status != 0 && resp.StatusCode != sc.Status:
		return fmt.Errorf("%s %s answered %s, expected status %d; body: %.200q", t.Method, t.URL, resp.Status, sc.Status, body)
	case sc.Status == 0 && (resp.StatusCode < 200 || resp.StatusCode > 299):
		return fmt.Errorf("%s %s answered %s, expected a 2xx status; body: %.200q", t.Method, t.URL, resp.Status, body)
	case sc.Response != nil && !bytes.Equal(body, sc.Response):
		return fmt.Errorf("%s %s answered %d bytes, expected the scenario's %d bytes (starting %.40q), got %.40q",
			t.Method, t.URL, len(body), len(sc.Response), sc.Response, body)
	}
	return nil
}

// measurement is what one attack yielded: its figures, the raw results, and notes.
type measurement struct {
	Figures
	statusCodes map[string]int
	clientBound bool
	connections Connections // the run's: longest wait and unanswered requests
	warnings    []string
	results     []*vegeta.Result // if the attack keeps them: sorted by time, Seq renumbered from 0
}

// run performs the attack against the server whose process group is pgid, accounting the
// group's CPU from proc over exactly the attack's window. Cancelling ctx stops the attack early.
func (c *client) run(ctx context.Context, a attack, proc procstat.FS, pgid int) (measurement, error) {
	// vegeta's options that configure its own transport (Timeout, KeepAlive, Connections,
	// HTTP2, ...) would either apply to the transport Client replaces, or, after it, fail on
	// ours. MaxBody(0): vegeta keeps no response body, though it still reads each one whole.
	opts := []func(*vegeta.Attacker){vegeta.Client(c.http), vegeta.MaxBody(0)}
	pacer := vegeta.Rate{Freq: 0} // closed: each worker sends as soon as its last answer arrives
	if a.model == Closed {
		opts = append(opts, vegeta.Workers(uint64(a.concurrency)), vegeta.MaxWorkers(uint64(a.concurrency)))
	} else {
		// Whole requests per second; the default workers grow as the rate needs.
		pacer = vegeta.Rate{Freq: max(1, int(a.rate+0.5)), Per: time.Second}
	}
	atk := vegeta.NewAttacker(opts...)

	cpuBefore, err := proc.GroupCPU(pgid)
	if err != nil {
		return measurement{}, err
	}
	switchesBefore := proc.ThreadSwitches(cpuBefore)
	clientBefore := selfCPU()
	c.transport.stats.take()
	start := time.Now()
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-stopped:
		}
	}()
	var metrics vegeta.Metrics
	var results []*vegeta.Result
	for r := range atk.Attack(vegeta.NewStaticTargeter(a.target), pacer, a.duration, a.name) {
		metrics.Add(r)
		if a.keepResults {
			r.Body = nil // vegeta's empty read buffer: 512 bytes per request, kept for nothing
			results = append(results, r)
		}
	}
	wall := time.Since(start)
	clientCPU := selfCPU() - clientBefore
	cpuAfter, err := proc.GroupCPU(pgid)
	if err != nil {
		return measurement{}, err
	}
	switches := procstat.SwitchesBetween(switchesBefore, proc.ThreadSwitches(cpuAfter))
	metrics.Close()

	serverCPU := procstat.CPUBetween(cpuBefore, cpuAfter)
	m := measurement{statusCodes: metrics.StatusCodes, results: results, connections: Connections{
		LongestWaitMS: millis(c.transport.stats.take()),
		Unanswered:    metrics.StatusCodes["0"], // vegeta's code for a request that got no response
	}}
	m.Figures = Figures{
		AchievedRate:  metrics.Rate,
		DurationS:     metrics.Duration.Seconds(),
		Requests:      float64(metrics.Requests),
		ThroughputRPS: metrics.Throughput,
		Success:       metrics.Success,
		LatencyMS: Latency{
			P50: millis(metrics.Latencies.P50), P90: millis(metrics.Latencies.P90),
			P99: millis(metrics.Latencies.P99), Max: millis(metrics.Latencies.Max),
		},
		ServerCPUS:  serverCPU.Seconds(),
		ServerRSSMB: float64(proc.PeakRSS(cpuAfter)) / (1 << 20),
		ClientCPUS:  clientCPU.Seconds(),
	}
	if metrics.Requests > 0 {
		m.CPUUsPerReq = float64(serverCPU.Microseconds()) / float64(metrics.Requests)
		m.CtxSwitchesPerReq = float64(switches.Total()) / float64(metrics.Requests)
		m.InvoluntaryCtxSwitchesPerReq = float64(switches.Involuntary) / float64(metrics.Requests)
	}
	if a.model == Open {
		m.Rate = float64(max(1, int(a.rate+0.5)))
		if m.AchievedRate < openRateShortfall*m.Rate {
			m.warnings = append(m.warnings, fmt.Sprintf("open model sent %.0f req/s, below the %.0f req/s target: latencies are at a lower load than intended", m.AchievedRate, m.Rate))
		}
	}
	if wall > 0 && clientCPU.Seconds()/wall.Seconds() >= clientBoundShare {
		m.clientBound = true
	}
	for pid := range cpuBefore {
		if _, ok := cpuAfter[pid]; !ok {
			m.warnings = append(m.warnings, fmt.Sprintf("server process %d exited during the window; its CPU time is not counted", pid))
		}
	}
	if metrics.Success < 1 && len(metrics.Errors) > 0 {
		m.warnings = append(m.warnings, fmt.Sprintf("%.1f%% of requests failed; first error: %s", 100*(1-metrics.Success), metrics.Errors[0]))
	}
	renumber(results)
	return m, nil
}

// renumber sorts results by the time they were sent and numbers them from 0 without gaps, as
// vegeta's plot library requires of one attack's results.
func renumber(results []*vegeta.Result) {
	sort.Slice(results, func(i, j int) bool { return results[i].Timestamp.Before(results[j].Timestamp) })
	for i, r := range results {
		r.Seq = uint64(i)
	}
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// selfCPU is the user + system CPU time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
