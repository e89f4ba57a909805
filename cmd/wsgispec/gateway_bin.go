package main

import (
	"flag"
	"os/exec"
	"path/filepath"

	"github.com/wsgispec/wsgispec/harness"
)

// envFlags are the flags every command that starts servers takes for what adapters depend on.
type envFlags struct {
	python, gatewayBin *string
}

func addEnvFlags(fs *flag.FlagSet, pythonUsage string) envFlags {
	return envFlags{
		python:     fs.String("python", harness.DefaultPython, pythonUsage),
		gatewayBin: fs.String("gateway-bin", "", "wsgispec `executable` with the gateway, for the gateway adapters (default: this one if it has it, else a wsgispec on PATH that does)"),
	}
}

// env is the harness environment the flags give.
func (f envFlags) env() harness.Env {
	return harness.Env{Python: *f.python, ToolDir: harness.ExecutableDir(), GatewayBin: gatewayBinary(*f.gatewayBin)}
}

// gatewayBinary is the wsgispec that serves the gateway adapters: --gateway-bin, else this
// executable when it was built with the gateway, else a wsgispec on PATH (a `make build` one
// installed beside a release archive's). When none is known it is this executable, which the
// gateway adapter's detection then reports as "not available in this build".
func gatewayBinary(given string) string {
	if given != "" {
		if abs, err := filepath.Abs(given); err == nil {
			return abs
		}
		return given
	}
	self := harness.Executable()
	if gatewayLinked {
		return self
	}
	if p, err := exec.LookPath("wsgispec"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil && r != self {
			if abs, err := filepath.Abs(r); err == nil {
				return abs
			}
		}
	}
	return self
}
