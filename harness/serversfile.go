package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// serversFile is the TOML layout of --servers (docs/servers.md): one [servers.NAME] table per
// server.
type serversFile struct {
	Servers map[string]serverTable `toml:"servers"`
}

type serverTable struct {
	Command        string            `toml:"command"`
	Version        string            `toml:"version"`
	VersionCommand string            `toml:"version_command"`
	Env            map[string]string `toml:"env"`
	Dir            string            `toml:"dir"`
	ReadyPath      string            `toml:"ready_path"`
	StartTimeout   string            `toml:"start_timeout"`
}

// ReadServersFile reads a servers file and returns its servers as adapters, sorted by name.
// Every mistake is an error naming the file and the server: an unknown key, a bad template, a
// name that cannot be a server's.
func ReadServersFile(path string) ([]*Adapter, error) {
	var f serversFile
	md, err := toml.DecodeFile(path, &f)
	if err != nil {
		return nil, fmt.Errorf("--servers %s: %v", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("--servers %s: unknown key %s (a [servers.NAME] table takes command, version, version_command, env, dir, ready_path, start_timeout)", path, strings.Join(keys, ", "))
	}
	if len(f.Servers) == 0 {
		return nil, fmt.Errorf("--servers %s declares no server (want [servers.NAME] tables)", path)
	}
	base := filepath.Dir(path)
	names := make([]string, 0, len(f.Servers))
	for n := range f.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*Adapter
	for _, name := range names {
		s, err := f.Servers[name].server(name, base)
		if err != nil {
			return nil, fmt.Errorf("--servers %s: [servers.%s]: %v", path, name, err)
		}
		out = append(out, s.Adapter())
	}
	return out, nil
}

func (t serverTable) server(name, base string) (CustomServer, error) {
	s := CustomServer{Name: name, Version: t.Version, VersionCmd: t.VersionCommand, Env: t.Env, ReadyPath: t.ReadyPath}
	if !ServerName.MatchString(name) || name == "all" {
		return s, errors.New("a server name is letters, digits and _ . + - (at most 64, not \"all\")")
	}
	if t.Command == "" {
		return s, errors.New("command is required: the command template starting the server")
	}
	var err error
	if s.Template, err = ParseCommandTemplate(t.Command); err != nil {
		return s, fmt.Errorf("command: %v", err)
	}
	if t.Version != "" && t.VersionCommand != "" {
		return s, errors.New("give version or version_command, not both")
	}
	for k := range t.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return s, fmt.Errorf("env: %q is not an environment variable name", k)
		}
	}
	if t.Dir != "" {
		s.Dir = t.Dir
		if !filepath.IsAbs(s.Dir) {
			s.Dir = filepath.Join(base, s.Dir)
		}
		if st, err := os.Stat(s.Dir); err != nil || !st.IsDir() {
			return s, fmt.Errorf("dir %q is not a directory", s.Dir)
		}
		if s.Dir, err = filepath.Abs(s.Dir); err != nil {
			return s, err
		}
	}
	if t.ReadyPath != "" && !strings.HasPrefix(t.ReadyPath, "/") {
		return s, fmt.Errorf("ready_path %q must start with /", t.ReadyPath)
	}
	if t.StartTimeout != "" {
		d, err := time.ParseDuration(t.StartTimeout)
		if err != nil || d <= 0 {
			return s, fmt.Errorf("start_timeout %q is not a positive duration like \"30s\"", t.StartTimeout)
		}
		s.StartTimeout = d
	}
	return s, nil
}
