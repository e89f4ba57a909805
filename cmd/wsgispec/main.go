// Command wsgispec is the thin CLI over the gateway, harness, specs, bench and reports packages.
// Each subcommand lives in its own file and registers itself in init, so this file only dispatches.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/wsgispec/wsgispec/internal/version"
)

// command is one subcommand: run receives the arguments after its name and returns the exit code
// (0 success, 1 a failed check, 2 a usage or setup error).
type command struct {
	summary string
	run     func(args []string) int
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string) int) {
	commands[name] = command{summary: summary, run: run}
}

// failer returns how a command reports a usage or setup error: one line on stderr naming the
// command, and the exit code 2.
func failer(cmd string) func(format string, a ...any) int {
	return func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "wsgispec "+cmd+": "+format+"\n", a...)
		return 2
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "wsgispec %s: PEP 3333 conformance, framework matrix and benchmarks for WSGI servers\n\n", version.Version)
	fmt.Fprintln(os.Stderr, "usage: wsgispec <command> [flags]   (wsgispec <command> --help for its flags)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasPrefix(commands[n].summary, "internal:") {
			continue // run by wsgispec itself, not by users
		}
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "--version", "-version", "version":
		fmt.Println(version.String())
		return
	case "-h", "--help", "help":
		usage()
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "wsgispec: unknown command %q (wsgispec --help lists them)\n", os.Args[1])
		os.Exit(2)
	}
	os.Exit(cmd.run(os.Args[2:]))
}
