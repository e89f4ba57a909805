package harness

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Results are public CI artifacts, and some servers (wsgiref among them) copy their whole process
// environment into every request's environ, where the probe shows it. So a server under test never
// inherits wsgispec's environment: it gets baseVariables, the variables the user names with
// --pass-env, and what the harness, the app and the adapter set (the servers file's env among
// them: an adapter puts it in its Command.Env).

// baseVariables are the variables of wsgispec's environment every server process gets: where
// programs are, the home and temporary directories, the locale. None of them carries a secret.
var baseVariables = []string{"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}

// baseDefaults stand in for base variables wsgispec itself runs without (a bare `env -i`).
var baseDefaults = map[string]string{
	"PATH": "/usr/local/bin:/usr/bin:/bin",
	"LANG": "C.UTF-8",
}

var variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParsePassEnv parses --pass-env: comma-separated names of variables of wsgispec's environment
// to give the servers under test. Empty means none.
func ParsePassEnv(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var names []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if !variableName.MatchString(n) {
			return nil, fmt.Errorf("%q is not an environment variable name (letters, digits and _, not starting with a digit)", n)
		}
		names = append(names, n)
	}
	return names, nil
}

// CleanEnviron is the environment of a process running code under test: the base variables and
// the passed ones, as wsgispec has them (a passed variable wsgispec does not have is left out),
// then extra ("NAME=value" entries; a later entry of a name wins over an earlier one).
func CleanEnviron(pass []string, extra ...string) []string {
	env := make([]string, 0, len(baseVariables)+len(pass)+len(extra))
	for _, name := range baseVariables {
		v, ok := os.LookupEnv(name)
		if !ok {
			if v, ok = baseDefaults[name]; !ok && name == "TMPDIR" {
				v, ok = os.TempDir(), true
			}
			if !ok && name == "HOME" {
				v, ok = homeDir(), true
			}
		}
		if ok {
			env = append(env, name+"="+v)
		}
	}
	for _, name := range pass {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return dedupeEnv(append(env, extra...))
}

func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/"
}

// dedupeEnv keeps the last entry of each name, in the order of the names' first appearance, so a
// process sees one value whatever its libc does with duplicates.
func dedupeEnv(env []string) []string {
	last := map[string]int{}
	for i, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		last[name] = i
	}
	out := env[:0:0]
	seen := map[string]bool{}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !seen[name] {
			seen[name] = true
			out = append(out, env[last[name]])
		}
	}
	return out
}

// mapEnv renders variables as "NAME=value" entries sorted by name.
func mapEnv(vars map[string]string) []string {
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
