package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wsgispec/wsgispec/bench"
	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/internal/readcap"
	"github.com/wsgispec/wsgispec/pyapps"
)

func init() {
	register("bench", "load benchmarks of WSGI servers with vegeta (exit 0, 2 setup error)", runBench)
}

const benchUsage = `usage: wsgispec bench (--server NAMES | --server-cmd 'TEMPLATE' | --servers FILE) --scenario NAMES [flags]
       wsgispec bench (--server NAMES | --server-cmd 'TEMPLATE' | --servers FILE) --app-dir D --app mod:callable --path P [flags]

Measures each server on each scenario: per round a fresh server, a discarded warm-up, a closed
model (fixed concurrency: throughput) and an open model (fixed rate: latency), with the server's
CPU time per request from /proc. The reference server (bare Go, no Python) is measured in every
round and every figure is also given as a ratio to it. Rounds alternate the servers' order.

scenarios: %s

flags:
`

func runBench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), benchUsage, strings.Join(bench.ScenarioNames(), ", "))
		fs.PrintDefaults()
	}
	sf := addServerFlags(fs, false, "")
	scenarioList := fs.String("scenario", "hello", "`scenarios` to run, comma-separated")
	rounds := fs.Int("rounds", bench.DefaultRounds, "`rounds` per server and scenario")
	duration := fs.Duration("duration", bench.DefaultDuration, "length of each measured window (closed, then open)")
	warmUp := fs.Duration("warmup", bench.DefaultWarmUp, "discarded load before the measured windows")
	quick := fs.Bool("quick", false, fmt.Sprintf("CI smoke run: %d rounds, %s windows, %s warm-up (explicit flags still win)",
		bench.QuickRounds, bench.QuickDuration, bench.QuickWarmUp))
	rate := fs.Float64("rate", 0, "open model's `req/s` (default: half the server's own closed-model throughput)")
	concurrency := fs.Int("concurrency", bench.DefaultConcurrency, "closed model's concurrent `clients`")
	appDir := fs.String("app-dir", "", "benchmark your own app: its `directory`")
	appSpec := fs.String("app", "", "with --app-dir: the `module:callable`")
	path := fs.String("path", "/", "with --app-dir: the `path` to GET")
	jsonOut := fs.String("json", "", "write the results as JSON to `file` (- for stdout; every request goes beside it in FILE.results.jsonl.gz)")
	benchfmtOut := fs.String("benchfmt", "", "write Go benchmark-format lines to `file` (for benchstat)")
	markdownOut := fs.String("markdown", "", "write the medians as Markdown tables to `file` (with date, commit and machine)")
	history := fs.String("history", "", "append this run to the JSON Lines store in `directory`")
	envf := addEnvFlags(fs, "Python `interpreter` for Python servers")
	maxBody := fs.Int64("max-response-body", readcap.Defaults.Body, "largest response body in `bytes` the client reads; a longer one is an error of its request")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fail := failer("bench")
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		if !set["rounds"] {
			*rounds = bench.QuickRounds
		}
		if !set["duration"] {
			*duration = bench.QuickDuration
		}
		if !set["warmup"] {
			*warmUp = bench.QuickWarmUp
		}
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	case *rounds < 1:
		return fail("--rounds must be at least 1")
	case *duration <= 0 || *warmUp < 0:
		return fail("--duration must be positive and --warmup not negative")
	case *rate < 0:
		return fail("--rate must not be negative")
	case *concurrency < 1:
		return fail("--concurrency must be at least 1")
	case *maxBody < 1:
		return fail("--max-response-body must be at least 1")
	case (*appDir == "") != (*appSpec == ""):
		return fail("--app-dir and --app go together")
	case *appDir != "" && set["scenario"]:
		return fail("--scenario and --app-dir exclude each other (your app is the scenario \"app\")")
	case *appDir == "" && set["path"]:
		return fail("--path goes with --app-dir")
	}
	var scenarios []bench.Scenario
	if *appDir != "" {
		s, err := bench.UserAppScenario(*appDir, *appSpec, *path)
		if err != nil {
			return fail("%v", err)
		}
		scenarios = []bench.Scenario{s}
	} else {
		var err error
		if scenarios, err = bench.ParseScenarios(*scenarioList); err != nil {
			return fail("%v", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	env := envf.env()
	servers, err := sf.resolve(ctx, "bench", harness.ForBench, env, bench.WithReference)
	if err != nil {
		return fail("%v", err)
	}
	dir, err := pyapps.Dir()
	if err != nil {
		return fail("cannot find the bench apps: %v", err)
	}
	cfg := bench.Config{Env: env, Servers: servers.use, Scenarios: scenarios, PyApps: dir, Rounds: *rounds,
		WarmUp: *warmUp, Duration: *duration, Concurrency: *concurrency, Rate: *rate, Limits: readcap.Defaults}
	cfg.Limits.Body = *maxBody
	cfg.Progress = newBoard()
	var resultsPath string
	if *jsonOut != "" && *jsonOut != "-" { // on stdout there is no "beside it" for the raw results
		resultsPath = strings.TrimSuffix(*jsonOut, ".json") + ".results.jsonl.gz"
		f, err := os.Create(resultsPath)
		if err != nil {
			return fail("--json: %v", err)
		}
		defer f.Close()
		cfg.Results = f
	}

	runs, err := bench.Execute(ctx, cfg)
	cfg.Progress.Close()
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "wsgispec bench: interrupted; every server it started has been stopped")
		return exitInterrupted
	}
	if err != nil {
		return fail("%v", err)
	}
	file := &bench.File{Envelope: harness.NewEnvelope[bench.Run](ctx, harness.KindBench, started)}
	file.Runs = runs
	file.Medians = bench.Medians(runs)
	if resultsPath != "" {
		file.Results = filepath.Base(resultsPath)
	}
	if *jsonOut != "" {
		if err := harness.WriteJSON(*jsonOut, file); err != nil {
			return fail("--json: %v", err)
		}
	}
	if *benchfmtOut != "" {
		if err := writeFileWith(*benchfmtOut, func(f *os.File) error { return bench.WriteBenchfmt(f, file) }); err != nil {
			return fail("--benchfmt: %v", err)
		}
	}
	if *markdownOut != "" {
		if err := writeFileWith(*markdownOut, func(f *os.File) error { return bench.WriteMarkdown(f, file) }); err != nil {
			return fail("--markdown: %v", err)
		}
	}
	if *history != "" {
		if err := bench.AppendHistory(*history, file); err != nil {
			return fail("%v", err)
		}
	}
	if *jsonOut == "-" {
		bench.WriteSummary(os.Stderr, file.Medians)
	} else {
		bench.WriteSummary(os.Stdout, file.Medians)
	}
	if bench.Failed(runs) {
		// A server that could not be measured is a setup error, as in conform and matrix: exit 2,
		// with its output (also in the JSON).
		for _, r := range runs {
			if r.Error != nil {
				fmt.Fprintf(os.Stderr, "wsgispec bench: %s could not be measured in scenario %s (round %d): %s\n", r.Server.Name, r.Scenario, r.Round, r.Error.String())
			}
		}
		return 2
	}
	return 0
}

// writeFileWith creates path and lets write fill it, reporting the first error of either.
func writeFileWith(path string, write func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
