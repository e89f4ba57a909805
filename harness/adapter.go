// Package harness starts WSGI servers with a Python app in them and runs wsgispec's checks against
// them: server adapters, process lifecycle, the conformance run, the result model, the JSON
// envelope and JUnit output. conform, matrix and bench all start "app X on server Y" through Start.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Purpose says which commands an adapter serves; `--server all` picks the adapters of its command.
type Purpose uint

const (
	ForConform Purpose = 1 << iota
	ForMatrix
	ForBench

	ForAll = ForConform | ForMatrix | ForBench
)

// Adapter knows how to run one kind of server: whether it is installed, its version, and its
// command line for an app on a host and port. Adapters are values so that other packages can
// register their own (matrix's gateway-multi, bench's reference server).
type Adapter struct {
	Name     string
	Runs     string // what it runs, in a few words, for `wsgispec servers`
	Purposes Purpose
	// UsesPython is true when the server runs under Env.Python (--python); false for servers
	// whose interpreter is built in (the gateway, uWSGI's plugin, mod_wsgi).
	UsesPython bool
	// Detect returns the installed version, or an error saying why it cannot run here.
	Detect func(ctx context.Context, env Env) (string, error)
	// Command builds the command line. It may write files into l.WorkDir (configs, wrappers).
	Command func(l Launch) (Command, error)
}

// Env is what every adapter may depend on outside the app.
type Env struct {
	Python  string // interpreter for Python servers; DefaultPython when empty
	ToolDir string // directory holding the wsgispec executable
	// GatewayBin is the wsgispec executable that runs the gateway (`serve`); ToolDir's wsgispec
	// when empty. A wsgispec built without cgo has no gateway and names another one here.
	GatewayBin string
}

// DefaultPython is the interpreter the Debian-packaged servers are installed for.
const DefaultPython = "/usr/bin/python3"

// App is a WSGI application: the directory it is imported from, module and callable, and extra
// environment variables for the server process (the probe's side-channel directory, a database).
type App struct {
	Dir      string
	Module   string
	Callable string
	Env      map[string]string
}

// Spec is the "module:callable" form most servers take.
func (a App) Spec() string { return a.Module + ":" + a.Callable }

var (
	dottedName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
	identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks what adapters splice into command lines and Python source.
func (a App) Validate() error {
	if !dottedName.MatchString(a.Module) {
		return fmt.Errorf("app module %q is not a dotted Python name", a.Module)
	}
	if !identifier.MatchString(a.Callable) {
		return fmt.Errorf("app callable %q is not a Python identifier", a.Callable)
	}
	st, err := os.Stat(a.Dir)
	if err != nil {
		return fmt.Errorf("app directory: %w", err)
	}
	if !st.IsDir() || !filepath.IsAbs(a.Dir) {
		return fmt.Errorf("app directory %q is not an absolute path to a directory", a.Dir)
	}
	return nil
}

// Launch is everything an adapter needs to build one command line.
type Launch struct {
	Env
	Host    string
	Port    int
	App     App
	WorkDir string // private to this process, mode 0755, removed when it stops
}

// Addr is host:port.
func (l Launch) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// Command is a server's command line, its working directory and extra environment.
type Command struct {
	Argv []string
	Dir  string
	Env  []string
}

var (
	registryMu sync.Mutex
	registry   []*Adapter
)

// Register adds an adapter. A duplicate name is a programming error and panics at start-up.
func Register(a *Adapter) {
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, b := range registry {
		if b.Name == a.Name {
			panic("harness: adapter " + a.Name + " registered twice")
		}
	}
	registry = append(registry, a)
}

// Adapters returns the registered adapters for purpose p, in registration order.
func Adapters(p Purpose) []*Adapter {
	registryMu.Lock()
	defer registryMu.Unlock()
	var out []*Adapter
	for _, a := range registry {
		if a.Purposes&p != 0 {
			out = append(out, a)
		}
	}
	return out
}

// LookupAdapter finds a registered adapter by name.
func LookupAdapter(name string) (*Adapter, bool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, a := range registry {
		if a.Name == name {
			return a, true
		}
	}
	return nil, false
}

// AdapterNames lists the names of the adapters for purpose p (for error messages).
func AdapterNames(p Purpose) []string {
	var names []string
	for _, a := range Adapters(p) {
		names = append(names, a.Name)
	}
	return names
}

// Detection is whether an adapter can run here, and its version.
type Detection struct {
	Adapter   *Adapter
	Installed bool
	Version   string
	Reason    string // why it is not installed
}

// detectTimeout bounds one adapter's detection (an import of gevent takes a while on a busy host).
const detectTimeout = 15 * time.Second

// Detect runs the adapters' detections side by side.
func Detect(ctx context.Context, adapters []*Adapter, env Env) []Detection {
	env = env.withDefaults()
	out := make([]Detection, len(adapters))
	var wg sync.WaitGroup
	for i, a := range adapters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, detectTimeout)
			defer cancel()
			v, err := a.Detect(dctx, env)
			out[i] = Detection{Adapter: a, Installed: err == nil, Version: v}
			if err != nil {
				out[i].Reason = err.Error()
			}
		}()
	}
	wg.Wait()
	return out
}

func (e Env) withDefaults() Env {
	if e.Python == "" {
		e.Python = DefaultPython
	}
	if e.ToolDir == "" {
		e.ToolDir = ExecutableDir()
	}
	if e.GatewayBin == "" {
		e.GatewayBin = filepath.Join(e.ToolDir, "wsgispec")
	}
	return e
}

// ExecutableDir is the directory of the running executable (symlinks resolved): where the
// gateway adapter finds wsgispec.
func ExecutableDir() string { return filepath.Dir(Executable()) }

// Executable is the running wsgispec's own path, symlinks resolved: what it re-executes to serve
// the gateway or run a linked suite.
func Executable() string {
	exe, err := os.Executable()
	if err != nil {
		return "wsgispec"
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	return exe
}

// Options tune Start; the zero value is usable.
type Options struct {
	Env
	Host         string        // default 127.0.0.1
	StartTimeout time.Duration // until the server answers HTTP; default DefaultStartTimeout
	StopGrace    time.Duration // between SIGTERM and SIGKILL; default DefaultStopGrace
	ReadyPath    string        // requested to see whether it answers; default "/"
}

// Server is a started server: a Process plus where it listens and what it is.
type Server struct {
	*Process
	Adapter *Adapter
	Host    string
	Port    int
	URL     string // http://host:port, no trailing slash
}

// StartError is a server that could not be started: it exited, never answered, or its command
// line could not be built. Output holds the end of what it printed, when it ran.
type StartError struct {
	Server string
	Reason string
	Ran    bool
	Output string
}

func (e *StartError) Error() string {
	msg := fmt.Sprintf("server %s %s", e.Server, e.Reason)
	if !e.Ran {
		return msg
	}
	if out := strings.TrimSpace(e.Output); out != "" {
		return msg + "; its output ends:\n" + indent(out, "    ")
	}
	return msg + "; it printed nothing"
}

// bindAttempts is how often Start retries when another process took the free port first.
const bindAttempts = 3

// startOutputTail is how much of a failed server's output a StartError quotes.
const startOutputTail = 4000

// Start runs app on the adapter's server on a free port and returns once the server answers
// HTTP. On failure nothing is left running and the error is a *StartError with the server's
// output. The server is stopped when ctx ends; callers Stop it when done.
func Start(ctx context.Context, a *Adapter, app App, opts Options) (*Server, error) {
	if err := app.Validate(); err != nil {
		return nil, &StartError{Server: a.Name, Reason: "cannot start: " + err.Error()}
	}
	opts.Env = opts.Env.withDefaults()
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	if opts.ReadyPath == "" {
		opts.ReadyPath = "/"
	}
	for attempt := 1; ; attempt++ {
		s, err := startOnce(ctx, a, app, opts)
		var se *StartError
		if err == nil || attempt == bindAttempts || !errors.As(err, &se) || !addrInUse(se.Output) {
			return s, err
		}
	}
}

func addrInUse(output string) bool {
	o := strings.ToLower(output)
	return strings.Contains(o, "address already in use") || strings.Contains(o, "eaddrinuse")
}

func startOnce(ctx context.Context, a *Adapter, app App, opts Options) (*Server, error) {
	port, err := freePort(opts.Host)
	if err != nil {
		return nil, &StartError{Server: a.Name, Reason: "cannot get a free port: " + err.Error()}
	}
	work, err := os.MkdirTemp("", "wsgispec-"+a.Name+"-")
	if err == nil {
		err = os.Chmod(work, 0o755) // servers that drop privileges (mod_wsgi) read their files here
	}
	if err != nil {
		return nil, &StartError{Server: a.Name, Reason: "cannot create its work directory: " + err.Error()}
	}
	l := Launch{Env: opts.Env, Host: opts.Host, Port: port, App: app, WorkDir: work}
	cmd, err := a.Command(l)
	if err != nil {
		os.RemoveAll(work)
		return nil, &StartError{Server: a.Name, Reason: "cannot build its command line: " + err.Error()}
	}
	p, err := spawn(ctx, cmd.Argv, cmd.Dir, processEnv(app, cmd), opts.StopGrace)
	if err != nil {
		os.RemoveAll(work)
		return nil, &StartError{Server: a.Name, Reason: "cannot run " + quoteArgv(cmd.Argv) + ": " + err.Error()}
	}
	p.cleanup = append(p.cleanup, func() { os.RemoveAll(work) })
	s := &Server{Process: p, Adapter: a, Host: opts.Host, Port: port, URL: "http://" + l.Addr()}
	if err := waitHTTP(ctx, s.URL+opts.ReadyPath, opts.StartTimeout, p); err != nil {
		stopErr := p.Stop()
		se := &StartError{Server: a.Name, Reason: err.Error(), Ran: true, Output: p.OutputTail(startOutputTail)}
		if stopErr != nil {
			se.Reason += " (and stopping it failed: " + stopErr.Error() + ")"
		}
		return nil, se
	}
	return s, nil
}

// processEnv is wsgispec's environment plus what every Python server should have, the app's
// variables and the adapter's own. Later entries win.
func processEnv(app App, cmd Command) []string {
	env := append(os.Environ(),
		"PYTHONUNBUFFERED=1",        // a crash's traceback reaches the captured output
		"PYTHONDONTWRITEBYTECODE=1", // no __pycache__ left in the app directories
	)
	keys := make([]string, 0, len(app.Env))
	for k := range app.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+app.Env[k])
	}
	return append(env, cmd.Env...)
}

// quoteArgv renders a command line the way a POSIX shell would read it back.
func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// ResolveServers turns a --server value (comma-separated names, or "all") into detected
// adapters for purpose p. With "all" the adapters that are not installed are returned as
// missing, for a note; a named adapter that is unknown, not for p or not installed is an error.
func ResolveServers(ctx context.Context, names string, p Purpose, env Env) (use, missing []Detection, err error) {
	var adapters []*Adapter
	all := strings.TrimSpace(names) == "all"
	if all {
		adapters = Adapters(p)
	} else {
		seen := map[string]bool{}
		for _, n := range strings.Split(names, ",") {
			n = strings.TrimSpace(n)
			a, ok := LookupAdapter(n)
			switch {
			case n == "":
				return nil, nil, fmt.Errorf("--server %q has an empty name", names)
			case !ok:
				return nil, nil, fmt.Errorf("unknown server %q (known: %s, or all)", n, strings.Join(AdapterNames(p), ", "))
			case a.Purposes&p == 0:
				return nil, nil, fmt.Errorf("server %q cannot be used here (known: %s, or all)", n, strings.Join(AdapterNames(p), ", "))
			case seen[n]:
				return nil, nil, fmt.Errorf("--server names %q twice", n)
			}
			seen[n] = true
			adapters = append(adapters, a)
		}
	}
	for _, d := range Detect(ctx, adapters, env) {
		switch {
		case d.Installed:
			use = append(use, d)
		case all:
			missing = append(missing, d)
		default:
			return nil, nil, fmt.Errorf("server %s is not installed: %s", d.Adapter.Name, d.Reason)
		}
	}
	return use, missing, nil
}
