package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/internal/progress"
)

// serverFlags are the server selectors conform, matrix and bench share (DESIGN.md "Your own
// servers"): built-in or servers-file names, a command template, or (conform, matrix) a URL.
type serverFlags struct {
	server, serverCmd, url, name, version, versionCmd, serversFile *string
}

func addServerFlags(fs *flag.FlagSet, withURL bool, urlUsage string) serverFlags {
	f := serverFlags{
		server:      fs.String("server", "", "`servers` to use, comma-separated, or all: built-in ones and those of --servers (wsgispec servers lists them)"),
		serverCmd:   fs.String("server-cmd", "", "command `template` starting any other server ({host} {port} {app_dir} {module} {callable} {app} {python})"),
		name:        fs.String("name", "", "with --server-cmd or --url: the `name` results carry (default: what the command runs)"),
		version:     fs.String("server-version", "", "with --server-cmd or --url: the server's `version` for the results"),
		versionCmd:  fs.String("version-cmd", "", "with --server-cmd or --url: a `command` whose first line of output is the server's version"),
		serversFile: fs.String("servers", "", "TOML `file` of [servers.NAME] tables declaring your servers (docs/servers.md); alone, it selects all of them"),
	}
	if withURL {
		f.url = fs.String("url", "", urlUsage)
	} else {
		f.url = new(string)
	}
	return f
}

// selection is the servers a command runs: detected adapters, or one server at a URL.
type selection struct {
	use     []harness.Detection
	url     string
	name    string // for the URL
	version string // for the URL
}

// resolve checks the flags, registers the servers file's servers (and a --server-cmd's) and
// detects the chosen ones; withNames, when set, amends the list of names (bench adds its
// reference server).
// Servers that are not installed under "all" are noted on stderr; an explicitly named one that
// is not installed is an error.
func (f serverFlags) resolve(ctx context.Context, cmd string, p harness.Purpose, env harness.Env, withNames func(string) string) (selection, error) {
	var sel selection
	if *f.serversFile != "" {
		adapters, err := harness.ReadServersFile(*f.serversFile)
		if err != nil {
			return sel, err
		}
		if err := harness.AddServers(adapters); err != nil {
			return sel, fmt.Errorf("--servers %s: %v", *f.serversFile, err)
		}
		if *f.server == "" && *f.serverCmd == "" && *f.url == "" {
			names := make([]string, len(adapters))
			for i, a := range adapters {
				names[i] = a.Name
			}
			*f.server = strings.Join(names, ",")
		}
	}
	chosen := 0
	for _, s := range []string{*f.server, *f.serverCmd, *f.url} {
		if s != "" {
			chosen++
		}
	}
	own := *f.serverCmd != "" || *f.url != ""
	urlToo := ""
	if cmd != "bench" {
		urlToo = ", --url URL"
	}
	switch {
	case chosen != 1:
		return sel, fmt.Errorf("name exactly one of --server NAMES|all, --server-cmd 'TEMPLATE'%s (or --servers FILE alone)", urlToo)
	case !own && (*f.name != "" || *f.version != "" || *f.versionCmd != ""):
		return sel, errors.New("--name, --server-version and --version-cmd describe a --server-cmd or --url server (a servers file says them per server)")
	case *f.version != "" && *f.versionCmd != "":
		return sel, errors.New("give --server-version or --version-cmd, not both")
	case *f.name != "" && (!harness.ServerName.MatchString(*f.name) || *f.name == "all"):
		return sel, fmt.Errorf("--name %q: a server name is letters, digits and _ . + - (at most 64, not \"all\")", *f.name)
	}
	if *f.name != "" {
		if _, taken := harness.LookupAdapter(*f.name); taken {
			return sel, fmt.Errorf("--name %q is a built-in or servers-file server's name; choose another", *f.name)
		}
	}
	switch {
	case *f.url != "":
		if _, _, err := harness.ParseTargetURL(*f.url); err != nil {
			return sel, err
		}
		sel.url, sel.name, sel.version = *f.url, *f.name, *f.version
		if *f.versionCmd != "" {
			v, err := harness.RunVersionCommand(ctx, *f.versionCmd)
			if err != nil {
				return sel, err
			}
			sel.version = v
		}
		return sel, nil
	case *f.serverCmd != "":
		tmpl, err := harness.ParseCommandTemplate(*f.serverCmd)
		if err != nil {
			return sel, fmt.Errorf("--server-cmd: %v", err)
		}
		name := *f.name
		if name == "" {
			name = tmpl.DefaultName()
			if _, taken := harness.LookupAdapter(name); taken {
				name += "-custom" // `gunicorn …` of your own, beside the built-in gunicorn
			}
		}
		a := harness.CustomServer{Name: name, Template: tmpl, Version: *f.version, VersionCmd: *f.versionCmd}.Adapter()
		if err := harness.AddServers([]*harness.Adapter{a}); err != nil {
			return sel, fmt.Errorf("--server-cmd: %v (name it with --name)", err)
		}
		*f.server = name
	}
	names := *f.server
	if withNames != nil {
		names = withNames(names)
	}
	use, missing, err := harness.ResolveServers(ctx, names, p, env)
	if err != nil {
		return sel, err
	}
	for _, d := range missing {
		fmt.Fprintf(os.Stderr, "wsgispec %s: skipping %s: not installed: %s\n", cmd, d.Adapter.Name, d.Reason)
	}
	if len(use) == 0 {
		return sel, errors.New("none of the servers is installed (wsgispec servers shows why)")
	}
	sel.use = use
	return sel, nil
}

// newBoard is the progress display on stderr: live lines on a terminal, plain lines elsewhere.
func newBoard() *progress.Board {
	st, err := os.Stderr.Stat()
	live := err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
	return progress.New(os.Stderr, live)
}
