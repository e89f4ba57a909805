package bench

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/wsgispec/wsgispec/docs/schema"
)

// TestBenchEndToEnd runs the built wsgispec: a short quick bench of the reference and the
// gateway, then compare on its output.
func TestBenchEndToEnd(t *testing.T) {
	binDir := os.Getenv("WSGISPEC_BIN")
	if binDir == "" {
		t.Skip("WSGISPEC_BIN is not set: run `make test`, which builds bin/wsgispec and sets it")
	}
	wsgispec := filepath.Join(binDir, "wsgispec")
	dir := t.TempDir()
	jsonPath, benchfmtPath, historyDir := filepath.Join(dir, "bench.json"), filepath.Join(dir, "bench.txt"), filepath.Join(dir, "history")
	cmd := exec.Command(wsgispec, "bench", "--server", "reference,gateway", "--scenario", "hello", "--quick",
		"--rounds", "2", "--duration", "500ms", "--json", jsonPath, "--benchfmt", benchfmtPath, "--history", historyDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("wsgispec bench: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "gateway") || !strings.Contains(string(out), "req/s÷ref") {
		t.Errorf("the summary table lacks the gateway or its ratio column:\n%s", out)
	}

	f, err := ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(jsonPath); schema.Validate(b) != nil {
		t.Errorf("%s: %v", jsonPath, schema.Validate(b))
	}
	if len(f.Runs) != 8 || len(f.Medians) != 4 {
		t.Fatalf("got %d runs and %d medians, want 8 (2 servers × 2 rounds × 2 models) and 4", len(f.Runs), len(f.Medians))
	}
	requests := map[string]float64{}
	for _, r := range f.Runs {
		name := r.Server.Name + "/" + r.Scenario + "/" + strconv.Itoa(r.Round) + "/" + r.Model
		requests[name] = r.Requests
		if r.Success != 1 || r.Requests == 0 || r.CPUUsPerReq <= 0 || r.CtxSwitchesPerReq <= 0 || r.ServerRSSMB <= 0 || r.LatencyMS.P99 <= 0 {
			t.Errorf("%s: success %v, %v requests, %v cpu-µs/req, %v context switches/req, %v MB, p99 %v ms: want all positive and success 1",
				name, r.Success, r.Requests, r.CPUUsPerReq, r.CtxSwitchesPerReq, r.ServerRSSMB, r.LatencyMS.P99)
		}
		if r.InvoluntaryCtxSwitchesPerReq > r.CtxSwitchesPerReq {
			t.Errorf("%s: %v involuntary context switches per request, more than all of them (%v)", name, r.InvoluntaryCtxSwitchesPerReq, r.CtxSwitchesPerReq)
		}
		if (r.Server.Name == "gateway") != (r.VsReference != nil) {
			t.Errorf("%s: ratio to the reference %+v; want one on the gateway's runs only", name, r.VsReference)
		}
		if r.Model == Open && r.Rate <= 0 {
			t.Errorf("%s: open model without a target rate", name)
		}
	}

	// The raw results: every measured request, numbered from 0 per run.
	raw, err := os.Open(filepath.Join(dir, f.Results))
	if err != nil {
		t.Fatalf("raw results named %q: %v", f.Results, err)
	}
	defer raw.Close()
	gz, err := gzip.NewReader(raw)
	if err != nil {
		t.Fatal(err)
	}
	dec := vegeta.NewJSONDecoder(gz)
	seen := map[string]uint64{}
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break
		}
		if r.Seq != seen[r.Attack] {
			t.Fatalf("attack %s: result seq %d, want %d (from 0 without gaps)", r.Attack, r.Seq, seen[r.Attack])
		}
		seen[r.Attack]++
	}
	for name, n := range requests {
		if float64(seen[name]) != n {
			t.Errorf("raw results hold %d requests of %s, the JSON says %v", seen[name], name, n)
		}
	}

	bf, _ := os.ReadFile(benchfmtPath)
	if n := strings.Count(string(bf), "\nBenchmarkHello/server="); n != 8 {
		t.Errorf("--benchfmt wrote %d benchmark lines, want 8:\n%s", n, bf)
	}
	history, err := ReadHistory(historyDir)
	if err != nil || len(history) != 1 || len(history[0].Runs) != 8 {
		t.Errorf("--history: %d entries (%v), want one with 8 runs", len(history), err)
	}

	// Two rounds can never reach p < 0.05: compare refuses to gate on them.
	cmp := exec.Command(wsgispec, "compare", jsonPath, jsonPath)
	out, _ = cmp.CombinedOutput()
	if cmp.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "too few rounds to ever show a change") || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Errorf("compare of a file with itself (2 rounds): exit %d, want 2 and one line refusing to gate:\n%s", cmp.ProcessState.ExitCode(), out)
	}
	bad := exec.Command(wsgispec, "compare", jsonPath, benchfmtPath)
	var stderr bytes.Buffer
	bad.Stderr = &stderr
	if err := bad.Run(); bad.ProcessState.ExitCode() != 2 || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
		t.Errorf("compare with a non-JSON file: %v, stderr %q; want exit 2 and one line", err, stderr.String())
	}
}
