package harness

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

// The probe: the WSGI app every server runs for the conformance suite.
const (
	ProbeModule   = "probe"
	ProbeCallable = "application"
)

// ConformTarget is one server to test: an adapter the harness starts, or a server the user
// started (URL set; Adapter nil).
type ConformTarget struct {
	Adapter *Adapter
	Version string // from Detect

	URL      string // http://host:port[/mount]
	ProbeDir string // the side-channel directory the user's server was given; may be ""
}

// ConformConfig is one `wsgispec conform` run.
type ConformConfig struct {
	Targets      []ConformTarget
	Env          Env
	PyApps       string // directory holding probe/
	Cases        CaseSelector
	Suite        Suite
	Parallel     int           // servers tested at once; at least 1
	StartTimeout time.Duration // passed to Start
	// Progress receives one line per server event (started, finished); nil discards them.
	Progress func(string)
}

// RunConform tests every target, Parallel at a time, and returns one run per target in the
// order given. A target that cannot be tested has Error set; the others go on.
func RunConform(ctx context.Context, cfg ConformConfig) []ConformRun {
	runs := make([]ConformRun, len(cfg.Targets))
	sem := make(chan struct{}, max(cfg.Parallel, 1))
	var wg sync.WaitGroup
	for i, t := range cfg.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			runs[i] = cfg.runGuarded(ctx, t)
		}()
	}
	wg.Wait()
	return runs
}

// runGuarded turns a panic into a failed run, after the run's deferred Stops have ended its
// processes, so that one bug neither kills the other servers' runs nor leaves servers behind.
func (cfg ConformConfig) runGuarded(ctx context.Context, t ConformTarget) (run ConformRun) {
	defer func() {
		if r := recover(); r != nil {
			run.Error = fmt.Sprintf("internal error while testing %s: %v\n%s", run.Server.Name, r, debug.Stack())
		}
	}()
	return cfg.run(ctx, t)
}

func (cfg ConformConfig) progress(format string, args ...any) {
	if cfg.Progress != nil {
		cfg.Progress(fmt.Sprintf(format, args...))
	}
}

func (cfg ConformConfig) run(ctx context.Context, t ConformTarget) (run ConformRun) {
	began := time.Now()
	defer func() { run.DurationS = Seconds(time.Since(began)) }()

	var target SuiteTarget
	if t.Adapter == nil {
		run.Server = ServerInfo{Name: t.URL}
		var err error
		if target, err = externalTarget(ctx, t); err != nil {
			run.Error = err.Error()
			return run
		}
	} else {
		run.Server = ServerInfo{Name: t.Adapter.Name, Version: t.Version}
		probeDir, err := newProbeDir()
		if err != nil {
			run.Error = err.Error()
			return run
		}
		defer os.RemoveAll(probeDir)
		app := App{
			Dir: filepath.Join(cfg.PyApps, "probe"), Module: ProbeModule, Callable: ProbeCallable,
			Env: map[string]string{EnvProbeDir: probeDir},
		}
		srv, err := Start(ctx, t.Adapter, app, Options{Env: cfg.Env, StartTimeout: cfg.StartTimeout})
		if err != nil {
			run.Error = err.Error()
			return run
		}
		defer srv.Stop()
		run.Server.Command = quoteArgv(srv.Argv)
		cfg.progress("%s: started on %s in %.1fs", t.Adapter.Name, srv.URL, time.Since(began).Seconds())
		target = SuiteTarget{URL: srv.URL, ProbeDir: probeDir, Env: map[string]string{}}
		if m := t.Adapter.Concurrency; m != nil {
			target.Env[EnvConcurrency] = m.Env()
		}
		if cfg.Cases.Match(callableKindsCase) {
			kinds, stop := cfg.startCallableKinds(ctx, t.Adapter, app)
			defer stop()
			target.Env[EnvCallableKinds] = kinds
		}
		defer func() {
			if status := srv.ExitStatus(); status != "" && run.Error == "" {
				run.Warnings = append(run.Warnings, fmt.Sprintf("the server exited during the run (%s); its output ends:\n%s",
					status, indent(srv.OutputTail(suiteOutputTail), "    ")))
			}
		}()
	}
	target.Server = run.Server.Name

	cases := cfg.Cases.Select(catalog.All())
	reports, err := cfg.Suite.Run(ctx, target, cfg.Cases.LabelFilter())
	if err != nil {
		if ctx.Err() != nil {
			run.Error = "interrupted"
			return run
		}
		// The suite ran (or hung) against this server: its cases are errors, not a setup failure.
		var se *SuiteError
		if !errors.As(err, &se) {
			se = &SuiteError{Reason: err.Error()}
		}
		for _, c := range cases {
			run.Cases = append(run.Cases, CaseResult{Case: c, Status: Error, Message: "not run: " + se.Reason})
		}
		if out := strings.TrimSpace(se.Output); out != "" {
			run.Warnings = append(run.Warnings, se.Reason+"; its output ends:\n"+indent(out, "    "))
		}
	} else {
		var warnings []string
		run.Cases, warnings = JoinReport(reports, cases)
		run.Warnings = append(run.Warnings, warnings...)
	}
	for _, c := range run.Cases {
		run.Summary.Add(c.Status)
	}
	cfg.progress("%s: %d pass, %d fail, %d skip, %d error in %.1fs", run.Server.Name,
		run.Summary.Pass, run.Summary.Fail, run.Summary.Skip, run.Summary.Error, time.Since(began).Seconds())
	return run
}

// newProbeDir makes the probe's side-channel directory, writable by whatever user the server
// serves requests as (mod_wsgi's www-data).
func newProbeDir() (string, error) {
	dir, err := os.MkdirTemp("", "wsgispec-probe-")
	if err == nil {
		err = os.Chmod(dir, 0o777)
	}
	if err != nil {
		return "", fmt.Errorf("cannot create the probe's directory: %w", err)
	}
	return dir, nil
}

// externalTarget checks a --url and that something answers there.
func externalTarget(ctx context.Context, t ConformTarget) (SuiteTarget, error) {
	base, mount, err := ParseTargetURL(t.URL)
	if err != nil {
		return SuiteTarget{}, err
	}
	if err := waitHTTP(ctx, base+mount+"/", 5*time.Second, nil); err != nil {
		return SuiteTarget{}, fmt.Errorf("nothing answers at %s: %v", t.URL, err)
	}
	return SuiteTarget{URL: base, ScriptName: mount, ProbeDir: t.ProbeDir}, nil
}

// ParseTargetURL splits a --url into the base the suite connects to (http(s)://host:port) and the
// mount prefix the app is served under ("" or "/path", no trailing slash).
func ParseTargetURL(raw string) (base, mount string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Port() == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("--url %q: want http://host:port[/mount-prefix] or https://… (explicit port)", raw)
	}
	return u.Scheme + "://" + u.Host, strings.TrimRight(u.EscapedPath(), "/"), nil
}

// callableKindsCase is judged against servers the harness starts for it: the same server, with
// the probe given as a class and as an instance instead of a function.
const callableKindsCase = "environ.callable-kinds"

// EnvCallableKinds passes the suite those servers, one "kind=URL" a line, or "kind=!reason" for
// one that did not start.
const EnvCallableKinds = "WSGISPEC_CALLABLE_KINDS"

// The probe's other callables (pyapps/probe/probe.py): the same app as a class whose instances
// are the response, and as an instance with __call__.
var probeCallableKinds = [][2]string{{"class", "ApplicationClass"}, {"instance", "application_instance"}}

// startCallableKinds starts adapter once per other kind of callable and returns EnvCallableKinds'
// value and the function that stops them.
func (cfg ConformConfig) startCallableKinds(ctx context.Context, adapter *Adapter, app App) (string, func()) {
	var parts []string
	var servers []*Server
	for _, kind := range probeCallableKinds {
		a := app
		a.Callable = kind[1]
		srv, err := Start(ctx, adapter, a, Options{Env: cfg.Env, StartTimeout: cfg.StartTimeout})
		if err != nil {
			reason, _, _ := strings.Cut(err.Error(), "\n")
			parts = append(parts, kind[0]+"=!"+reason)
			continue
		}
		servers = append(servers, srv)
		parts = append(parts, kind[0]+"="+srv.URL)
	}
	return strings.Join(parts, "\n"), func() {
		for _, s := range servers {
			s.Stop()
		}
	}
}
