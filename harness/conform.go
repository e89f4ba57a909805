package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/wsgispec/wsgispec/internal/progress"
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
	Version string // from Detect, or given

	URL      string // http://host:port[/mount]
	ProbeDir string // the side-channel directory the user's server was given; may be ""
	Name     string // for a URL: the name results carry (default: the URL)
}

// name is what the target's results and progress are called.
func (t ConformTarget) name() string {
	switch {
	case t.Adapter != nil:
		return t.Adapter.Name
	case t.Name != "":
		return t.Name
	}
	return t.URL
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
	// Progress shows one row per server; nil shows nothing.
	Progress *progress.Board
}

// EnvProgress names the file the conformance suite appends each case's outcome to.
const EnvProgress = "WSGISPEC_PROGRESS"

// maxRestarts bounds how often one run restarts a server that a case left busy: a server busy
// after every case would otherwise take the whole idle wait per case.
const maxRestarts = 10

// RunConform tests every target, Parallel at a time, and returns one run per target in the
// order given, redacted (Redact). A target that cannot be tested has Error set; the others go on.
func RunConform(ctx context.Context, cfg ConformConfig) []ConformRun {
	runs := make([]ConformRun, len(cfg.Targets))
	sem := make(chan struct{}, max(cfg.Parallel, 1))
	total := len(cfg.Cases.Select(catalog.All()))
	var wg sync.WaitGroup
	for i, t := range cfg.Targets {
		var row *progress.Row
		if cfg.Progress != nil {
			row = cfg.Progress.Add(t.name(), total, "cases")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			runs[i] = cfg.runGuarded(ctx, t, row)
		}()
	}
	wg.Wait()
	for i := range runs {
		if runs[i].Cases == nil { // a server that could not be tested has no cases, not null
			runs[i].Cases = []CaseResult{}
		}
	}
	Redact(runs)
	return runs
}

// runGuarded turns a panic into a failed run, after the run's deferred Stops have ended its
// processes, so that one bug neither kills the other servers' runs nor leaves servers behind.
func (cfg ConformConfig) runGuarded(ctx context.Context, t ConformTarget, row *progress.Row) (run ConformRun) {
	defer func() {
		if r := recover(); r != nil {
			run.Error = &RunError{Message: fmt.Sprintf("internal error while testing %s: %v", run.Server.Name, r), Output: string(debug.Stack())}
		}
	}()
	return cfg.run(ctx, t, row)
}

// conformRun is one server's run as it goes: the cases judged so far, across server restarts.
type conformRun struct {
	cfg      ConformConfig
	t        ConformTarget
	row      *progress.Row
	probeDir string
	run      *ConformRun
	results  map[string]CaseResult
	failures int
}

func (cfg ConformConfig) run(ctx context.Context, t ConformTarget, row *progress.Row) (run ConformRun) {
	began := time.Now()
	defer func() { run.DurationS = Seconds(time.Since(began)) }()
	if row != nil {
		row.Start()
		defer func() {
			row.Set(len(run.Cases), run.Summary.Fail+run.Summary.Error)
			row.Finish("%s", run.outcome())
		}()
	}
	run.Server = ServerInfo{Name: t.name(), Version: t.Version}
	r := &conformRun{cfg: cfg, t: t, row: row, run: &run, results: map[string]CaseResult{}}
	if t.Adapter != nil {
		probeDir, err := newProbeDir()
		if err != nil {
			run.Error = NewRunError(err)
			return run
		}
		defer os.RemoveAll(probeDir)
		r.probeDir = probeDir
	}
	cases := cfg.Cases.Select(catalog.All())
	remaining := cases
	for attempt := 0; len(remaining) > 0; attempt++ {
		next, err := r.runCases(ctx, remaining, attempt)
		if err != nil {
			if attempt == 0 {
				run.Error = NewRunError(err)
				return run
			}
			for _, c := range next {
				r.results[c.ID] = CaseResult{Case: c, Status: Error, Message: "not run: restarting the server failed: " + firstLine(err.Error())}
			}
			run.Warnings = append(run.Warnings, "restarting the server failed: "+err.Error())
			break
		}
		if len(next) > 0 && attempt == maxRestarts {
			for _, c := range next {
				r.results[c.ID] = CaseResult{Case: c, Status: Error, Message: fmt.Sprintf("not run: cases left the server busy %d times; wsgispec stopped restarting it", maxRestarts+1)}
			}
			break
		}
		remaining = next
	}
	for _, c := range cases {
		res := r.results[c.ID]
		run.Cases = append(run.Cases, res)
		run.Summary.Add(res.Status)
	}
	return run
}

// outcome is the run's one-line summary for progress.
func (run ConformRun) outcome() string {
	if run.Error != nil {
		return "could not be tested: " + firstLine(run.Error.Message)
	}
	s := run.Summary
	return fmt.Sprintf("done: %d pass, %d fail, %d skip, %d error", s.Pass, s.Fail, s.Skip, s.Error)
}

// runCases starts the server (a fresh one on every attempt), runs the cases against it and
// records their results. It returns the cases still to run: those after a case that left the
// server busy. An error means the server could not be started or reached.
func (r *conformRun) runCases(ctx context.Context, cases []catalog.Case, attempt int) (remaining []catalog.Case, err error) {
	var target SuiteTarget
	if r.t.Adapter == nil {
		if target, err = externalTarget(ctx, r.t); err != nil {
			return cases, err
		}
	} else {
		app := App{
			Dir: filepath.Join(r.cfg.PyApps, "probe"), Module: ProbeModule, Callable: ProbeCallable,
			Env: map[string]string{EnvProbeDir: r.probeDir},
		}
		r.note("starting the server")
		srv, err := Start(ctx, r.t.Adapter, app, Options{Env: r.cfg.Env, StartTimeout: r.cfg.StartTimeout})
		if err != nil {
			if cmd := StartedCommand(err); cmd != "" {
				r.run.Server.Command = cmd
			}
			return cases, err
		}
		defer srv.Stop()
		r.run.Server.Command = quoteArgv(srv.Argv)
		r.note("started on %s", srv.URL)
		target = SuiteTarget{URL: srv.URL, ProbeDir: r.probeDir, Env: map[string]string{}}
		if m := r.t.Adapter.Concurrency; m != nil {
			target.Env[EnvConcurrency] = m.Env()
		}
		if r.cfg.Cases.Match(callableKindsCase) {
			kinds, stop := r.cfg.startCallableKinds(ctx, r.t.Adapter, app)
			defer stop()
			target.Env[EnvCallableKinds] = kinds
		}
		defer func() {
			if status := srv.ExitStatus(); status != "" {
				r.run.Warnings = append(r.run.Warnings, fmt.Sprintf("the server exited during the run (%s); its output ends:\n%s",
					status, indent(srv.OutputTail(suiteOutputTail), "    ")))
			}
		}()
	}
	target.Server = r.run.Server.Name

	progressDir, err := os.MkdirTemp("", "wsgispec-progress-")
	if err != nil {
		return cases, err
	}
	defer os.RemoveAll(progressDir)
	progressFile := filepath.Join(progressDir, "cases")
	if target.Env == nil {
		target.Env = map[string]string{}
	}
	target.Env[EnvProgress] = progressFile
	stopWatch := r.watchProgress(progressFile)
	reports, err := r.cfg.Suite.Run(ctx, target, exactCases(cases).LabelFilter())
	stopWatch()
	if err != nil {
		if ctx.Err() != nil {
			r.run.Error = &RunError{Message: "interrupted"}
			return nil, nil
		}
		// The suite ran (or hung) against this server: its cases are errors, not a setup failure.
		var se *SuiteError
		if !errors.As(err, &se) {
			se = &SuiteError{Reason: err.Error()}
		}
		for _, c := range cases {
			r.results[c.ID] = CaseResult{Case: c, Status: Error, Message: "not run: " + se.Reason}
		}
		if out := strings.TrimSpace(se.Output); out != "" {
			r.run.Warnings = append(r.run.Warnings, se.Reason+"; its output ends:\n"+indent(out, "    "))
		}
		return nil, nil
	}
	results, warnings := JoinReport(reports, cases)
	r.run.Warnings = append(r.run.Warnings, warnings...)
	busyID, b, busy := busyCase(reports)
	ran := ranCases(reports)
	for _, res := range results {
		switch {
		case busy && res.ID == busyID:
			res.Status, res.Message = busyResult(b)
		case busy && !ran[res.ID]:
			remaining = append(remaining, res.Case)
			continue
		}
		r.results[res.ID] = res
		if res.Status == Fail || res.Status == Error {
			r.failures++
		}
	}
	if busy && len(remaining) > 0 {
		how := "restarting it for the remaining cases"
		if r.t.Adapter == nil {
			how = "wsgispec did not start it and cannot restart it: the remaining cases run against it as it is, and may be affected"
		}
		r.run.Warnings = append(r.run.Warnings, fmt.Sprintf("%s; %s", b.Message, how))
		r.note("%s%s: restarting", catalog.BusyPrefix, busyID)
	}
	return remaining, nil
}

func (r *conformRun) note(format string, args ...any) {
	if r.row != nil {
		r.row.Note(format, args...)
	}
}

// watchProgress follows the suite's progress file until the returned stop is called, showing
// the cases done so far (earlier attempts' included) on the run's row.
func (r *conformRun) watchProgress(path string) (stop func()) {
	if r.row == nil {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	base, baseFailures := len(r.results), r.failures
	go func() {
		defer close(exited)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			n, failed := readProgress(path)
			r.row.Set(base+n, baseFailures+failed)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-exited }
}

// readProgress counts the cases the suite reported done in its progress file, and how many of
// them failed (any state but passed or skipped).
func readProgress(path string) (done, failed int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		_, state, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		done++
		if state != "passed" && state != "skipped" && state != "pending" {
			failed++
		}
	}
	return done, failed
}

// exactCases selects exactly these cases.
func exactCases(cases []catalog.Case) CaseSelector {
	if len(cases) == len(catalog.All()) {
		return CaseSelector{}
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = c.ID
	}
	sel, err := ParseCaseSelector(strings.Join(ids, ","))
	if err != nil {
		panic("harness: a catalog case ID is not a valid --cases pattern: " + err.Error())
	}
	return sel
}

// busyCase finds the case after which the suite found the server busy (catalog.Busy).
func busyCase(reports []types.Report) (id string, b catalog.Busy, ok bool) {
	eachSpec(reports, func(s types.SpecReport) {
		for _, e := range s.ReportEntries {
			if e.Name == catalog.BusyEntry && json.Unmarshal([]byte(e.Value.AsJSON), &b) == nil {
				id, ok = specCaseID(s), true
			}
		}
	})
	return id, b, ok
}

// busyResult is the verdict of a case that left the server busy: its own failure stays a
// failure, with the busy server noted; otherwise the case is an error.
func busyResult(b catalog.Busy) (Status, string) {
	if b.State == types.SpecStateFailed.String() {
		return Fail, b.Failure + "\n" + b.Message
	}
	return Error, b.Message
}

// ranCases is the set of cases whose spec ran; the others were skipped without a word, which
// Ginkgo does to specs a label filter leaves out and to every spec after an aborting one.
func ranCases(reports []types.Report) map[string]bool {
	ran := map[string]bool{}
	eachSpec(reports, func(s types.SpecReport) {
		if !s.State.Is(types.SpecStateSkipped) || s.Failure.Message != "" {
			ran[specCaseID(s)] = true
		}
	})
	return ran
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
