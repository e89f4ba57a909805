// Package bench measures WSGI servers under load with vegeta: a fresh server per server ×
// scenario × round, a discarded warm-up, closed-model throughput and open-model latency, the
// server's own CPU time per request from /proc, every figure also as a ratio to a bare Go server
// (the reference) measured in the same round; history files and a regression compare.
package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wsgispec/wsgispec/harness"
)

// The payloads of the bench app's routes. pyapps/bench/benchapp.py answers the same bytes, and the
// reference server answers these, so every server moves the same payload.
var (
	helloBody  = []byte("Hello, World!")
	jsonBody   = []byte(`{"message": "Hello, World!"}`)
	echoBody   = bytes.Repeat([]byte("0123456789abcdef"), 4096/16)
	streamBody = bytes.Repeat([]byte("x"), 1<<20)  // benchapp.py: 16 chunks of 64 KiB
	writeBody  = bytes.Repeat([]byte("w"), 64<<10) // benchapp.py: 16 write() calls of 4 KiB
	// postBody is what the framework scenarios send to create a post, and what the reference
	// server answers for one (the apps answer the stored post, which has the same fields).
	postBody      = []byte(`{"title": "wsgispec bench", "content": "A post the read scenarios fetch, a few words long."}`)
	referencePost = []byte(`{"id": 1, "title": "wsgispec bench", "content": "A post the read scenarios fetch, a few words long."}`)
)

// Scenario is one kind of request a benchmark repeats against an app.
type Scenario struct {
	Name string
	// AppDir is the app's directory: relative to the pyapps directory for the built-in scenarios,
	// absolute for the user's own app (--app-dir).
	AppDir   string
	Module   string
	Callable string
	Method   string
	Path     string
	Body     []byte
	// ContentType of Body, when there is one.
	ContentType string
	// Status is the status every response must have; 0 accepts any 2xx.
	Status int
	// Response is the exact body every server must answer, checked once before the warm-up;
	// nil when it varies (the framework apps answer ids and timestamps).
	Response []byte
	// Database: the app reads WSGISPEC_DB, whose schema is created by the app's initdb.py before
	// the server starts.
	Database bool
	// SeedPost: one post is created before the warm-up (the read scenarios fetch /posts/1).
	SeedPost bool
}

// App is the harness's view of the scenario's app, with its directory resolved.
func (s Scenario) App(pyappsDir string, env map[string]string) harness.App {
	dir := s.AppDir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(pyappsDir, dir)
	}
	return harness.App{Dir: dir, Module: s.Module, Callable: s.Callable, Env: env}
}

func benchApp(name, method, path string, body, response []byte) Scenario {
	s := Scenario{Name: name, AppDir: "bench", Module: "benchapp", Callable: "application",
		Method: method, Path: path, Body: body, Status: http.StatusOK, Response: response}
	if body != nil {
		s.ContentType = "application/octet-stream"
	}
	return s
}

func frameworkRead(framework string) Scenario {
	return Scenario{Name: framework + "-read", AppDir: framework, Module: "wsgi", Callable: "application",
		Method: http.MethodGet, Path: "/posts/1", Status: http.StatusOK, Database: true, SeedPost: true}
}

// scenarios are the built-in scenarios by name.
var scenarios = map[string]Scenario{
	"hello":        benchApp("hello", http.MethodGet, "/hello", nil, helloBody),
	"json":         benchApp("json", http.MethodGet, "/json", nil, jsonBody),
	"echo":         benchApp("echo", http.MethodPost, "/echo", echoBody, echoBody),
	"stream":       benchApp("stream", http.MethodGet, "/stream", nil, streamBody),
	"write":        benchApp("write", http.MethodGet, "/write", nil, writeBody),
	"flask-read":   frameworkRead("flask"),
	"django-read":  frameworkRead("django"),
	"fastapi-read": frameworkRead("fastapi"),
	"flask-write": {Name: "flask-write", AppDir: "flask", Module: "wsgi", Callable: "application",
		Method: http.MethodPost, Path: "/posts", Body: postBody, ContentType: "application/json",
		Status: http.StatusCreated, Database: true},
}

// ScenarioNames lists the built-in scenarios, sorted.
func ScenarioNames() []string {
	names := make([]string, 0, len(scenarios))
	for n := range scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseScenarios turns a --scenario value (comma-separated names) into scenarios.
func ParseScenarios(list string) ([]Scenario, error) {
	var out []Scenario
	seen := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		s, ok := scenarios[n]
		switch {
		case n == "":
			return nil, fmt.Errorf("--scenario %q has an empty name", list)
		case !ok:
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", n, strings.Join(ScenarioNames(), ", "))
		case seen[n]:
			return nil, fmt.Errorf("--scenario names %q twice", n)
		}
		seen[n] = true
		out = append(out, s)
	}
	return out, nil
}

// UserAppScenario is the scenario "app": GET path on the user's own app.
func UserAppScenario(dir, spec, path string) (Scenario, error) {
	module, callable, ok := strings.Cut(spec, ":")
	if !ok {
		return Scenario{}, fmt.Errorf("--app %q is not module:callable", spec)
	}
	if !strings.HasPrefix(path, "/") {
		return Scenario{}, fmt.Errorf("--path %q does not start with /", path)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Scenario{}, fmt.Errorf("--app-dir: %w", err)
	}
	s := Scenario{Name: "app", AppDir: abs, Module: module, Callable: callable, Method: http.MethodGet, Path: path}
	if err := s.App("", nil).Validate(); err != nil {
		return Scenario{}, err
	}
	return s, nil
}
