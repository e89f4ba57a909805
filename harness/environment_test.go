package harness

import (
	"slices"
	"strings"
	"testing"
)

func TestCleanEnvironKeepsOnlyBaseAndPassedVariables(t *testing.T) {
	t.Setenv("PATH", "/opt/bin:/usr/bin")
	t.Setenv("LANG", "de_DE.UTF-8")
	t.Setenv("CI_JOB_TOKEN", "glpat-0123456789")
	t.Setenv("WSGISPEC_PASSED", "yes")
	t.Setenv("WSGISPEC_OVERRIDDEN", "from wsgispec")
	env := CleanEnviron([]string{"WSGISPEC_PASSED", "WSGISPEC_OVERRIDDEN", "WSGISPEC_NOT_SET_ANYWHERE"},
		"WSGISPEC_OVERRIDDEN=from the adapter", "APP_DB=/tmp/db")
	byName := map[string]string{}
	var names []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := byName[k]; dup {
			t.Errorf("%s given twice in %q", k, env)
		}
		byName[k] = v
		names = append(names, k)
	}
	if byName["PATH"] != "/opt/bin:/usr/bin" || byName["LANG"] != "de_DE.UTF-8" || byName["HOME"] == "" || byName["TMPDIR"] == "" {
		t.Errorf("base variables: %q", env)
	}
	if byName["WSGISPEC_PASSED"] != "yes" || byName["WSGISPEC_OVERRIDDEN"] != "from the adapter" || byName["APP_DB"] != "/tmp/db" {
		t.Errorf("passed and extra variables: %q", env)
	}
	for _, leaked := range []string{"CI_JOB_TOKEN", "WSGISPEC_NOT_SET_ANYWHERE"} {
		if slices.Contains(names, leaked) {
			t.Errorf("%s reached the server's environment: %q", leaked, env)
		}
	}
}

func TestCleanEnvironKeepsEmptyBaseVariables(t *testing.T) {
	t.Setenv("PATH", "")
	t.Setenv("LANG", "")
	for _, kv := range CleanEnviron(nil) {
		if kv == "PATH=" || kv == "LANG=" {
			return // set but empty is kept as the user has it
		}
	}
	t.Error("a variable set to the empty string should be passed as it is")
}

func TestParsePassEnv(t *testing.T) {
	if got, err := ParsePassEnv(" GITHUB_SHA, DATABASE_URL ,_X1"); err != nil || !slices.Equal(got, []string{"GITHUB_SHA", "DATABASE_URL", "_X1"}) {
		t.Errorf("ParsePassEnv = %q, %v", got, err)
	}
	if got, err := ParsePassEnv(""); err != nil || got != nil {
		t.Errorf("empty --pass-env = %q, %v; want none", got, err)
	}
	for _, bad := range []string{"A,,B", "1ABC", "A-B", "A=B", "A B"} {
		if _, err := ParsePassEnv(bad); err == nil || !strings.Contains(err.Error(), "not an environment variable name") {
			t.Errorf("ParsePassEnv(%q) = %v, want a clear error", bad, err)
		}
	}
}
