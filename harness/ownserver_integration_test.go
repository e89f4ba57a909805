package harness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests use servers wsgispec does not know, as its users do: brokenserver.py declared in a
// servers file or given with --server-cmd, in every command.

// writeServersFile writes a servers file with two brokenserver servers, "mine" (a version given,
// an environment variable set) and "mine-too" (a version command), and returns its path.
func writeServersFile(t *testing.T, extra string) string {
	t.Helper()
	script := shellQuote(testdataDir(t, "brokenserver.py"))
	path := filepath.Join(t.TempDir(), "servers.toml")
	content := `[servers.mine]
command = "{python} ` + script + ` {host} {port} {app}"
version = "1.2.3"
env = { MINE_SETTING = "on" }
start_timeout = "30s"

[servers.mine-too]
command = "{python} ` + script + ` {host} {port} {app}"
version_command = "/usr/bin/python3 -c 'print(\"mine-too 0.9\")'"
ready_path = "/idle"
` + extra
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestServersFileInServersCommand(t *testing.T) {
	file := writeServersFile(t, "")
	r := runWsgispec(t, nil, "servers", "--servers", file)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"mine ", "1.2.3", "mine-too", "mine-too 0.9", "brokenserver.py"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("wsgispec servers does not show %q:\n%s", want, r.stdout)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[servers.gunicorn]\ncommand = \"x {port}\"\n"), 0o644)
	if r := runWsgispec(t, nil, "conform", "--servers", bad); r.code != 2 || !strings.Contains(r.stderr, `"gunicorn" is taken`) {
		t.Errorf("a servers file reusing a built-in name: exit %d, stderr %q", r.code, r.stderr)
	}
	os.WriteFile(bad, []byte("[servers.x]\ncommand = \"x {port}\"\nstart_timout = \"3s\"\n"), 0o644)
	if r := runWsgispec(t, nil, "matrix", "--servers", bad); r.code != 2 || !strings.Contains(r.stderr, "unknown key servers.x.start_timout") {
		t.Errorf("a misspelt key: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestServersFileInConform(t *testing.T) {
	file := writeServersFile(t, "")
	out := filepath.Join(t.TempDir(), "c.json")
	r := runWsgispec(t, nil, "conform", "--servers", file, "--server", "mine,mine-too", "--cases", "environ.*", "--json", out)
	if r.code == 2 {
		t.Fatalf("setup error:\n%s", r.stderr)
	}
	f := readConformJSON(t, out)
	if len(f.Runs) != 2 {
		t.Fatalf("%d runs, want 2", len(f.Runs))
	}
	for i, want := range []ServerInfo{{Name: "mine", Version: "1.2.3"}, {Name: "mine-too", Version: "mine-too 0.9"}} {
		got := f.Runs[i].Server
		if got.Name != want.Name || got.Version != want.Version || !strings.Contains(got.Command, "brokenserver.py") {
			t.Errorf("run %d: server %+v, want %s %s running brokenserver.py", i, got, want.Name, want.Version)
		}
		if len(f.Runs[i].Cases) == 0 || f.Runs[i].Error != nil {
			t.Errorf("run %d: %d cases, error %v", i, len(f.Runs[i].Cases), f.Runs[i].Error)
		}
	}
}

func TestServersFileInMatrixAndServerCmd(t *testing.T) {
	file := writeServersFile(t, "")
	dir := t.TempDir()
	out := filepath.Join(dir, "m.json")
	r := runWsgispec(t, nil, "matrix", "--servers", file, "--server", "mine", "--framework", "flask", "--json", out)
	checkMatrixServer(t, r, out, "mine", "1.2.3")

	out = filepath.Join(dir, "m2.json")
	r = runWsgispec(t, nil, "matrix", "--server-cmd", brokenServerCmd(t), "--name", "myserver", "--server-version", "7", "--framework", "flask", "--json", out)
	checkMatrixServer(t, r, out, "myserver", "7")
}

func checkMatrixServer(t *testing.T, r cliResult, path, name, version string) {
	t.Helper()
	if r.code == 2 {
		t.Fatalf("setup error:\n%s", r.stderr)
	}
	var f Envelope[MatrixRun]
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Runs) != 1 || f.Runs[0].Server.Name != name || f.Runs[0].Server.Version != version || !strings.Contains(f.Runs[0].Server.Command, "brokenserver.py") {
		t.Fatalf("runs %+v, want one of %s %s", f.Runs, name, version)
	}
	if run := f.Runs[0]; run.Summary.Pass == 0 || run.Failed() {
		t.Errorf("flask on %s: %+v (exit %d)\n%s", name, run.Summary, r.code, r.stdout)
	}
}

func TestServersFileInBench(t *testing.T) {
	file := writeServersFile(t, "")
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--servers", file, "--server", "mine"},
		{"--server-cmd", brokenServerCmd(t), "--name", "myserver"},
	} {
		out := filepath.Join(dir, "b.json")
		cmd := append([]string{"bench", "--scenario", "hello", "--quick", "--rounds", "1", "--json", out}, args...)
		r := runWsgispec(t, nil, cmd...)
		if r.code != 0 {
			t.Fatalf("wsgispec %q: exit %d\n%s", cmd, r.code, r.stderr)
		}
		var f struct {
			Runs []struct {
				Server ServerInfo `json:"server"`
				Model  string     `json:"model"`
			} `json:"runs"`
		}
		b, _ := os.ReadFile(out)
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, run := range f.Runs {
			names = append(names, run.Server.Name)
		}
		want := args[len(args)-1]
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Errorf("wsgispec %q: runs of %v, none of %s", cmd, names, want)
		}
	}
}

// TestServerFailingToStart: exit 2, and the JSON still names the server and its command, with
// what it printed.
func TestServerFailingToStart(t *testing.T) {
	file := writeServersFile(t, `
[servers.fails]
command = "{python} -c 'import sys; print(\"fails: cannot read its config\"); sys.exit(3)' {port}"
version = "0.1"
`)
	out := filepath.Join(t.TempDir(), "c.json")
	r := runWsgispec(t, nil, "conform", "--servers", file, "--server", "fails", "--json", out)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	f := readConformJSON(t, out)
	if len(f.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(f.Runs))
	}
	run := f.Runs[0]
	if run.Server.Name != "fails" || run.Server.Version != "0.1" || !strings.Contains(run.Server.Command, "sys.exit(3)") {
		t.Errorf("server %+v: want the name, version and command of the server that failed", run.Server)
	}
	if run.Error == nil || !strings.Contains(run.Error.String(), "exit status 3") || !strings.Contains(run.Error.String(), "fails: cannot read its config") {
		t.Errorf("error %q: want the exit status and the server's output", run.Error)
	}

	// bench: the same, in a failed run of its own beside the reference's measured ones.
	benchOut := filepath.Join(t.TempDir(), "b.json")
	r = runWsgispec(t, nil, "bench", "--servers", file, "--server", "fails", "--scenario", "hello", "--quick", "--rounds", "2", "--json", benchOut)
	if r.code != 2 {
		t.Fatalf("bench: exit %d, want 2\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "fails could not be measured") {
		t.Errorf("bench: stderr does not name the server that failed:\n%s", r.stderr)
	}
	var bf struct {
		Runs []struct {
			Server ServerInfo `json:"server"`
			Round  int        `json:"round"`
			Model  string     `json:"model"`
			Error  *RunError  `json:"error"`
		} `json:"runs"`
		Medians []struct {
			Server ServerInfo `json:"server"`
		} `json:"medians"`
	}
	b, err := os.ReadFile(benchOut)
	if err == nil {
		err = json.Unmarshal(b, &bf)
	}
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	var failed int
	for _, run := range bf.Runs {
		if run.Server.Name != "fails" {
			continue
		}
		failed++
		if run.Server.Version != "0.1" || !strings.Contains(run.Server.Command, "sys.exit(3)") || run.Model != "" {
			t.Errorf("bench: failed run %+v: want the name, version and command, and no model", run)
		}
		if run.Error == nil || !strings.Contains(run.Error.String(), "exit status 3") || !strings.Contains(run.Error.String(), "fails: cannot read its config") {
			t.Errorf("bench: error %q: want the exit status and the server's output", run.Error)
		}
	}
	if failed != 1 {
		t.Errorf("bench: %d failed runs of the server, want 1 (its second round not attempted)", failed)
	}
	for _, m := range bf.Medians {
		if m.Server.Name == "fails" {
			t.Errorf("bench: medians of a server that never ran")
		}
	}
}

// TestBusyServerIsRestarted: a single-threaded server that one case leaves busy for longer than
// the suite waits is charged to that case, and the cases after it run against a fresh server.
func TestBusyServerIsRestarted(t *testing.T) {
	wsgispecBin(t)
	const glob = "exc_info.*,write.*,errors.*,close.*"
	baseline := conformBroken(t, "", glob)
	busy := conformBroken(t, "busy", glob)
	const culprit = "exc_info.unhandled-exception"
	if c := busy[culprit]; c.Status == Pass || !strings.Contains(c.Message, "server still busy with "+culprit) {
		t.Errorf("%s: %s %q, want it charged with the busy server", culprit, c.Status, c.Message)
	}
	for id, c := range busy {
		if id != culprit && c.Status != baseline[id].Status {
			t.Errorf("%s: %s against the busy server (%s), %s against the correct one", id, c.Status, firstLine(c.Message), baseline[id].Status)
		}
	}
}
