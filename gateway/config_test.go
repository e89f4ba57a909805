//go:build cgo && gateway

package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "app"), 0o755)
	p := filepath.Join(dir, "gateway.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigResolvesDirectoriesAndDefaults(t *testing.T) {
	p := writeConfig(t, "[server]\nlisten = \"127.0.0.1:9\"\n[[app]]\ndir = \"app\"\nmodule = \"wsgi\"\nmount = \"/x/\"\n")
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Apps[0]
	if a.Dir != filepath.Join(filepath.Dir(p), "app") || a.Mount != "/x" || a.Callable != "application" ||
		a.Protocol != ProtocolWSGI || a.Interpreter != InterpreterSub || cfg.Server.Threads != DefaultThreads {
		t.Errorf("unexpected normalised config: %+v %+v", cfg.Server, a)
	}
}

func TestLoadConfigRejectsMistakes(t *testing.T) {
	for text, want := range map[string]string{
		"[server]\nlisten = \"x\"\nthreadz = 3\n[[app]]\ndir = \"app\"\nmodule = \"m\"\n": "unknown keys: server.threadz",
		"[[app]]\ndir = \"app\"\n": "module is required",
		"[[app]]\ndir = \"app\"\nmodule = \"a\"\n[[app]]\ndir = \"app\"\nmodule = \"b\"\n": "both mounted",
		"[[app]]\ndir = \"app\"\nmodule = \"a\"\nprotocol = \"cgi\"\n":                     "neither wsgi nor asgi",
		"[[app]]\ndir = \"missing\"\nmodule = \"a\"\n":                                     "does not exist",
		"[[app]]\ndir = \"app\"\nmodule = \"a\"\nmount = \"x\"\n":                          "must start with /",
		"[server]\nidle_timeout = \"soon\"\n[[app]]\ndir = \"app\"\nmodule = \"a\"\n":      "not a duration",
		"[server]\n": "no [[app]]",
		"[[app]]\ndir = \"app\"\nmodule = \"a\"\ninterpreter = \"main\"\n[[app]]\ndir = \"app\"\nmodule = \"b\"\nmount = \"/b\"\ninterpreter = \"main\"\n": "only one app",
	} {
		_, err := LoadConfig(writeConfig(t, text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %q: expected an error containing %q, got %v", text, want, err)
		}
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	if _, err := LoadConfig("../gateway.example.toml"); err != nil {
		t.Errorf("the shipped example config does not load: %v", err)
	}
}
