package bench

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/internal/procstat"
	"github.com/wsgispec/wsgispec/internal/progress"
	"github.com/wsgispec/wsgispec/internal/readcap"
)

// Config is one bench invocation.
type Config struct {
	Env harness.Env
	// Servers to measure, the reference among them (WithReference adds it to a --server list).
	Servers     []harness.Detection
	Scenarios   []Scenario
	PyApps      string // directory holding the built-in scenarios' apps
	Rounds      int
	WarmUp      time.Duration // discarded load before the measured windows
	Duration    time.Duration // each measured window (closed, then open)
	Concurrency int           // closed model's clients
	// Rate is the open model's rate in req/s; 0 means half the server's own closed throughput
	// in the same round, a load it can carry with room to spare.
	Rate float64
	// Limits cap what the client reads of each answer; the zero value is readcap.Defaults.
	Limits readcap.Limits
	// Results receives every measured request as gzip'ed vegeta JSON lines; nil keeps none.
	Results io.Writer
	// Progress shows one row per server (rounds done of all its scenarios' rounds); nil shows
	// nothing.
	Progress *progress.Board
}

// Defaults of a bench run, and of a --quick one.
const (
	DefaultRounds      = 5
	DefaultWarmUp      = time.Second
	DefaultDuration    = 3 * time.Second
	DefaultConcurrency = 16

	QuickRounds   = 3
	QuickWarmUp   = 300 * time.Millisecond
	QuickDuration = time.Second
)

// stopGrace is how long a server has to exit after SIGTERM before it is killed: the bench
// measures nothing after its windows, and uWSGI and gunicorn take the harness's whole default
// grace to stop, which would make up most of a quick run.
const stopGrace = 500 * time.Millisecond

// loadGeneratorProcs is the GOMAXPROCS of a bench: the load generator runs on one thread, as
// wrk -t1 does. With more, a hand-off between vegeta's goroutines (pacer, workers, collector)
// can wake another thread, and on 2 cores that cost the client up to half again as much CPU per
// request (uWSGI, hello), taken from the server being measured. One core carries some 30k
// req/s, more than any Python server answers.
const loadGeneratorProcs = 1

// WithReference returns a --server list with the reference server first if it is not named: it
// is measured in every round so that every figure also has a ratio to it. "all" includes it.
func WithReference(servers string) string {
	if strings.TrimSpace(servers) == "all" {
		return servers
	}
	for _, n := range strings.Split(servers, ",") {
		if strings.TrimSpace(n) == ReferenceServer {
			return servers
		}
	}
	return ReferenceServer + "," + servers
}

// RoundOrder is the order servers are measured in a round: as given in even rounds, reversed in
// odd ones (A B, B A, A B, ...), so that drift during a run (a warming machine, another job
// starting) falls on every server alike rather than always on the last.
func RoundOrder[T any](servers []T, round int) []T {
	out := append([]T(nil), servers...)
	if round%2 == 1 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// Execute runs every round of every scenario on every server, interleaved, and returns the runs
// with their ratios to the reference. A server that cannot be started in a scenario, or answers
// it wrongly, gets one failed run (its name, version, command and output kept, see Run.Error)
// and is not tried again in that scenario: its figures would mean nothing. The other servers
// go on. The error returned is for the bench as a whole (interrupted, results not written).
func Execute(ctx context.Context, cfg Config) ([]Run, error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(loadGeneratorProcs))
	var results *resultsWriter
	if cfg.Results != nil {
		results = newResultsWriter(cfg.Results)
	}
	var runs []Run
	rows := map[string]*progress.Row{}
	done := map[string]int{}
	type pair struct{ server, scenario string }
	failed := map[pair]bool{}
	failures := map[string]int{}
	if cfg.Progress != nil {
		for _, d := range cfg.Servers {
			rows[d.Adapter.Name] = cfg.Progress.Add(d.Adapter.Name, cfg.Rounds*len(cfg.Scenarios), "rounds")
			rows[d.Adapter.Name].Start()
		}
	}
	for round := 1; round <= cfg.Rounds; round++ {
		for _, sc := range cfg.Scenarios {
			for _, d := range RoundOrder(cfg.Servers, round-1) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				row := rows[d.Adapter.Name]
				if failed[pair{d.Adapter.Name, sc.Name}] {
					continue
				}
				measured, err := measureServer(ctx, cfg, d, sc, round, results)
				if err != nil {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					var rerr *runError
					if errors.As(err, &rerr) {
						return nil, rerr.err // writing the raw results failed: the bench's own error
					}
					failed[pair{d.Adapter.Name, sc.Name}] = true
					failures[d.Adapter.Name]++
					runs = append(runs, failedRunOf(d, sc, round, err))
					if row != nil {
						row.Set(done[d.Adapter.Name], failures[d.Adapter.Name])
						row.Note("round %d %s: %s", round, sc.Name, firstLine(harness.RedactString(err.Error())))
					}
					continue
				}
				runs = append(runs, measured...)
				done[d.Adapter.Name]++
				if row != nil {
					cl, op := measured[0], measured[1]
					row.Set(done[d.Adapter.Name], failures[d.Adapter.Name])
					row.Note("round %d %s: %.0f req/s, %.0f cpu-µs/req; open %.0f req/s p99 %.1f ms",
						round, sc.Name, cl.ThroughputRPS, cl.CPUUsPerReq, op.AchievedRate, op.LatencyMS.P99)
				}
			}
		}
	}
	for name, row := range rows {
		if failures[name] > 0 {
			row.Finish("could not be measured in %d scenario(s)", failures[name])
		} else {
			row.Finish("done")
		}
	}
	if results != nil {
		if err := results.close(); err != nil {
			return nil, fmt.Errorf("writing the raw results: %w", err)
		}
	}
	AddReferenceRatios(runs)
	harness.Redact(runs)
	return runs, nil
}

// failedRunOf is the run of a server that could not be measured in sc's round: its name,
// version and command (as far as it got), the error and the server's output.
func failedRunOf(d harness.Detection, sc Scenario, round int, err error) Run {
	info := harness.ServerInfo{Name: d.Adapter.Name, Version: d.Version, Command: harness.StartedCommand(err)}
	rerr := harness.NewRunError(err)
	var se *serverError
	if errors.As(err, &se) {
		info.Command = se.command
		rerr = &harness.RunError{Message: se.err.Error(), Output: strings.TrimSpace(se.output)}
	}
	return Run{Server: info, Scenario: sc.Name, Round: round, Error: rerr}
}

// serverError is a started server that could not be measured: it answered the scenario wrongly
// or failed under load. It keeps the server's command line and the end of its output.
type serverError struct {
	err     error
	command string
	output  string
}

func (e *serverError) Error() string { return e.err.Error() }
func (e *serverError) Unwrap() error { return e.err }

// runError is an error of the bench itself (writing the raw results), not of a server.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }

// serverOutputTail is how much of a failed server's output its run keeps.
const serverOutputTail = 4000

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// measureServer starts a fresh server for one scenario and round, checks its answer, warms it up
// and measures the closed then the open model. It returns the two runs.
func measureServer(ctx context.Context, cfg Config, d harness.Detection, sc Scenario, round int, results *resultsWriter) ([]Run, error) {
	appEnv := map[string]string{}
	if sc.Database && d.Adapter.Name != ReferenceServer {
		dir, err := os.MkdirTemp("", "wsgispec-bench-db-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		// Servers that drop privileges (mod_wsgi runs as www-data) write the database too.
		if err := os.Chmod(dir, 0o777); err != nil {
			return nil, err
		}
		appEnv["WSGISPEC_DB"] = filepath.Join(dir, "bench.sqlite3")
		if err := harness.InitDatabase(ctx, cfg.Env, sc.App(cfg.PyApps, appEnv).Dir, appEnv["WSGISPEC_DB"]); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
	}
	srv, err := harness.Start(ctx, d.Adapter, sc.App(cfg.PyApps, appEnv), harness.Options{Env: cfg.Env, StopGrace: stopGrace})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	runs, err := measureStarted(ctx, cfg, d, sc, round, results, srv)
	var rerr *runError
	if err != nil && !errors.As(err, &rerr) {
		return nil, &serverError{err: err, command: strings.Join(srv.Argv, " "), output: srv.OutputTail(serverOutputTail)}
	}
	return runs, err
}

// measureStarted is measureServer once the server answers.
func measureStarted(ctx context.Context, cfg Config, d harness.Detection, sc Scenario, round int, results *resultsWriter, srv *harness.Server) ([]Run, error) {
	limits := cfg.Limits
	if limits == (readcap.Limits{}) {
		limits = readcap.Defaults
	}
	target := vegeta.Target{Method: sc.Method, URL: srv.URL + sc.Path, Body: sc.Body}
	if sc.ContentType != "" {
		target.Header = http.Header{"Content-Type": {sc.ContentType}}
	}
	conns, err := checkAndMeasure(ctx, d.Adapter.Name, sc, srv.URL, target, 2*cfg.Concurrency, limits)
	if err != nil {
		return nil, err
	}
	c := newClient(clientConnections(conns), limits)
	defer c.close()
	name := fmt.Sprintf("%s/%s/%d", d.Adapter.Name, sc.Name, round)
	closed := attack{name: name + "/" + Closed, target: target, model: Closed, concurrency: cfg.Concurrency}
	warm := closed
	warm.duration = cfg.WarmUp
	if _, err := c.run(ctx, warm, procstat.System, srv.PID); err != nil {
		return nil, err
	}
	closed.duration, closed.keepResults = cfg.Duration, results != nil
	cm, err := c.run(ctx, closed, procstat.System, srv.PID)
	if err != nil {
		return nil, err
	}
	rate := cfg.Rate
	if rate == 0 {
		rate = cm.ThroughputRPS / 2
	}
	open := attack{name: name + "/" + Open, target: target, model: Open, rate: rate, duration: cfg.Duration, keepResults: results != nil}
	om, err := c.run(ctx, open, procstat.System, srv.PID)
	if err != nil {
		return nil, err
	}
	info := harness.ServerInfo{Name: d.Adapter.Name, Version: d.Version, Command: strings.Join(srv.Argv, " ")}
	var runs []Run
	for _, m := range []struct {
		measurement
		model       string
		concurrency int
	}{{cm, Closed, cfg.Concurrency}, {om, Open, 0}} {
		select {
		case <-srv.Exited():
			m.warnings = append(m.warnings, "the server exited during the run ("+srv.ExitStatus()+")")
		default:
		}
		m.connections.Opened, m.connections.ServedAtOnce = conns.Opened, conns.ServedAtOnce
		runs = append(runs, Run{Server: info, Scenario: sc.Name, Round: round, Model: m.model,
			Concurrency: m.concurrency, Figures: m.Figures, StatusCodes: m.statusCodes,
			ClientBound: m.clientBound, Connections: m.connections, Warnings: m.warnings})
		if results != nil {
			if err := results.write(m.results); err != nil {
				return nil, &runError{fmt.Errorf("writing the raw results: %w", err)}
			}
		}
	}
	return runs, nil
}

// checkAndMeasure checks the server's answer to the scenario (after creating the post a read
// scenario reads), so that a misconfigured server fails loudly before its numbers are taken, and
// then measures how many connections it serves at once, opening n.
func checkAndMeasure(ctx context.Context, server string, sc Scenario, base string, target vegeta.Target, n int, limits readcap.Limits) (Connections, error) {
	c := newClient(1, limits)
	defer c.close()
	if sc.SeedPost {
		seed := vegeta.Target{Method: http.MethodPost, URL: base + "/posts", Body: postBody, Header: http.Header{"Content-Type": {"application/json"}}}
		if err := c.check(seed, Scenario{Status: http.StatusCreated}); err != nil {
			return Connections{}, fmt.Errorf("server %s, scenario %s: creating the post to read: %w", server, sc.Name, err)
		}
	}
	if err := c.check(target, sc); err != nil {
		return Connections{}, fmt.Errorf("server %s, scenario %s: %w", server, sc.Name, err)
	}
	c.close() // its connection would hold one of the server's workers
	conns, err := measureConnections(ctx, target, n, limits)
	if err != nil {
		return Connections{}, fmt.Errorf("server %s, scenario %s: measuring its connections: %w", server, sc.Name, err)
	}
	return conns, nil
}

// resultsWriter streams raw vegeta results as gzip'ed JSON lines.
type resultsWriter struct {
	gz  *gzip.Writer
	enc vegeta.Encoder
}

func newResultsWriter(w io.Writer) *resultsWriter {
	gz := gzip.NewWriter(w)
	return &resultsWriter{gz: gz, enc: vegeta.NewJSONEncoder(gz)}
}

func (w *resultsWriter) write(results []*vegeta.Result) error {
	for _, r := range results {
		if err := w.enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func (w *resultsWriter) close() error { return w.gz.Close() }
