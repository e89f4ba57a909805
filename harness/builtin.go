package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The built-in adapters of DESIGN.md, in its order. Their command lines are the same for conform,
// matrix and bench, so a server's results can be compared across commands.
func init() {
	Register(&Adapter{
		Name:     "gateway",
		Runs:     "wsgispec serve (default workers and threads)",
		Purposes: ForAll,
		Detect:   detectGateway,
		Command: func(l Launch) (Command, error) {
			return Command{Argv: []string{
				l.GatewayBin, "serve",
				"--app-dir", l.App.Dir, "--app", l.App.Spec(), "--listen", l.Addr(),
			}, Dir: l.App.Dir}, nil
		},
	})
	Register(pythonModuleServer("gunicorn", "gunicorn sync, 2 workers", "gunicorn", "gunicorn",
		func(l Launch) []string {
			return []string{"--bind", l.Addr(), "--workers", "2", "--chdir", l.App.Dir, l.App.Spec()}
		}))
	Register(pythonModuleServer("gunicorn-gthread", "gunicorn gthread, 2 workers × 4 threads", "gunicorn", "gunicorn",
		func(l Launch) []string {
			return []string{"--bind", l.Addr(), "--worker-class", "gthread", "--workers", "2", "--threads", "4",
				"--chdir", l.App.Dir, l.App.Spec()}
		}))
	Register(&Adapter{
		Name:     "uwsgi",
		Runs:     "uWSGI --http11-socket, 2 processes, --master (its python3 plugin's interpreter)",
		Purposes: ForAll,
		Detect:   detectUWSGI,
		Command: func(l Launch) (Command, error) {
			return Command{Argv: []string{
				"uwsgi", "--plugin", "python3", "--http11-socket", l.Addr(), "--master", "--processes", "2",
				"--chdir", l.App.Dir, "--pythonpath", l.App.Dir, "--module", l.App.Spec(),
				"--need-app",        // exit when the app cannot be imported instead of serving 500s
				"--die-on-term",     // SIGTERM stops uWSGI rather than reloading it
				"--disable-logging", // no line per request in the captured output
			}, Dir: l.App.Dir}, nil
		},
	})
	Register(pythonModuleServer("waitress", "waitress, 4 threads", "waitress", "waitress",
		func(l Launch) []string {
			return []string{"--listen=" + l.Addr(), "--threads=4", l.App.Spec()}
		}))
	Register(pythonModuleServer("cheroot", "cheroot WSGI server, 8 threads", "cheroot", "cheroot",
		func(l Launch) []string {
			return []string{"--bind", l.Addr(), "--threads", "8", l.App.Spec()}
		}))
	Register(pythonSourceServer("werkzeug", "werkzeug run_simple, threaded", "werkzeug", "Werkzeug",
		func(l Launch, app string) string {
			return "from werkzeug.serving import run_simple; " + app +
				fmt.Sprintf("run_simple(%s, %d, app, threaded=True)", strconv.Quote(l.Host), l.Port)
		}))
	Register(pythonSourceServer("wsgiref", "stdlib wsgiref.simple_server", "wsgiref", "",
		func(l Launch, app string) string {
			return "from wsgiref.simple_server import make_server; " + app +
				fmt.Sprintf("make_server(%s, %d, app).serve_forever()", strconv.Quote(l.Host), l.Port)
		}))
	Register(pythonSourceServer("gevent", "gevent.pywsgi.WSGIServer", "gevent", "gevent",
		func(l Launch, app string) string {
			// Patching must come before anything else imports socket or threading.
			return "from gevent import monkey; monkey.patch_all(); from gevent.pywsgi import WSGIServer; " + app +
				fmt.Sprintf("WSGIServer((%s, %d), app).serve_forever()", strconv.Quote(l.Host), l.Port)
		}))
	Register(modWSGIAdapter)
}

// pythonServer is a Python package's server, its version detected from the distribution dist,
// run from the app directory with the command line argv gives.
func pythonServer(name, runs, module, dist string, argv func(Launch) []string) *Adapter {
	return &Adapter{
		Name:       name,
		Runs:       runs,
		Purposes:   ForAll,
		UsesPython: true,
		Detect: func(ctx context.Context, env Env) (string, error) {
			return pythonDistVersion(ctx, env.Python, module, dist)
		},
		Command: func(l Launch) (Command, error) {
			return Command{Argv: argv(l), Dir: l.App.Dir}, nil
		},
	}
}

// pythonModuleServer is a server started as `python -m module ARGS`.
func pythonModuleServer(name, runs, module, dist string, args func(Launch) []string) *Adapter {
	return pythonServer(name, runs, module, dist, func(l Launch) []string {
		return append([]string{l.Python, "-m", module}, args(l)...)
	})
}

// pythonSourceServer is a server with no command-line entry point of its own, started as
// `python -c SOURCE` from the app directory (which `-c` puts first on sys.path). source gets the
// statement importing the app as `app`.
func pythonSourceServer(name, runs, module, dist string, source func(l Launch, importApp string) string) *Adapter {
	return pythonServer(name, runs, module, dist, func(l Launch) []string {
		importApp := fmt.Sprintf("from %s import %s as app; ", l.App.Module, l.App.Callable)
		return []string{l.Python, "-c", source(l, importApp)}
	})
}

// pythonDistVersion imports module under python and returns the version of its distribution,
// or Python's own version for a stdlib module (dist "").
func pythonDistVersion(ctx context.Context, python, module, dist string) (string, error) {
	code := "import sys, " + module + "; print('Python ' + sys.version.split()[0])"
	if dist != "" {
		code = "import importlib.metadata, " + module + "; print(importlib.metadata.version(" + strconv.Quote(dist) + "))"
	}
	out, err := runQuiet(ctx, python, "-c", code)
	if err != nil {
		return "", fmt.Errorf("%s cannot import %s: %w", python, module, err)
	}
	return out, nil
}

func detectGateway(ctx context.Context, env Env) (string, error) {
	bin := env.GatewayBin
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("no wsgispec executable at %s (make build puts one in bin/)", bin)
	}
	if _, err := runQuiet(ctx, bin, "serve", "--help"); err != nil {
		// A wsgispec built without cgo answers serve with exit 2 and how to get the gateway.
		return "", fmt.Errorf("not available in this build: %s has no gateway (`make build` gives a wsgispec with it; name that one with --gateway-bin)", bin)
	}
	out, err := runQuiet(ctx, bin, "--version")
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", bin, err)
	}
	return strings.TrimPrefix(out, "wsgispec "), nil
}

func detectUWSGI(ctx context.Context, _ Env) (string, error) {
	out, err := runQuiet(ctx, "uwsgi", "--plugin", "python3", "--version")
	if err != nil {
		return "", err
	}
	// uWSGI reports a plugin it cannot load and carries on with exit status 0.
	if strings.Contains(out, "UNABLE to load") {
		return "", errors.New("uwsgi has no python3 plugin (Debian: uwsgi-plugin-python3)")
	}
	return out, nil
}

// runQuiet runs a short command and returns its trimmed output; on failure the error carries
// the output's last line, which is where Python and most tools say what went wrong.
func runQuiet(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	out := strings.TrimSpace(buf.String())
	if err != nil {
		if last := lastLine(out); last != "" {
			return "", fmt.Errorf("%s", last)
		}
		return "", err
	}
	return out, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}
