package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/harness/junit"
	"github.com/wsgispec/wsgispec/pyapps"
	"github.com/wsgispec/wsgispec/specs/catalog"
)

func init() {
	register("conform", "PEP 3333 conformance of WSGI servers (exit 0 pass, 1 fail, 2 setup error)", runConform)
}

// exitInterrupted is the shell's convention for a command stopped by Ctrl-C (128 + SIGINT).
const exitInterrupted = 130

const conformUsage = `usage: wsgispec conform (--server NAMES|all | --server-cmd 'TEMPLATE' | --url URL [--probe-dir D]) [flags]
       wsgispec conform --list [--cases GLOB] [--json [F]]

Runs the PEP 3333 conformance suite against WSGI servers started on the probe app (side by side)
or against a server already running. Exit 0: no MUST case failed (with --strict: and no SHOULD
case); 1: one did and is not in --expect-failures; 2: a server could not be tested or bad input.

--server-cmd placeholders: {host} {port} {app_dir} {module} {callable} {app} (= module:callable)
{python}; {{ and }} are literal braces. Words split like a POSIX shell (quotes, backslashes); no
pipes or variables. The server runs in the app directory; it must listen on {host}:{port}.

flags:
`

func runConform(args []string) int {
	fs := flag.NewFlagSet("conform", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), conformUsage)
		fs.PrintDefaults()
	}
	servers := fs.String("server", "", "built-in `servers` to test, comma-separated, or all (wsgispec servers lists them)")
	serverCmd := fs.String("server-cmd", "", "command `template` starting any other server")
	targetURL := fs.String("url", "", "test the server already running at `URL` (http://host:port[/mount]) with the probe app loaded")
	probeDir := fs.String("probe-dir", "", "with --url: the `directory` the server's probe was given as WSGISPEC_PROBE_DIR (without it, cases that need it skip)")
	envf := addEnvFlags(fs, "Python `interpreter` for Python servers")
	jsonOut := fs.String("json", "", "write results as JSON to `file` (- or no value: stdout; the summary then goes to stderr)")
	junitOut := fs.String("junit", "", "write results as JUnit XML to `file`")
	strict := fs.Bool("strict", false, "SHOULD cases fail the run too")
	casesGlob := fs.String("cases", "", "run only the cases whose IDs match these comma-separated `globs` (* and ?), e.g. 'environ.*,close.*'")
	expectFile := fs.String("expect-failures", "", "`file` of case IDs known to fail, one a line with a reason ('case.id  why'; # comments)")
	list := fs.Bool("list", false, "list the cases (ID, level, title, requirement) and run nothing")
	parallel := fs.Int("parallel", 4, "test at most `N` servers at once")
	suiteTimeout := fs.Duration("timeout", harness.DefaultSuiteTimeout, "bound on one server's suite run; its unfinished cases are errors")
	startTimeout := fs.Duration("start-timeout", harness.DefaultStartTimeout, "how long a server may take to answer HTTP")
	if code, ok := parseFlags(fs, jsonFlagValue(args)); !ok {
		return code
	}
	fail := failer("conform")
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	sel, err := harness.ParseCaseSelector(*casesGlob)
	if err != nil {
		return fail("%v", err)
	}
	cases := sel.Select(catalog.All())
	if len(cases) == 0 && !sel.All() {
		return fail("--cases %q matches no case (wsgispec conform --list shows them)", sel)
	}
	if *list {
		if *jsonOut != "" {
			if err := harness.WriteJSON(*jsonOut, harness.NewCatalogFile(cases)); err != nil {
				return fail("%v", err)
			}
			return 0
		}
		harness.WriteCatalog(os.Stdout, cases)
		return 0
	}
	chosen := 0
	for _, s := range []string{*servers, *serverCmd, *targetURL} {
		if s != "" {
			chosen++
		}
	}
	switch {
	case chosen != 1:
		return fail("name exactly one of --server NAMES|all, --server-cmd 'TEMPLATE' or --url URL")
	case *probeDir != "" && *targetURL == "":
		return fail("--probe-dir goes with --url (the harness makes its own for the servers it starts)")
	case *probeDir != "" && !isDir(*probeDir):
		return fail("--probe-dir %q is not a directory", *probeDir)
	case *parallel < 1:
		return fail("--parallel must be at least 1")
	case *suiteTimeout <= 0 || *startTimeout <= 0:
		return fail("--timeout and --start-timeout must be positive")
	}
	var expected harness.ExpectedFailures
	if *expectFile != "" {
		if expected, err = harness.ReadExpectedFailures(*expectFile); err != nil {
			return fail("%v", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	env := envf.env()
	suite := harness.LinkedSuite(harness.Executable(), harness.ConformanceSuite, *suiteTimeout)
	cfg := harness.ConformConfig{
		Env:          env,
		Cases:        sel,
		Suite:        suite,
		Parallel:     *parallel,
		StartTimeout: *startTimeout,
		Progress:     func(line string) { fmt.Fprintln(os.Stderr, line) },
	}
	switch {
	case *targetURL != "":
		if _, _, err := harness.ParseTargetURL(*targetURL); err != nil {
			return fail("%v", err)
		}
		cfg.Targets = []harness.ConformTarget{{URL: *targetURL, ProbeDir: *probeDir}}
	case *serverCmd != "":
		tmpl, err := harness.ParseCommandTemplate(*serverCmd)
		if err != nil {
			return fail("--server-cmd: %v", err)
		}
		cfg.Targets = []harness.ConformTarget{{Adapter: tmpl.Adapter()}}
	default:
		use, missing, err := harness.ResolveServers(ctx, *servers, harness.ForConform, env)
		if err != nil {
			return fail("%v", err)
		}
		for _, d := range missing {
			fmt.Fprintf(os.Stderr, "wsgispec conform: skipping %s: not installed: %s\n", d.Adapter.Name, d.Reason)
		}
		if len(use) == 0 {
			return fail("none of the servers is installed (wsgispec servers shows why)")
		}
		for _, d := range use {
			if *envf.python != harness.DefaultPython && !d.Adapter.UsesPython {
				fmt.Fprintf(os.Stderr, "wsgispec conform: note: --python does not apply to %s (%s)\n", d.Adapter.Name, d.Adapter.Runs)
			}
			cfg.Targets = append(cfg.Targets, harness.ConformTarget{Adapter: d.Adapter, Version: d.Version})
		}
	}
	if cfg.PyApps, err = pyapps.Dir(); err != nil {
		return fail("cannot find the probe app: %v", err)
	}

	runs := harness.RunConform(ctx, cfg)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "wsgispec conform: interrupted; every server it started has been stopped")
		return exitInterrupted
	}
	expected.Apply(runs)
	if err := writeConformOutputs(ctx, runs, started, *jsonOut, *junitOut); err != nil {
		return fail("%v", err)
	}
	summary, color := io.Writer(os.Stdout), isTerminal(os.Stdout)
	if *jsonOut == "-" {
		summary, color = os.Stderr, isTerminal(os.Stderr)
	}
	harness.WriteConformSummary(summary, runs, *strict, color)
	for _, run := range runs {
		if run.Error != "" { // the details and the server's output are in the summary
			first, _, _ := strings.Cut(run.Error, "\n")
			fmt.Fprintf(os.Stderr, "wsgispec conform: %s could not be tested: %s\n", run.Server.Name, first)
		}
	}
	return harness.ConformExit(runs, *strict)
}

func writeConformOutputs(ctx context.Context, runs []harness.ConformRun, started time.Time, jsonPath, junitPath string) error {
	if jsonPath != "" {
		env := harness.NewEnvelope[harness.ConformRun](ctx, harness.KindConform, started)
		env.Runs = runs
		if err := harness.WriteJSON(jsonPath, env); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	if junitPath != "" {
		host, _ := os.Hostname()
		f, err := os.Create(junitPath)
		if err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
		if err := junit.Write(f, harness.ConformJUnit(runs, started, host)); err != nil {
			f.Close()
			return fmt.Errorf("--junit: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	return nil
}

// parseFlags parses args; when it returns false the command ends with the code given: 0 after
// --help (usage on stdout), 2 after a bad flag (one line on stderr, not the whole usage).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	usage := fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(os.Stdout)
		usage()
		return 0, false
	case err != nil:
		fmt.Fprintf(os.Stderr, "wsgispec %s: %v (wsgispec %s --help lists the flags)\n", fs.Name(), err, fs.Name())
		return 2, false
	}
	return 0, true
}

// jsonFlagValue lets --json stand alone (`conform --list --json`), meaning stdout: the flag
// package would otherwise take the next flag as its file name or fail at the end.
func jsonFlagValue(args []string) []string {
	out := make([]string, 0, len(args)+1)
	for i, a := range args {
		out = append(out, a)
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		if a == "--json" || a == "-json" {
			if i+1 == len(args) || strings.HasPrefix(args[i+1], "-") && args[i+1] != "-" {
				out = append(out, "-")
			}
		}
	}
	return out
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// isTerminal reports whether f is a terminal that wants colour (NO_COLOR unset).
func isTerminal(f *os.File) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
