package harness

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/wsgispec/wsgispec/specs/catalog"
	"github.com/wsgispec/wsgispec/specs/frameworks"
)

func TestResolveFrameworks(t *testing.T) {
	for _, tc := range []struct {
		in, want, wantErr string
	}{
		{in: "all", want: "flask,django,fastapi"},
		{in: "fastapi, flask", want: "fastapi,flask"},
		{in: "flask,bottle", wantErr: `unknown framework "bottle" (known: flask, django, fastapi, or all)`},
		{in: "flask,,django", wantErr: "has an empty name"},
		{in: "django,django", wantErr: `names "django" twice`},
	} {
		got, err := ResolveFrameworks(tc.in)
		var names []string
		for _, f := range got {
			names = append(names, f.Name)
		}
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ResolveFrameworks(%q): %v, want an error saying %q", tc.in, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || strings.Join(names, ",") != tc.want):
			t.Errorf("ResolveFrameworks(%q) = %v, %v; want %s", tc.in, names, err, tc.want)
		}
	}
}

func TestEntryForRunsFastAPIOverASGIOnlyOnTheGateway(t *testing.T) {
	for _, tc := range []struct {
		server, framework, want string
		asgi                    bool
	}{
		{"gateway", "fastapi", "asgi:app", true},
		{"gateway-multi", "fastapi", "asgi:app", true},
		{"gateway", "flask", "wsgi:application", false},
		{"gunicorn", "fastapi", "wsgi:application", false},
		{"mod_wsgi", "django", "wsgi:application", false},
	} {
		e := entryFor(tc.server, tc.framework)
		if got := e.Module + ":" + e.Callable; got != tc.want || e.ASGI != tc.asgi {
			t.Errorf("%s on %s: %s (asgi %v), want %s (asgi %v)", tc.framework, tc.server, got, e.ASGI, tc.want, tc.asgi)
		}
	}
	gw, ok := LookupAdapter("gateway")
	if !ok {
		t.Fatal("no gateway adapter")
	}
	cmd, err := withASGI(gw).Command(Launch{Host: "127.0.0.1", Port: 8000, App: App{Dir: "/apps/fastapi", Module: "asgi", Callable: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := quoteArgv(cmd.Argv); !strings.HasSuffix(got, "--app asgi:app --listen 127.0.0.1:8000 --protocol asgi") {
		t.Errorf("gateway over ASGI runs %s", got)
	}
}

func TestTOMLString(t *testing.T) {
	in := "/tmp/a \"quoted\" back\\slash\ttab\x01é"
	var decoded struct{ S string }
	if _, err := toml.Decode("s = "+tomlString(in), &decoded); err != nil || decoded.S != in {
		t.Errorf("tomlString(%q) = %s decodes to %q, %v", in, tomlString(in), decoded.S, err)
	}
}

// fakeFrameworkApps makes a pyapps directory whose framework apps' initdb.py runs body (with os
// and sys imported).
func fakeFrameworkApps(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range Frameworks {
		if err := os.Mkdir(filepath.Join(dir, f.Name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name, "initdb.py"), []byte("import os, sys\n"+body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestGatewayMultiConfigMountsEveryFrameworkWithItsOwnDatabase(t *testing.T) {
	apps := fakeFrameworkApps(t, `open(os.environ["WSGISPEC_DB"], "w").write(os.path.basename(os.getcwd()))`)
	work := t.TempDir()
	cmd, err := gatewayMultiCommand(Launch{Env: Env{Python: DefaultPython, ToolDir: "/tools", GatewayBin: "/tools/wsgispec"}, Host: "127.0.0.1", Port: 8000,
		App: App{Dir: apps, Module: "wsgi", Callable: "application"}, WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(work, "gateway.toml")
	if want := []string{"/tools/wsgispec", "serve", "--config", conf}; !slices.Equal(cmd.Argv, want) {
		t.Errorf("argv %q, want %q", cmd.Argv, want)
	}
	var got struct {
		Server struct{ Listen string }
		App    []struct {
			Name, Dir, Module, Callable, Mount, Protocol string
			Env                                          map[string]string
		}
	}
	if _, err := toml.DecodeFile(conf, &got); err != nil {
		t.Fatal(err)
	}
	if got.Server.Listen != "127.0.0.1:8000" || len(got.App) != len(Frameworks) {
		t.Fatalf("config %+v", got)
	}
	for i, f := range Frameworks {
		a := got.App[i]
		e := entryFor(gatewayMultiName, f.Name)
		protocol := map[bool]string{false: "wsgi", true: "asgi"}[e.ASGI]
		if a.Dir != filepath.Join(apps, f.Name) || a.Mount != "/"+f.Name || a.Module != e.Module || a.Callable != e.Callable || a.Protocol != protocol {
			t.Errorf("app %d: %+v; want %s's %s:%s (%s) from its directory at /%s", i, a, f.Name, e.Module, e.Callable, protocol, f.Name)
		}
		// initdb.py ran in the app's directory on the database the app is given.
		if b, err := os.ReadFile(a.Env[EnvDB]); err != nil || string(b) != f.Name {
			t.Errorf("%s's database %s: %q, %v; want it created by its initdb.py", f.Name, a.Env[EnvDB], b, err)
		}
	}
}

// stepSpec is a spec of the contract suite as Ginkgo reports it.
func stepSpec(step string, state types.SpecState, message string, ev *catalog.Evidence) types.SpecReport {
	s := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeLabels: []string{frameworks.LabelPrefix + step}, State: state}
	s.Failure.Message = message
	if ev != nil {
		b, _ := json.Marshal(ev)
		s.ReportEntries = types.ReportEntries{{Name: catalog.EvidenceEntry, Value: types.ReportEntryValue{AsJSON: string(b)}}}
	}
	return s
}

func TestJoinStepsKeepsTheStepOrderAndEvidenceOfWhatWentWrong(t *testing.T) {
	ev := &catalog.Evidence{Expected: "POST answers 201", Actual: "500", Reproduce: "curl …"}
	reports := []types.Report{{SpecReports: types.SpecReports{
		stepSpec("posts.create", types.SpecStateFailed, "step posts.create: …", ev),
		stepSpec("interop", types.SpecStatePassed, "", ev),
		stepSpec("info", types.SpecStateTimedout, "took too long", nil),
		stepSpec("unicode.titles", types.SpecStateSkipped, "no target", nil),
	}}}
	steps := JoinSteps(reports)
	if len(steps) != len(frameworks.Steps) {
		t.Fatalf("%d results for %d steps", len(steps), len(frameworks.Steps))
	}
	byName := map[string]StepResult{}
	for i, s := range steps {
		if s.Name != frameworks.Steps[i].Name || s.Title != frameworks.Steps[i].Title {
			t.Errorf("result %d is %s %q, want step %s in the suite's order", i, s.Name, s.Title, frameworks.Steps[i].Name)
		}
		byName[s.Name] = s
	}
	for name, want := range map[string]StepResult{
		"posts.create":   {Status: Fail, Detail: "step posts.create: …", Expected: ev.Expected, Actual: ev.Actual, Reproduce: ev.Reproduce},
		"interop":        {Status: Pass}, // a passing step keeps no evidence
		"info":           {Status: Error, Detail: "spec timedout: took too long"},
		"unicode.titles": {Status: Skip, Detail: "no target"},
		"posts.list":     {Status: Skip, Detail: "no spec for this step ran in this build of the suite"},
	} {
		got := byName[name]
		got.Name, got.Title = "", ""
		if got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}

	limit := stepSpec("concurrency.creates", types.SpecStateFailed, "step concurrency.creates: …", ev)
	limit.ReportEntries = append(limit.ReportEntries, types.ReportEntry{Name: frameworks.ServerLimitEntry, Value: types.WrapEntryValue("server limit: 3 refused")})
	encoded, _ := json.Marshal(limit) // as the harness reads it: from Ginkgo's JSON report
	json.Unmarshal(encoded, &limit)
	creates := JoinSteps([]types.Report{{SpecReports: types.SpecReports{limit}}})[slices.IndexFunc(frameworks.Steps, func(s frameworks.Step) bool { return s.Name == "concurrency.creates" })]
	if creates.Status != Fail || creates.Limitation != "server limit: 3 refused" {
		t.Errorf("a step failing for a measured server limit: %+v, want its limitation", creates)
	}

	reports[0].SpecialSuiteFailureReasons = []string{"Interrupted by User"}
	list := JoinSteps(reports)[slices.IndexFunc(frameworks.Steps, func(s frameworks.Step) bool { return s.Name == "posts.list" })]
	if list.Status != Error || list.Detail != "not run: Interrupted by User" {
		t.Errorf("a step not run after the suite was interrupted: %+v, want an error saying why", list)
	}
}

func matrixRun(server, framework string, s Summary) MatrixRun {
	return MatrixRun{Server: ServerInfo{Name: server, Version: "1.0"}, Framework: FrameworkInfo{Name: framework, Version: "2.0"}, Summary: s, Steps: []StepResult{}}
}

func TestMatrixExit(t *testing.T) {
	pass := matrixRun("gunicorn", "flask", Summary{Pass: 23})
	skipped := matrixRun("gunicorn", "django", Summary{Pass: 22, Skip: 1})
	failed := matrixRun("uwsgi", "flask", Summary{Pass: 22, Fail: 1})
	errored := matrixRun("uwsgi", "django", Summary{Pass: 22, Error: 1})
	setup := matrixRun("mod_wsgi", "flask", Summary{})
	setup.Error = &RunError{Message: "server mod_wsgi exited"}
	for _, tc := range []struct {
		runs []MatrixRun
		want int
	}{
		{[]MatrixRun{pass, skipped}, ExitPass},
		{[]MatrixRun{pass, failed}, ExitFail},
		{[]MatrixRun{errored, pass}, ExitFail},
		{[]MatrixRun{failed, setup}, ExitSetup},
	} {
		if got := MatrixExit(tc.runs); got != tc.want {
			t.Errorf("MatrixExit(%+v) = %d, want %d", tc.runs, got, tc.want)
		}
	}
}

func TestWriteMatrixSummary(t *testing.T) {
	failed := matrixRun("uwsgi", "django", Summary{Pass: 21, Fail: 1, Error: 1})
	failed.Server.Command = "uwsgi --http11-socket 127.0.0.1:1"
	failed.Steps = []StepResult{
		{Name: "interop", Status: Pass},
		{Name: "posts.create", Title: "POST /posts creates a post", Status: Fail, Detail: "step posts.create …",
			Expected: "POST answers 201", Actual: "500 Internal Server Error", Reproduce: "curl -X POST …"},
		{Name: "concurrency.creates", Title: "50 concurrent POST /posts", Status: Error, Detail: "spec timedout"},
	}
	failed.ServerOutput = "booting\nTraceback (most recent call last):\nsqlite3.OperationalError: database is locked\n"
	multiDown := []MatrixRun{matrixRun("gateway-multi", "flask", Summary{}), matrixRun("gateway-multi", "django", Summary{})}
	for i := range multiDown {
		multiDown[i].Mount = "/" + multiDown[i].Framework.Name
		multiDown[i].Error = &RunError{Message: "server gateway-multi exited (exit status 2) before answering HTTP"}
	}
	runs := append([]MatrixRun{
		matrixRun("uwsgi", "flask", Summary{Pass: 23}),
		failed,
		matrixRun("gunicorn", "flask", Summary{Pass: 22, Skip: 1}),
	}, multiDown...)

	var b strings.Builder
	WriteMatrixSummary(&b, runs, false)
	out := b.String()
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour codes without colour:\n%s", out)
	}
	lines := strings.Split(out, "\n")
	header := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "framework ") })
	if header < 0 {
		t.Fatalf("no table:\n%s", out)
	}
	// One row per framework, one column per server in the order the runs come in; a pair not
	// run is blank.
	for i, want := range [][]string{
		{"framework", "uwsgi", "gunicorn", "gateway-multi"},
		{"flask 2.0", "pass", "pass (1 skip)", "setup error"},
		{"django 2.0", "1 fail 1 err", "setup error"},
	} {
		if got := strings.Join(strings.Fields(lines[header+i]), " "); got != strings.Join(want, " ") {
			t.Errorf("table line %d: %q, want %q", i, got, strings.Join(want, " "))
		}
	}
	if col := strings.Index(lines[header], "gateway-multi"); strings.Index(lines[header+2], "setup error") != col {
		t.Errorf("django's gateway-multi cell is not under its column:\n%s\n%s", lines[header], lines[header+2])
	}
	for _, want := range []string{
		"django on uwsgi: 2 of 3 steps failed or errored",
		"FAIL  posts.create  POST /posts creates a post",
		"expected:  POST answers 201",
		"actual:    500 Internal Server Error",
		"reproduce: curl -X POST …",
		"ERROR concurrency.creates",
		"detail:    spec timedout",
		"sqlite3.OperationalError: database is locked",
		"SETUP  gateway-multi\n        server gateway-multi exited",
		"SETUP ERROR: 2 of 5 pairs could not be tested (exit 2)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "server gateway-multi exited"); n != 1 {
		t.Errorf("gateway-multi's one start failure is reported %d times:\n%s", n, out)
	}
	if strings.Contains(out, "detail:    step posts.create") {
		t.Errorf("a failing step with evidence repeats its message:\n%s", out)
	}

	b.Reset()
	WriteMatrixSummary(&b, runs[:1], true)
	if !strings.Contains(b.String(), "\x1b[32mpass\x1b[0m") || !strings.Contains(b.String(), "PASS") {
		t.Errorf("a passing matrix in colour:\n%q", b.String())
	}
}

func TestWriteMatrixSummaryShowsAFewStepsOfABrokenApp(t *testing.T) {
	run := matrixRun("werkzeug", "fastapi", Summary{Fail: len(frameworks.Steps)})
	for _, s := range frameworks.Steps {
		run.Steps = append(run.Steps, StepResult{Name: s.Name, Title: s.Title, Status: Fail, Expected: "200", Actual: "500"})
	}
	var b strings.Builder
	WriteMatrixSummary(&b, []MatrixRun{run}, false)
	if got := strings.Count(b.String(), "FAIL  "); got != maxStepsShown {
		t.Errorf("%d failing steps shown, want %d", got, maxStepsShown)
	}
	if want := "… and 18 more failing steps (in --json)"; !strings.Contains(b.String(), want) {
		t.Errorf("no %q:\n%s", want, b.String())
	}
	if strings.Count(b.String(), "actual:    500") != 1 || strings.Count(b.String(), "actual:    (as above)") != maxStepsShown-1 {
		t.Errorf("the same error page is not shown once:\n%s", b.String())
	}
}

// TestServerLimitsDoNotFailTheMatrix: a step that failed for a measured server limit is reported
// with what was measured and leaves the exit code alone; any other failing step still fails the
// run.
func TestServerLimitsDoNotFailTheMatrix(t *testing.T) {
	run := matrixRun("wsgiref", "django", Summary{Pass: 1, Fail: 1})
	reason := "server limit, not an app failure: of 50 simultaneous connections 40 answered 201, 10 not accepted within 30s"
	run.Steps = []StepResult{
		{Name: "interop", Status: Pass},
		{Name: "concurrency.creates", Status: Fail, Expected: "POST answers 201", Actual: "no response", Limitation: reason},
	}
	if MatrixExit([]MatrixRun{run}) != ExitPass {
		t.Errorf("a failing step with a known limitation fails the matrix")
	}
	var b strings.Builder
	WriteMatrixSummary(&b, []MatrixRun{run}, false)
	for _, want := range []string{"pass (1 limit)", "LIMIT  django on wsgiref concurrency.creates\n        " + reason,
		"PASS: every step of 1 pair passed but 1 that the servers' known limitations explain"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "Failing cells") {
		t.Errorf("a known limitation is listed as a failure:\n%s", b.String())
	}

	run.Steps[0] = StepResult{Name: "interop", Status: Fail}
	run.Summary = Summary{Fail: 2}
	if MatrixExit([]MatrixRun{run}) != ExitFail {
		t.Errorf("a failing step beside a known limitation does not fail the matrix")
	}
}

func TestMatrixRunJSONHasTheDesignFields(t *testing.T) {
	run := matrixRun("gunicorn", "flask", Summary{Pass: 1})
	run.Steps = []StepResult{{Name: "interop", Title: "GET /interop", Status: Pass}}
	b, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(b, &got)
	for _, key := range []string{"server", "framework", "steps", "summary"} {
		if _, ok := got[key]; !ok {
			t.Errorf("no %q in %s", key, b)
		}
	}
	if fw := got["framework"].(map[string]any); fw["name"] != "flask" || fw["version"] != "2.0" {
		t.Errorf("framework %v", fw)
	}
	step := got["steps"].([]any)[0].(map[string]any)
	if step["name"] != "interop" || step["status"] != "pass" {
		t.Errorf("step %v", step)
	}
	for _, key := range []string{"error", "mount", "server_output", "warnings"} {
		if _, ok := got[key]; ok {
			t.Errorf("a run that passed at the root has %q: %s", key, b)
		}
	}
}

// TestRunMatrixSetupErrors: a database that cannot be created and a server that never starts
// make runs with Error (exit 2), the server's output quoted, and nothing left behind.
func TestRunMatrixSetupErrors(t *testing.T) {
	never := &Adapter{Name: "never", Purposes: ForMatrix,
		Command: func(l Launch) (Command, error) {
			return Command{Argv: []string{l.Python, "-c", "import sys; sys.exit('no such worker class')"}, Dir: l.App.Dir}, nil
		}}
	flask := FrameworkInfo{Name: "flask", Version: "2.0"}
	cfg := MatrixConfig{
		Servers:    []MatrixServer{{Adapter: never, Version: "0"}},
		Frameworks: []FrameworkInfo{flask},
		Env:        Env{Python: DefaultPython},
		PyApps:     fakeFrameworkApps(t, `open(os.environ["WSGISPEC_DB"], "w")`),
		Suite:      Suite{Binary: "/the/suite/must/not/run"},
	}
	runs := RunMatrix(context.Background(), cfg)
	if len(runs) != 1 || runs[0].Error == nil || !strings.Contains(runs[0].Error.Message, "exited (exit status 1) before answering HTTP") || !strings.Contains(runs[0].Error.Output, "no such worker class") {
		t.Fatalf("runs %+v; want one run whose error has the server's exit and output", runs)
	}
	if runs[0].Server.Name != "never" || runs[0].Framework != flask || MatrixExit(runs) != ExitSetup {
		t.Errorf("run %+v, exit %d", runs[0], MatrixExit(runs))
	}

	cfg.PyApps = fakeFrameworkApps(t, `sys.exit("django.db.utils.OperationalError: unable to open database file")`)
	runs = RunMatrix(context.Background(), cfg)
	if len(runs) != 1 || runs[0].Error == nil || !strings.Contains(runs[0].Error.Message, "creating the database") || !strings.Contains(runs[0].Error.String(), "unable to open database file") {
		t.Errorf("runs %+v; want one run whose error has initdb.py's output", runs)
	}
}
