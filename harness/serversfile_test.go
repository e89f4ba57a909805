package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadServersFile(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "work"), 0o755)
	path := filepath.Join(dir, "s.toml")
	os.WriteFile(path, []byte(`
[servers.b]
command = "mywsgi --bind {host}:{port} {app}"
version = "2.0"
env = { A = "1" }
dir = "work"
ready_path = "/health"
start_timeout = "45s"

[servers.a]
command = "other {port}"
version_command = "other --version"
`), 0o644)
	adapters, err := ReadServersFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(adapters) != 2 || adapters[0].Name != "a" || adapters[1].Name != "b" {
		t.Fatalf("adapters %v, want a and b", adapters)
	}
	b := adapters[1]
	if b.ReadyPath != "/health" || b.StartTimeout != 45*time.Second || b.Runs != "mywsgi --bind {host}:{port} {app}" {
		t.Errorf("b: %+v", b)
	}
	cmd, err := b.Command(Launch{Host: "127.0.0.1", Port: 8000, App: App{Dir: "/app", Module: "m", Callable: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cmd.Argv, " ") != "mywsgi --bind 127.0.0.1:8000 m:c" || cmd.Dir != filepath.Join(dir, "work") || strings.Join(cmd.Env, ",") != "A=1" {
		t.Errorf("command %+v", cmd)
	}
}

func TestReadServersFileErrors(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"[servers.x]\ncommand = \"x {port}\"\nvershun = \"1\"\n", "unknown key servers.x.vershun"},
		{"[servers.x]\nversion = \"1\"\n", "command is required"},
		{"[servers.x]\ncommand = \"x {app}\"\n", "no {port}"},
		{"[servers.\"a b\"]\ncommand = \"x {port}\"\n", "a server name is"},
		{"[servers.x]\ncommand = \"x {port}\"\nversion = \"1\"\nversion_command = \"x -V\"\n", "not both"},
		{"[servers.x]\ncommand = \"x {port}\"\nstart_timeout = \"soon\"\n", "positive duration"},
		{"[servers.x]\ncommand = \"x {port}\"\nready_path = \"health\"\n", "must start with /"},
		{"[servers.x]\ncommand = \"x {port}\"\ndir = \"nowhere\"\n", "is not a directory"},
		{"title = 1\n", "unknown key title"},
		{"", "declares no server"},
		{"[servers.x\n", "servers.toml"},
	} {
		path := filepath.Join(t.TempDir(), "servers.toml")
		os.WriteFile(path, []byte(tc.content), 0o644)
		if _, err := ReadServersFile(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one saying %q", tc.content, err, tc.want)
		}
	}
}

func TestDefaultName(t *testing.T) {
	for src, want := range map[string]string{
		"mywsgi --bind {host}:{port} {app}":          "mywsgi",
		"/opt/bin/my-server {port}":                  "my-server",
		"{python} -m bjoern_cli {port} {app}":        "bjoern_cli",
		"{python} /src/serve.py {host} {port} {app}": "serve",
		"python3.11 -m hypercorn {port}":             "hypercorn",
		"{python} {port}":                            "custom",
		"{app_dir}/run {port}":                       "custom",
	} {
		tmpl, err := ParseCommandTemplate(src)
		if err != nil {
			t.Fatal(err)
		}
		if got := tmpl.DefaultName(); got != want {
			t.Errorf("%q: name %q, want %q", src, got, want)
		}
	}
}
