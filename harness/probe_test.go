package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestProbeIsAPlainFunction: servers inspect the app they load (some call it with no arguments
// to see whether it is a factory, and expect TypeError); the probe must look and fail like
// def application(environ, start_response).
func TestProbeIsAPlainFunction(t *testing.T) {
	if _, err := os.Stat(DefaultPython); err != nil {
		t.Skipf("%s: %v", DefaultPython, err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "pyapps", "probe"))
	if err != nil {
		t.Fatal(err)
	}
	code := `
import inspect, probe
app = probe.application
assert str(inspect.signature(app)) == "(environ, start_response)", inspect.signature(app)
for args, kwargs in [((), {}), (({},), {}), (({}, print, 3), {}), (({}, print), {"x": 1})]:
    try:
        app(*args, **kwargs)
    except TypeError:
        pass
    else:
        raise AssertionError("no TypeError for %r %r" % (args, kwargs))
for name in ("__name__", "__qualname__", "__module__", "__doc__", "__code__", "__defaults__", "__wrapped__"):
    getattr(app, name, None)
inspect.getfullargspec(app)
callable(app)
print("ok")
`
	cmd := exec.Command(DefaultPython, "-c", code)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("%v:\n%s", err, out)
	}
}
