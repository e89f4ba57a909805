//go:build cgo && gateway

package gateway

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultThreads is --threads when none is given. Threads beyond a few only wait for the one
// GIL, and every hand-off of it between OS threads is a context switch: with wrk on the Flask
// read, 2 workers, 4 threads each used 906 µs of CPU per request where 8 used 1083 (medians of 3).
const DefaultThreads = 4

// Protocols an app can speak.
const (
	ProtocolWSGI = "wsgi"
	ProtocolASGI = "asgi" // run through pyapps/asgi's adapter
)

// Interpreters an app can run in.
const (
	InterpreterSub  = "sub"  // its own sub-interpreter (the default: apps are isolated)
	InterpreterMain = "main" // the main interpreter, for C extensions that refuse sub-interpreters
)

// Config is a gateway: one [server] table and an [[app]] table per application.
type Config struct {
	Server ServerConfig `toml:"server"`
	Apps   []AppConfig  `toml:"app"`
}

// ServerConfig is the [server] table.
type ServerConfig struct {
	Listen            string   `toml:"listen"`              // host:port; default 127.0.0.1:8000
	Workers           int      `toml:"workers"`             // worker processes; default the number of cores
	Threads           int      `toml:"threads"`             // requests in Python at once per worker; default DefaultThreads
	Log               string   `toml:"log"`                 // log file; default stderr
	MaxBody           int64    `toml:"max_body"`            // largest request body in bytes; default 1 GiB
	MaxHeaderBytes    int      `toml:"max_header_bytes"`    // default 64 KiB
	ReadHeaderTimeout Duration `toml:"read_header_timeout"` // default 10s
	IdleTimeout       Duration `toml:"idle_timeout"`        // keep-alive idle limit; default 60s
	ShutdownTimeout   Duration `toml:"shutdown_timeout"`    // how long a stop waits for requests; default 30s
	Timeout           Duration `toml:"timeout"`             // longest the app may go without output ("0s" = none); default 60s
	TimeoutGrace      Duration `toml:"timeout_grace"`       // then, how long it has to stop before the worker is recycled; default 10s
	TLSCert           string   `toml:"tls_cert"`            // PEM certificate (chain): serve HTTPS
	TLSKey            string   `toml:"tls_key"`             // its PEM private key
	ForwardedAllowIPs []string `toml:"forwarded_allow_ips"` // proxies whose X-Forwarded-Proto/-For are believed; default ["127.0.0.1"]; "*" = any
}

// AppConfig is one [[app]] table.
type AppConfig struct {
	Name        string            `toml:"name"`        // for logs; default the mount or the module
	Dir         string            `toml:"dir"`         // put first on sys.path; relative to the config file
	Module      string            `toml:"module"`      // imported module
	Callable    string            `toml:"callable"`    // attribute of the module; default "application"
	Mount       string            `toml:"mount"`       // URL prefix ("" or "/" = root); becomes SCRIPT_NAME
	Protocol    string            `toml:"protocol"`    // "wsgi" (default) or "asgi"
	Debug       bool              `toml:"debug"`       // reload on .py changes, tracebacks in 500 bodies
	Interpreter string            `toml:"interpreter"` // "sub" (default) or "main"
	Env         map[string]string `toml:"env"`         // os.environ entries for this app
}

// Duration is a TOML string such as "30s". A zero Duration that was never set takes the
// key's default; one set to "0s" means none.
type Duration struct {
	time.Duration
	set bool
}

// NewDuration is a Duration set explicitly (from a command-line flag).
func NewDuration(d time.Duration) Duration { return Duration{d, true} }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"30s\"", b)
	}
	d.Duration, d.set = v, true
	return nil
}

func (d *Duration) orDefault(v time.Duration) {
	if !d.set {
		d.Duration, d.set = v, true
	}
}

// LoadConfig reads a gateway config file. Relative app directories are taken from the file's
// own directory; unknown keys are errors (a typo must not silently change nothing).
func LoadConfig(path string) (*Config, error) {
	var cfg Config
	md, err := toml.DecodeFile(path, &cfg)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	base := filepath.Dir(path)
	for i := range cfg.Apps {
		if cfg.Apps[i].Dir != "" && !filepath.IsAbs(cfg.Apps[i].Dir) {
			cfg.Apps[i].Dir = filepath.Join(base, cfg.Apps[i].Dir)
		}
	}
	if err := cfg.Normalize(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &cfg, nil
}

// Normalize fills defaults and checks the configuration, reporting the first problem found.
func (c *Config) Normalize() error {
	s := &c.Server
	if s.Listen == "" {
		s.Listen = "127.0.0.1:8000"
	}
	if s.Workers == 0 {
		s.Workers = runtime.NumCPU()
	}
	if s.Workers < 0 {
		return errors.New("server.workers must be positive")
	}
	if s.Threads == 0 {
		s.Threads = DefaultThreads
	}
	if s.Threads < 0 {
		return errors.New("server.threads must be positive")
	}
	if s.MaxBody == 0 {
		s.MaxBody = 1 << 30
	}
	if s.MaxHeaderBytes == 0 {
		s.MaxHeaderBytes = 64 << 10
	}
	s.ReadHeaderTimeout.orDefault(10 * time.Second)
	s.IdleTimeout.orDefault(60 * time.Second)
	s.ShutdownTimeout.orDefault(30 * time.Second)
	s.Timeout.orDefault(60 * time.Second)
	s.TimeoutGrace.orDefault(10 * time.Second)
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return errors.New("server.tls_cert and server.tls_key go together")
	}
	if s.ForwardedAllowIPs == nil {
		s.ForwardedAllowIPs = []string{"127.0.0.1"}
	}
	if _, err := parseAllowList(s.ForwardedAllowIPs); err != nil {
		return err
	}
	if len(c.Apps) == 0 {
		return errors.New("no [[app]] configured")
	}
	mounts := map[string]string{}
	for i := range c.Apps {
		a := &c.Apps[i]
		if a.Module == "" {
			return fmt.Errorf("app %d: module is required", i+1)
		}
		if a.Callable == "" {
			a.Callable = "application"
		}
		a.Mount = strings.TrimRight(a.Mount, "/")
		if a.Mount != "" && !strings.HasPrefix(a.Mount, "/") {
			return fmt.Errorf("app %d: mount %q must start with /", i+1, a.Mount)
		}
		if a.Name == "" {
			a.Name = a.Module
			if a.Mount != "" {
				a.Name = a.Mount
			}
		}
		if other, dup := mounts[a.Mount]; dup {
			return fmt.Errorf("apps %s and %s are both mounted at %q", other, a.Name, a.Mount+"/")
		}
		mounts[a.Mount] = a.Name
		switch a.Protocol {
		case "":
			a.Protocol = ProtocolWSGI
		case ProtocolWSGI, ProtocolASGI:
		default:
			return fmt.Errorf("app %s: protocol %q is neither wsgi nor asgi", a.Name, a.Protocol)
		}
		switch a.Interpreter {
		case "":
			a.Interpreter = InterpreterSub
		case InterpreterSub, InterpreterMain:
		default:
			return fmt.Errorf("app %s: interpreter %q is neither sub nor main", a.Name, a.Interpreter)
		}
		if a.Dir == "" {
			a.Dir = "."
		}
		dir, err := filepath.Abs(a.Dir)
		if err != nil {
			return err
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("app %s: directory %s does not exist", a.Name, a.Dir)
		}
		a.Dir = dir
	}
	mains := 0
	for _, a := range c.Apps {
		if a.Interpreter == InterpreterMain {
			mains++
		}
	}
	if mains > 1 {
		return errors.New("only one app can use the main interpreter")
	}
	return nil
}
