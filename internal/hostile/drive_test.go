package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wsgispec/wsgispec/bench"
	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/internal/readcap"
	"github.com/wsgispec/wsgispec/pyapps"
)

// drive runs `wsgispec matrix` or `wsgispec bench` on the hostile server in mode through their
// packages, as the commands would, and writes the runs as JSON; its exit code is the command's.
// (matrix and bench take built-in server names only, so a --server-cmd cannot be given to them
// on the command line yet.) Arguments: matrix|bench MODE OUT.json TAG.
func drive(args []string) int {
	if len(args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: hostile-drive matrix|bench MODE OUT.json TAG")
		return 2
	}
	what, mode, out, tag := args[0], args[1], args[2], args[3]
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "wsgispec %s: %v\n", what, err)
		return harness.ExitSetup
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	tmpl, err := harness.ParseCommandTemplate(serverCommand(self, Mode(mode), tag))
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), driveTimeout)
	defer cancel()
	env := harness.Env{Python: harness.DefaultPython, ToolDir: os.Getenv("WSGISPEC_BIN")}
	dir, err := pyapps.Dir()
	if err != nil {
		return fail(err)
	}
	var runs any
	code := 0
	switch what {
	case "matrix":
		// The suite runs in a child wsgispec, as `wsgispec matrix` runs it.
		suite := harness.LinkedSuite(filepath.Join(env.ToolDir, "wsgispec"), harness.FrameworksSuite, time.Minute)
		flask := harness.Frameworks[0]
		version, err := harness.DetectFramework(ctx, env.Python, flask)
		if err != nil {
			return fail(err)
		}
		matrixRuns := harness.RunMatrix(ctx, harness.MatrixConfig{
			Servers:    []harness.MatrixServer{{Adapter: harness.CustomServer{Name: "hostile-" + mode, Template: tmpl}.Adapter()}},
			Frameworks: []harness.FrameworkInfo{{Name: flask.Name, Version: version}},
			Env:        env, PyApps: dir, Suite: suite, Parallel: 1, StartTimeout: 30 * time.Second,
		})
		runs, code = matrixRuns, harness.MatrixExit(matrixRuns)
	case "bench":
		scenarios, err := bench.ParseScenarios("hello")
		if err != nil {
			return fail(err)
		}
		benchRuns, err := bench.Execute(ctx, bench.Config{
			Env: env, Servers: []harness.Detection{{Adapter: harness.CustomServer{Name: "hostile-" + mode, Template: tmpl}.Adapter()}}, Scenarios: scenarios, PyApps: dir,
			Rounds: 1, WarmUp: 100 * time.Millisecond, Duration: 300 * time.Millisecond, Concurrency: 4, Limits: readcap.Defaults,
		})
		if err != nil {
			return fail(err)
		}
		runs = benchRuns
	default:
		return fail(fmt.Errorf("unknown command %q", what))
	}
	b, err := json.Marshal(runs)
	if err == nil {
		err = os.WriteFile(out, b, 0o644)
	}
	if err != nil {
		return fail(err)
	}
	return code
}

// driveTimeout bounds a driven run, as a CI job's timeout would.
const driveTimeout = 3 * time.Minute

// serverCommand is the --server-cmd template that runs the hostile server in mode: this test
// binary, whose TestMain serves; tag marks its processes.
func serverCommand(self string, mode Mode, tag string) string {
	return fmt.Sprintf("'%s' hostile-serve %s {host}:{port} %s", self, mode, tag)
}
