package schema_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wsgispec/wsgispec/bench"
	"github.com/wsgispec/wsgispec/docs/schema"
	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/specs/catalog"
)

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func conformFile(t *testing.T) harness.Envelope[harness.ConformRun] {
	env := harness.NewEnvelope[harness.ConformRun](context.Background(), harness.KindConform, time.Now())
	c := harness.CaseResult{Case: catalog.All()[0], Status: harness.Fail, Message: "m", DurationS: 0.2,
		Evidence: catalog.Evidence{Expected: "e", Actual: "a", Transcript: "> GET /\r\n", Reproduce: "curl"}, ExpectedFailure: "known"}
	env.Runs = []harness.ConformRun{
		{Server: harness.ServerInfo{Name: "gunicorn", Version: "20.1.0", Command: "gunicorn"}, Cases: []harness.CaseResult{c},
			Summary: harness.Summary{Fail: 1}, DurationS: 3, Warnings: []string{"w"}},
		{Server: harness.ServerInfo{Name: "mine", Command: "mywsgi --port 1"}, Cases: []harness.CaseResult{},
			Error: &harness.RunError{Message: "server mine exited (exit status 1) before answering HTTP", Output: "Traceback"}},
	}
	return env
}

func benchFile() *bench.File {
	f := &bench.File{Envelope: harness.NewEnvelope[bench.Run](context.Background(), harness.KindBench, time.Now())}
	for _, server := range []string{bench.ReferenceServer, "gunicorn"} {
		for _, model := range []string{bench.Closed, bench.Open} {
			f.Runs = append(f.Runs, bench.Run{Server: harness.ServerInfo{Name: server}, Scenario: "hello", Round: 1, Model: model,
				Figures:     bench.Figures{Requests: 100, ThroughputRPS: 50, CPUUsPerReq: 200, CtxSwitchesPerReq: 1.5, Success: 1},
				StatusCodes: map[string]int{"200": 100}})
		}
	}
	// A server that never started: one failed run, with no figures.
	f.Runs = append(f.Runs, bench.Run{Server: harness.ServerInfo{Name: "mine", Version: "0.1", Command: "mywsgi --port 1"}, Scenario: "hello", Round: 1,
		Error: &harness.RunError{Message: "server mine exited (exit status 3) before answering HTTP", Output: "mine: cannot read its config"}})
	bench.AddReferenceRatios(f.Runs)
	f.Medians = bench.Medians(f.Runs)
	f.Results = "b.results.jsonl.gz"
	return f
}

// TestEveryKindValidates builds each kind of file as the commands do and validates it.
func TestEveryKindValidates(t *testing.T) {
	matrix := harness.NewEnvelope[harness.MatrixRun](context.Background(), harness.KindMatrix, time.Now())
	matrix.Runs = []harness.MatrixRun{
		{Server: harness.ServerInfo{Name: "gateway-multi"}, Framework: harness.FrameworkInfo{Name: "flask", Version: "2.2"}, Mount: "/flask",
			Steps: []harness.StepResult{{Name: "interop", Title: "GET /interop", Status: harness.Pass, DurationS: 0.1}}, Summary: harness.Summary{Pass: 1}},
		{Server: harness.ServerInfo{Name: "uwsgi"}, Framework: harness.FrameworkInfo{Name: "django"}, Steps: []harness.StepResult{},
			Error: &harness.RunError{Message: "cannot create the database"}},
	}
	for name, doc := range map[string][]byte{
		"conform": marshal(t, conformFile(t)),
		"matrix":  marshal(t, matrix),
		"bench":   marshal(t, benchFile()),
		"catalog": marshal(t, harness.NewCatalogFile(catalog.All())),
	} {
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSchemasRejectWhatTheyMust: the schemas are strict enough to catch the defects they exist for.
func TestSchemasRejectWhatTheyMust(t *testing.T) {
	edit := func(doc []byte, from, to string) []byte {
		t.Helper()
		if !strings.Contains(string(doc), from) {
			t.Fatalf("%q is not in %s", from, doc)
		}
		return []byte(strings.Replace(string(doc), from, to, 1))
	}
	conform := marshal(t, conformFile(t))
	b := marshal(t, benchFile())
	for name, doc := range map[string][]byte{
		"cases null":                                   edit(conform, `"cases":[]`, `"cases":null`),
		"error a string":                               edit(conform, `"error":{"message":"server mine exited (exit status 1) before answering HTTP","output":"Traceback"}`, `"error":"server mine exited"`),
		"cases beside an error":                        edit(conform, `"cases":[],`, `"cases":[`+string(marshal(t, conformFile(t).Runs[0].Cases[0]))+`],`),
		"an undocumented field":                        edit(conform, `"summary":`, `"surprise":1,"summary":`),
		"an unknown status":                            edit(conform, `"status":"fail"`, `"status":"flaky"`),
		"an old schema_version":                        edit(conform, `"schema_version":2`, `"schema_version":1`),
		"no context switches":                          edit(b, `"ctx_switches_per_req":1.5,`, ``),
		"a malformed connections":                      edit(b, `"connections":{`, `"connections":{"opened_twice":1,`),
		"a kind of no schema":                          edit(conform, `"kind":"conform"`, `"kind":"soak"`),
		"a bench run with no round":                    edit(b, `"round":1,`, ``),
		"a failed bench run with figures":              edit(b, `"round":1,"error":{`, `"round":1,"rate":0,"error":{`),
		"a failed bench run, no output":                edit(b, `,"output":"mine: cannot read its config"`, ``),
		"a bench run with an error beside its figures": edit(b, `"round":1,"model":"closed",`, `"round":1,"model":"closed","error":{"message":"m","output":""},`),
		"a started that is not RFC3339":                edit(conform, `"started":"`, `"started":"yesterday `),
	} {
		if err := schema.Validate(doc); err == nil {
			t.Errorf("%s: validated", name)
		}
	}
	if err := schema.Validate(edit(b, `"client_cpu_s":0,`, `"client_cpu_s":0,"connections":{"opened":16,"served_at_once":16,"longest_wait_ms":0.4,"unanswered":0},`)); err != nil {
		t.Errorf("a run with the optional connections object: %v", err)
	}
}
