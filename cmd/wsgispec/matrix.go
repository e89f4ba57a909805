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

const matrixUsage = `usage: wsgispec matrix (--server NAMES|all | --server-cmd 'TEMPLATE' | --url URL | --servers FILE) [--framework NAMES|all] [flags]

Runs the framework contract suite (posts and comments CRUD, errors, unicode, a 1 MiB body, 50
concurrent creates) against each framework app on each server, every pair with a fresh SQLite
database, several pairs side by side, and prints a framework × server table. gateway-multi is one
gateway serving all three apps at /flask, /django and /fastapi. Exit 0: every step passed; 1: a
step failed or errored; 2: a pair could not be tested or bad input. With --url, start the one
framework app (--framework NAME) yourself: pyapps/NAME/wsgi:application, its database created by
pyapps/NAME/initdb.py in the file WSGISPEC_DB names.

flags:
`

func runMatrix(args []string) int {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), matrixUsage)
		fs.PrintDefaults()
	}
	sf := addServerFlags(fs, true, "run the contract suite against the framework app already running at `URL` (http://host:port[/mount]); needs one --framework")
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
	case *parallel < 1:
		return fail("--parallel must be at least 1")
	case *suiteTimeout <= 0 || *startTimeout <= 0:
		return fail("--timeout and --start-timeout must be positive")
	}
	chosen, err := harness.ResolveFrameworks(*frameworkNames)
	if err != nil {
		return fail("%v", err)
	}
	if *sf.url != "" && len(chosen) != 1 {
		return fail("--url serves one framework app: name it with --framework flask, django or fastapi")
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
	}
	for _, f := range chosen {
		v, err := harness.DetectFramework(ctx, *envf.python, f)
		if err != nil {
			return fail("framework %s is not installed: %v", f.Name, err)
		}
		cfg.Frameworks = append(cfg.Frameworks, harness.FrameworkInfo{Name: f.Name, Version: v})
	}
	servers, err := sf.resolve(ctx, "matrix", harness.ForMatrix, env, nil)
	if err != nil {
		return fail("%v", err)
	}
	if servers.url != "" {
		cfg.Servers = []harness.MatrixServer{{URL: servers.url, Name: servers.name, Version: servers.version}}
	}
	for _, d := range servers.use {
		cfg.Servers = append(cfg.Servers, harness.MatrixServer{Adapter: d.Adapter, Version: d.Version})
	}
	if cfg.PyApps, err = pyapps.Dir(); err != nil {
		return fail("cannot find the framework apps: %v", err)
	}

	cfg.Progress = newBoard()
	runs := harness.RunMatrix(ctx, cfg)
	cfg.Progress.Close()
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
		if run.Error != nil && !reported[run.Server.Name+run.Error.Message] {
			reported[run.Server.Name+run.Error.Message] = true
			fmt.Fprintf(os.Stderr, "wsgispec matrix: %s on %s could not be tested: %s\n", run.Framework.Name, run.Server.Name, run.Error.Message)
		}
	}
	fmt.Fprintf(os.Stderr, "wsgispec matrix: finished in %.0fs\n", time.Since(started).Seconds())
	return harness.MatrixExit(runs)
}
