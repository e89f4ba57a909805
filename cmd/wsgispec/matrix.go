package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/pyapps"
)

func init() {
	register("matrix", "framework apps (Flask, Django, FastAPI) on WSGI servers (exit 0 pass, 1 fail, 2 setup error)", runMatrix)
}

const matrixUsage = `usage: wsgispec matrix --server NAMES|all [--framework NAMES|all] [flags]

Runs the framework contract suite (posts and comments CRUD, errors, unicode, a 1 MiB body, 50
concurrent creates) against each framework app on each server, every pair with a fresh SQLite
database, several pairs side by side, and prints a framework × server table. gateway-multi is one
gateway serving all three apps at /flask, /django and /fastapi. Exit 0: every step passed; 1: a
step failed or errored; 2: a pair could not be tested or bad input.

flags:
`

func runMatrix(args []string) int {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), matrixUsage)
		fs.PrintDefaults()
	}
	servers := fs.String("server", "", "`servers` to run the apps on, comma-separated, or all (wsgispec servers lists them)")
	frameworkNames := fs.String("framework", "all", "framework `apps` to run, comma-separated ("+strings.Join(harness.FrameworkNames(), ", ")+"), or all")
	envf := addEnvFlags(fs, "Python `interpreter` for Python servers, the apps' database set-up and version detection")
	jsonOut := fs.String("json", "", "write results as JSON to `file` (- or no value: stdout; the table then goes to stderr)")
	parallel := fs.Int("parallel", 3, "test at most `N` pairs at once")
	suiteTimeout := fs.Duration("timeout", 2*time.Minute, "bound on one pair's suite run; its unfinished steps are errors")
	startTimeout := fs.Duration("start-timeout", harness.DefaultStartTimeout, "how long a server may take to answer HTTP")
	if code, ok := parseFlags(fs, jsonFlagValue(args)); !ok {
		return code
	}
	fail := failer("matrix")
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	case *servers == "":
		return fail("--server NAMES|all is required (wsgispec servers lists them)")
	case *parallel < 1:
		return fail("--parallel must be at least 1")
	case *suiteTimeout <= 0 || *startTimeout <= 0:
		return fail("--timeout and --start-timeout must be positive")
	}
	chosen, err := harness.ResolveFrameworks(*frameworkNames)
	if err != nil {
		return fail("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	env := envf.env()
	suite := harness.LinkedSuite(harness.Executable(), harness.FrameworksSuite, *suiteTimeout)
	cfg := harness.MatrixConfig{
		Env:          env,
		Suite:        suite,
		Parallel:     *parallel,
		StartTimeout: *startTimeout,
		Progress:     func(line string) { fmt.Fprintln(os.Stderr, line) },
	}
	for _, f := range chosen {
		v, err := harness.DetectFramework(ctx, *envf.python, f)
		if err != nil {
			return fail("framework %s is not installed: %v", f.Name, err)
		}
		cfg.Frameworks = append(cfg.Frameworks, harness.FrameworkInfo{Name: f.Name, Version: v})
	}
	use, missing, err := harness.ResolveServers(ctx, *servers, harness.ForMatrix, env)
	if err != nil {
		return fail("%v", err)
	}
	for _, d := range missing {
		fmt.Fprintf(os.Stderr, "wsgispec matrix: skipping %s: not installed: %s\n", d.Adapter.Name, d.Reason)
	}
	if len(use) == 0 {
		return fail("none of the servers is installed (wsgispec servers shows why)")
	}
	for _, d := range use {
		cfg.Servers = append(cfg.Servers, harness.MatrixServer{Adapter: d.Adapter, Version: d.Version})
	}
	if cfg.PyApps, err = pyapps.Dir(); err != nil {
		return fail("cannot find the framework apps: %v", err)
	}

	runs := harness.RunMatrix(ctx, cfg)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "wsgispec matrix: interrupted; every server it started has been stopped")
		return exitInterrupted
	}
	if *jsonOut != "" {
		file := harness.NewEnvelope[harness.MatrixRun](ctx, harness.KindMatrix, started)
		file.Runs = runs
		if err := harness.WriteJSON(*jsonOut, file); err != nil {
			return fail("--json: %v", err)
		}
	}
	summary, color := io.Writer(os.Stdout), isTerminal(os.Stdout)
	if *jsonOut == "-" {
		summary, color = os.Stderr, isTerminal(os.Stderr)
	}
	harness.WriteMatrixSummary(summary, runs, color)
	reported := map[string]bool{}
	for _, run := range runs {
		// The details and the server's output are in the summary; gateway-multi's frameworks
		// share one server and its error.
		if first, _, _ := strings.Cut(run.Error, "\n"); first != "" && !reported[run.Server.Name+first] {
			reported[run.Server.Name+first] = true
			fmt.Fprintf(os.Stderr, "wsgispec matrix: %s on %s could not be tested: %s\n", run.Framework.Name, run.Server.Name, first)
		}
	}
	fmt.Fprintf(os.Stderr, "wsgispec matrix: %d pairs in %.0fs\n", len(runs), time.Since(started).Seconds())
	return harness.MatrixExit(runs)
}
