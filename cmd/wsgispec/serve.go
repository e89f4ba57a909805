//go:build cgo && gateway

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsgispec/wsgispec/gateway"
	"github.com/wsgispec/wsgispec/pyapps"
)

// gatewayLinked says this build has the gateway (serve_nocgo.go: it has not).
const gatewayLinked = true

func init() {
	register("serve", "run the reference WSGI gateway (one app from flags, or several from --config)", runServe)
}

var failServe = failer("serve")

func runServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: wsgispec serve --app-dir DIR --app module:callable [flags]\n       wsgispec serve --config gateway.toml")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "TOML file with a [server] table and an [[app]] table per application")
	appDir := fs.String("app-dir", ".", "directory put first on sys.path")
	appSpec := fs.String("app", "", "module:callable to serve (callable defaults to application)")
	mount := fs.String("mount", "", "URL prefix the app is mounted at (SCRIPT_NAME)")
	protocol := fs.String("protocol", gateway.ProtocolWSGI, "wsgi, or asgi (run through wsgispec's ASGI adapter)")
	interp := fs.String("interpreter", gateway.InterpreterSub, "sub (own sub-interpreter) or main")
	listen := fs.String("listen", "127.0.0.1:8000", "address to listen on")
	workers := fs.Int("workers", 0, "worker processes, each with its own Python (default: the number of cores)")
	threads := fs.Int("threads", gateway.DefaultThreads, "requests running in Python at once, per worker")
	maxBody := fs.Int64("max-body", 1<<30, "largest request body accepted, in bytes (413 beyond)")
	debug := fs.Bool("debug", false, "reload the app when a .py file under its directory changes; tracebacks in 500 bodies")
	logPath := fs.String("log", "", "log file for wsgi.errors, tracebacks and access lines (default stderr)")
	timeout := 60 * time.Second
	fs.Func("timeout", "longest the app may go without producing output, in seconds or as 1m30s: then 504 (or the response is cut) and RequestTimeout is raised in it; 0 = none (default 60)", func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			secs, ferr := strconv.ParseFloat(v, 64)
			if ferr != nil || secs < 0 {
				return fmt.Errorf("%q is not a number of seconds or a duration", v)
			}
			d = time.Duration(secs * float64(time.Second))
		}
		timeout = d
		return nil
	})
	tlsCert := fs.String("tls-cert", "", "PEM certificate: serve HTTPS (with --tls-key)")
	tlsKey := fs.String("tls-key", "", "PEM private key for --tls-cert")
	allowIPs := fs.String("forwarded-allow-ips", "127.0.0.1", "comma-separated proxies (addresses, CIDR ranges, or *) whose X-Forwarded-Proto/-For are believed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return failServe("unexpected argument %q", fs.Arg(0))
	}

	var cfg *gateway.Config
	if *configPath != "" {
		var conflict []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "config" {
				conflict = append(conflict, "--"+f.Name)
			}
		})
		if len(conflict) > 0 {
			return failServe("%s cannot be combined with --config (set them in the file)", strings.Join(conflict, ", "))
		}
		var err error
		if cfg, err = gateway.LoadConfig(*configPath); err != nil {
			return failServe("%v", err)
		}
	} else {
		if *appSpec == "" {
			return failServe("--app module:callable (or --config FILE) is required")
		}
		module, callable, _ := strings.Cut(*appSpec, ":")
		cfg = &gateway.Config{
			Server: gateway.ServerConfig{Listen: *listen, Workers: *workers, Threads: *threads, Log: *logPath,
				MaxBody: *maxBody, Timeout: gateway.NewDuration(timeout), TLSCert: *tlsCert, TLSKey: *tlsKey,
				ForwardedAllowIPs: []string{*allowIPs}},
			Apps: []gateway.AppConfig{{Dir: *appDir, Module: module, Callable: callable, Mount: *mount,
				Protocol: *protocol, Debug: *debug, Interpreter: *interp}},
		}
		if err := cfg.Normalize(); err != nil {
			return failServe("%v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	inherited, isWorker, err := gateway.WorkerListener()
	if isWorker {
		if err != nil {
			return failServe("%v", err)
		}
		return runWorker(ctx, cfg, inherited)
	}
	return runSupervisor(ctx, cfg)
}

// runSupervisor owns the socket and the worker processes; it never starts Python.
func runSupervisor(ctx context.Context, cfg *gateway.Config) int {
	l, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return failServe("%v", err)
	}
	defer l.Close()
	log, err := gateway.OpenLog(cfg.Server.Log)
	if err != nil {
		return failServe("%v", err)
	}
	defer log.Close()
	exe, err := os.Executable()
	if err != nil {
		return failServe("%v", err)
	}
	sup := &gateway.Supervisor{
		Listener: l.(*net.TCPListener),
		Workers:  cfg.Server.Workers,
		Argv:     append([]string{exe}, os.Args[1:]...),
		Grace:    cfg.Server.ShutdownTimeout.Duration + 5e9,
		Log:      log,
	}
	fmt.Fprintf(os.Stderr, "wsgispec serve: listening on http://%s with %d workers\n", l.Addr(), cfg.Server.Workers)
	if err := sup.Run(ctx); err != nil {
		return failServe("%v", err)
	}
	return 0
}

// runWorker loads the apps into this process's Python and serves the inherited socket.
func runWorker(ctx context.Context, cfg *gateway.Config, inherited *gateway.Inherited) int {
	pyDir, err := pyapps.Dir()
	if err != nil {
		return failServe("%v", err)
	}
	var srv *gateway.Server
	// A request stuck where Python cannot interrupt it: stop accepting, give the other requests
	// a moment, and exit; the supervisor starts a fresh worker. The stuck thread may hold the
	// GIL, so nothing here may need Python.
	onStuck := func() {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Drain(ctx)
			os.Exit(3)
		}()
	}
	srv, err = gateway.New(*cfg, gateway.Options{PyAppsDir: pyDir,
		Multiprocess: cfg.Server.Workers > 1, OnStuck: onStuck, Scoreboard: inherited.Scoreboard})
	if err != nil {
		return failServe("%v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(inherited.Listener) }()
	inherited.Ready()
	select {
	case err := <-done:
		srv.Close()
		if err != nil {
			return failServe("%v", err)
		}
	case <-ctx.Done():
		if err := srv.Shutdown(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "wsgispec serve: stopped with requests still running: %v\n", err)
		}
	}
	return 0
}
