//go:build cgo && gateway

package gateway

/*
#include "wsgi.h"
*/
import "C"

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgispec/wsgispec/internal/version"
)

// Server is the reference gateway: net/http in front, each configured app in its own Python
// interpreter behind its mount.
type Server struct {
	cfg      Config
	log      *Log
	apps     []*App // longest mount first
	threads  chan struct{}
	software string
	http     *http.Server
	asgiDir  string
	baseEnv  map[string]string
	opt      Options
	proxies  *allowList
	tls      *tls.Config

	// Drain's view of the connections: net/http's own is private.
	connMu   sync.Mutex
	conns    map[net.Conn]connState
	ln       net.Listener  // the listener Serve accepts on
	served   chan struct{} // closed when Serve returns
	draining atomic.Bool

	// Back-pressure (backpressure.go): requests held, and the board this worker shares with the
	// others on its socket (scoreboard.go).
	held           atomic.Int32
	unheld         chan struct{}
	stopAccepting  chan struct{}
	board          *Scoreboard
	acceptDeadline deadlineListener // the socket under TLS, when a deadline can interrupt its Accept; set by Serve
}

// App is one mounted application.
type App struct {
	srv   *Server
	cfg   AppConfig
	flags C.int

	// mu is held shared by each request in the app and exclusively by a reload, which so
	// waits for the app's requests to finish before replacing its interpreter.
	mu      sync.RWMutex
	interp  *interpreter
	broken  string      // traceback of a failed (re)load: every request gets a 500
	changed atomic.Bool // a .py file changed since the interpreter was made (debug)
	watcher *watcher
}

// Options are what the command line adds to a Config.
type Options struct {
	// PyAppsDir holds pyapps/asgi, the ASGI adapter used by protocol = "asgi" apps.
	PyAppsDir string
	// Multiprocess tells apps (wsgi.multiprocess) that other processes serve them too.
	Multiprocess bool
	// OnStuck is called when a request ignored --timeout's stop request for the grace period:
	// a worker then drains and exits so its supervisor replaces it. Nil: only logged.
	OnStuck func()
	// Scoreboard is shared with the other workers on the socket (see WorkerListener); nil for
	// a server alone on its socket.
	Scoreboard *Scoreboard
}

// New starts Python and loads every app. A load failure is an error unless the app is in
// debug mode, where it is served as a 500 with the traceback until its code is fixed.
func New(cfg Config, opt Options) (*Server, error) {
	if err := cfg.Normalize(); err != nil {
		return nil, err
	}
	log, err := OpenLog(cfg.Server.Log)
	if err != nil {
		return nil, err
	}
	defaultLog = log
	if opt.Scoreboard == nil {
		opt.Scoreboard = soloScoreboard()
	}
	s := &Server{
		cfg:           cfg,
		log:           log,
		threads:       make(chan struct{}, cfg.Server.Threads),
		board:         opt.Scoreboard,
		unheld:        make(chan struct{}, 1),
		stopAccepting: make(chan struct{}),
		software:      "wsgispec-gateway/" + version.Version,
		asgiDir:       opt.PyAppsDir + "/asgi",
		baseEnv:       processEnviron(),
		opt:           opt,
	}
	s.proxies, _ = parseAllowList(cfg.Server.ForwardedAllowIPs) // checked by Normalize
	if cfg.Server.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Server.TLSCert, cfg.Server.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TLS: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	}
	var flags C.int
	if cfg.Server.Threads > 1 {
		flags |= C.WSGI_F_MULTITHREAD
	}
	if opt.Multiprocess {
		flags |= C.WSGI_F_MULTIPROCESS
	}
	for i := range cfg.Apps {
		a := &App{srv: s, cfg: cfg.Apps[i], flags: flags}
		if err := a.load(); err != nil {
			var le *loadError
			if !a.cfg.Debug || !errors.As(err, &le) {
				s.Close()
				return nil, err
			}
			log.Errorf("%v", err)
		}
		if a.cfg.Debug {
			if a.cfg.Interpreter == InterpreterMain {
				log.Errorf("app %s: debug reload needs a sub-interpreter; it runs in the main one and will not reload", a.cfg.Name)
			} else if a.watcher, err = watch(a.cfg.Dir, a.markChanged); err != nil {
				log.Errorf("app %s: watching %s for changes: %v", a.cfg.Name, a.cfg.Dir, err)
			}
		}
		s.apps = append(s.apps, a)
		log.Infof("app %s: %s:%s from %s at %s/ (%s, %s interpreter, debug %v)", a.cfg.Name, a.cfg.Module,
			a.cfg.Callable, a.cfg.Dir, a.cfg.Mount, a.cfg.Protocol, a.cfg.Interpreter, a.cfg.Debug)
	}
	sort.SliceStable(s.apps, func(i, j int) bool { return len(s.apps[i].cfg.Mount) > len(s.apps[j].cfg.Mount) })
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.Duration,
		IdleTimeout:       cfg.Server.IdleTimeout.Duration,
		MaxHeaderBytes:    cfg.Server.MaxHeaderBytes,
		ErrorLog:          nil,
		ConnState:         s.trackConn,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			cc := c.(*countingConn)
			_, isTLS := cc.Conn.(*tls.Conn)
			return contextWithConnInfo(ctx, newConnInfo(cc, isTLS))
		},
	}
	return s, nil
}

type connInfoKey struct{}

func contextWithConnInfo(ctx context.Context, ci *connInfo) context.Context {
	return context.WithValue(ctx, connInfoKey{}, ci)
}

func (a *App) load() error {
	in, err := load(&a.cfg, a.srv.asgiDir, a.srv.baseEnv)
	var le *loadError
	if errors.As(err, &le) {
		a.broken = le.traceback
		if in != nil {
			in.unload()
		}
		return err
	}
	if err != nil {
		return err
	}
	a.interp, a.broken = in, ""
	return nil
}

func (a *App) markChanged() { a.changed.Store(true) }

// reloadIfChanged replaces the app's interpreter when its code changed: a new interpreter
// imports the code afresh (Django cannot be reloaded in place), then the old one is ended.
func (a *App) reloadIfChanged() {
	if !a.changed.Load() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.changed.Swap(false) {
		return // another request reloaded it meanwhile
	}
	old := a.interp
	a.interp = nil
	if old != nil {
		if abandoned, err := old.unload(); err != nil {
			a.srv.log.Errorf("app %s: shutdown before reload: %v", a.cfg.Name, err)
		} else if abandoned {
			a.srv.log.Errorf("app %s: threads the app started still run in its old interpreter; it is left running", a.cfg.Name)
		}
	}
	start := time.Now()
	if err := a.load(); err != nil {
		a.srv.log.Errorf("reload: %v", err)
		return
	}
	a.srv.log.Infof("app %s: reloaded in %s after a change under %s", a.cfg.Name, time.Since(start).Round(time.Millisecond), a.cfg.Dir)
}

// route finds the app mounted at the longest prefix of path (matching whole segments) and
// splits path into SCRIPT_NAME and PATH_INFO.
func (s *Server) route(path string) (*App, string, string) {
	for _, a := range s.apps {
		m := a.cfg.Mount
		if m == "" {
			return a, "", path
		}
		if path == m || strings.HasPrefix(path, m+"/") {
			return a, m, path[len(m):]
		}
	}
	return nil, "", ""
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	app, scriptName, pathInfo := s.route(r.URL.Path)
	if app == nil {
		http.Error(w, "404 Not Found: no application is mounted here", http.StatusNotFound)
		return
	}
	if r.ContentLength > s.cfg.Server.MaxBody {
		w.Header().Set("Connection", "close")
		http.Error(w, "413 Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	}
	if s.draining.Load() || s.board.crowded() {
		w.Header().Set("Connection", "close") // see Drain, and Scoreboard.crowded
	}
	ci, _ := r.Context().Value(connInfoKey{}).(*connInfo)
	if ci.conn.smuggled(len(r.Header["Content-Length"]), len(r.TransferEncoding) > 0) {
		s.log.Errorf("%s %s from %s: both Transfer-Encoding and Content-Length; refused (request smuggling)", r.Method, r.URL.Path, r.RemoteAddr)
		w.Header().Set("Connection", "close")
		http.Error(w, "400 Bad Request: Transfer-Encoding and Content-Length together", http.StatusBadRequest)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.Server.MaxBody)
	ex := &exchange{w: w, r: r, app: app, started: time.Now(), contentLength: -1, https: ci.https}
	remote := ci.remoteAddr
	if s.proxies.allows(ci.remoteAddr) {
		remote, ex.https = forwarded(r, remote, ci.https)
	}
	defer func() {
		s.log.access(ex)
		if ex.abort {
			panic(http.ErrAbortHandler) // closes the connection: the body cannot be completed
		}
	}()
	s.threads <- struct{}{}
	defer func() { <-s.threads }()

	if app.cfg.Debug {
		app.reloadIfChanged()
	}
	app.mu.RLock()
	defer app.mu.RUnlock()
	if app.interp == nil {
		ex.fail(app.broken)
		return
	}
	ex.serve(app.interp, scriptName, pathInfo, ci, remote)
}

// Serve accepts connections on raw until Shutdown or Drain.
func (s *Server) Serve(raw net.Listener) error {
	s.acceptDeadline, _ = raw.(deadlineListener)
	s.board.setAccepting(!s.full())
	ln := net.Listener(heldListener{Listener: raw, s: s, watch: watchListener(raw)})
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	ln = countingListener{ln}
	s.connMu.Lock()
	s.ln, s.served = ln, make(chan struct{})
	s.connMu.Unlock()
	defer close(s.served)
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) || s.draining.Load() && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, lets requests in flight finish (up to the configured timeout),
// then unloads every app, running ASGI lifespan shutdown.
func (s *Server) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Server.ShutdownTimeout.Duration)
	defer cancel()
	err := s.Drain(ctx)
	s.Close()
	return err
}

// Drain stops accepting and waits, until ctx ends, for every connection already accepted to be
// answered; it does not touch Python, so it is safe while a Python thread is stuck.
//
// It cannot start with net/http's Shutdown: a request read after Shutdown has begun is dropped
// unanswered, even the first one on a connection accepted a moment before, so a client that the
// kernel handed to this worker in its last instant would see an empty reply. Closing idle
// keep-alive connections at once has the same flaw for a client that has just sent its next
// request. So Drain closes the listener and waits for Serve to return, by when every accepted
// connection is registered; from then on each response says "Connection: close", and a
// connection is closed by the gateway only once it has been idle for drainIdleGrace. Shutdown,
// last, finds nothing left to cut.
func (s *Server) Drain(ctx context.Context) error {
	if !s.draining.Swap(true) {
		close(s.stopAccepting)
	}
	s.board.setAccepting(false)
	s.connMu.Lock()
	ln, served := s.ln, s.served
	s.connMu.Unlock()
	if ln != nil {
		ln.Close()
		select {
		case <-served:
		case <-ctx.Done():
		}
	}
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for s.closeIdle(time.Now().Add(-drainIdleGrace)) && ctx.Err() == nil {
		select {
		case <-poll.C:
		case <-ctx.Done():
		}
	}
	return s.http.Shutdown(ctx)
}

// drainIdleGrace is how long a keep-alive connection must have been idle before Drain closes it:
// a client still using it sends its next request well within this, and is answered with
// "Connection: close".
const drainIdleGrace = 200 * time.Millisecond

type connState struct {
	state http.ConnState
	since time.Time
}

// trackConn is net/http's ConnState hook.
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	now := time.Now()
	s.connMu.Lock()
	defer s.connMu.Unlock()
	s.countConn(s.conns[c].state, st) // a connection not yet known is new, StateNew being zero
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	default:
		if s.conns == nil {
			s.conns = map[net.Conn]connState{}
		}
		s.conns[c] = connState{st, now}
	}
}

// closeIdle closes the connections idle since before idleBefore and reports whether any
// connection is left open.
func (s *Server) closeIdle(idleBefore time.Time) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for c, cs := range s.conns {
		if cs.state == http.StateIdle && cs.since.Before(idleBefore) {
			c.Close() // trackConn forgets it when net/http reports it closed
		}
	}
	return len(s.conns) > 0
}

// Close unloads the apps and closes the log.
func (s *Server) Close() {
	for _, a := range s.apps {
		if a.watcher != nil {
			a.watcher.close()
		}
		a.mu.Lock()
		if a.interp != nil {
			if _, err := a.interp.unload(); err != nil {
				s.log.Errorf("app %s: shutdown: %v", a.cfg.Name, err)
			}
			a.interp = nil
		}
		a.mu.Unlock()
	}
	s.log.Close()
}
