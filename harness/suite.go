package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// The environment variables a compiled spec suite reads its target from.
const (
	EnvTarget     = "WSGISPEC_TARGET"      // base URL, no trailing slash
	EnvScriptName = "WSGISPEC_SCRIPT_NAME" // the mount prefix the app is served under
	EnvProbeDir   = "WSGISPEC_PROBE_DIR"   // the probe's side-channel directory (also set for the server)
	EnvServer     = "WSGISPEC_SERVER"      // server name, for messages
)

// RunSuiteCommand is wsgispec's hidden command that runs one linked Ginkgo suite in a child
// process (Ginkgo allows one suite run per process): `wsgispec run-suite NAME --ginkgo.…`.
const RunSuiteCommand = "run-suite"

// The suites linked into wsgispec, by the name run-suite takes.
const (
	ConformanceSuite = "conformance"
	FrameworksSuite  = "frameworks"
)

// LinkedSuite is the suite name as run by the wsgispec executable exe.
func LinkedSuite(exe, name string, timeout time.Duration) Suite {
	return Suite{Binary: exe, Args: []string{RunSuiteCommand, name}, Timeout: timeout}
}

// Suite is a Ginkgo suite run as a child process, as DESIGN.md "Running the Ginkgo specs from the
// CLI" describes: Binary with Args, then Ginkgo's --ginkgo.* flags, the way a `go test -c` binary
// takes them.
type Suite struct {
	Binary string
	Args   []string // before Ginkgo's flags
	// Timeout bounds a whole run. Ginkgo is told to interrupt itself at Timeout, which still
	// writes a report; a suite that ignores that is killed shortly after and reports nothing.
	Timeout time.Duration
}

// DefaultSuiteTimeout bounds one server's conformance run; a normal run takes well under a minute.
const DefaultSuiteTimeout = 4 * time.Minute

// SuiteTarget is what the suite tests.
type SuiteTarget struct {
	URL        string // WSGISPEC_TARGET
	ScriptName string
	ProbeDir   string // "" leaves the side-channel cases to skip
	Server     string
	Env        map[string]string // further variables a suite reads (the frameworks suite's WSGISPEC_FRAMEWORK)
}

// ginkgoGrace is Ginkgo's --grace-period: how long cleanup may take after an interrupt.
const ginkgoGrace = 5 * time.Second

// killSlack is how long after Timeout a suite still running is killed: Ginkgo's grace period
// for the interrupted spec, then time to run its report nodes and write the report.
const killSlack = ginkgoGrace + 5*time.Second

// suiteStopGrace is how long a suite being stopped (Ctrl-C, or past its bound) may take to end
// after SIGTERM; its report is not needed then.
const suiteStopGrace = 2 * time.Second

// suiteOutputTail is how much of a failed suite's output a SuiteError quotes.
const suiteOutputTail = 3000

// SuiteError is a suite run that produced no usable report.
type SuiteError struct {
	Reason string
	Output string // the end of the suite's output
}

func (e *SuiteError) Error() string { return e.Reason }

// Run runs the specs the label filter selects ("" = all) against target and returns Ginkgo's
// report. An error is a *SuiteError (no report: the binary would not run, crashed or hung) or
// ctx's error.
func (s Suite) Run(ctx context.Context, target SuiteTarget, labelFilter string) ([]types.Report, error) {
	dir, err := os.MkdirTemp("", "wsgispec-suite-")
	if err != nil {
		return nil, &SuiteError{Reason: "cannot create a directory for the suite's report: " + err.Error()}
	}
	defer os.RemoveAll(dir)
	reportPath := filepath.Join(dir, "report.json")
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSuiteTimeout
	}
	argv := append([]string{s.Binary}, s.Args...)
	argv = append(argv,
		"--ginkgo.json-report="+reportPath,
		"--ginkgo.no-color",
		"--ginkgo.timeout="+timeout.String(),
		"--ginkgo.grace-period="+ginkgoGrace.String(),
	)
	if labelFilter != "" {
		argv = append(argv, "--ginkgo.label-filter="+labelFilter)
	}
	p, err := spawn(ctx, argv, dir, suiteEnv(target), suiteStopGrace)
	if err != nil {
		return nil, &SuiteError{Reason: fmt.Sprintf("cannot run the suite %s: %v", s.Binary, err)}
	}
	defer p.Stop()
	select {
	case <-p.Exited():
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(timeout + killSlack):
		p.Stop()
		return nil, &SuiteError{
			Reason: fmt.Sprintf("the suite did not finish within %s and was killed", timeout),
			Output: p.OutputTail(suiteOutputTail),
		}
	}
	reports, err := ReadGinkgoReport(reportPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &SuiteError{
			Reason: fmt.Sprintf("the suite ended (%s) without writing a report", p.ExitStatus()),
			Output: p.OutputTail(suiteOutputTail),
		}
	}
	if err != nil {
		return nil, &SuiteError{Reason: err.Error(), Output: p.OutputTail(suiteOutputTail)}
	}
	return reports, nil
}

// suiteEnv is wsgispec's environment with the target variables replaced: an unset variable is
// removed rather than inherited from the user's shell.
func suiteEnv(t SuiteTarget) []string {
	vars := map[string]string{EnvTarget: t.URL, EnvScriptName: t.ScriptName, EnvProbeDir: t.ProbeDir, EnvServer: t.Server}
	for k, v := range t.Env {
		vars[k] = v
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := vars[k]; !ours {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		if v != "" || k == EnvScriptName {
			env = append(env, k+"="+v)
		}
	}
	return env
}
