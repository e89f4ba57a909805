package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/wsgispec/wsgispec/harness"
)

func init() {
	register("servers", "list the known server adapters, whether each is installed, and versions", runServers)
}

func runServers(args []string) int {
	fs := flag.NewFlagSet("servers", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: wsgispec servers [--python P]\n\nLists every server adapter, installed or not, with its version and what it runs.\n\nflags:\n")
		fs.PrintDefaults()
	}
	envf := addEnvFlags(fs, "Python `interpreter` to look for Python servers in")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "wsgispec servers: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := envf.env()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tINSTALLED\tVERSION\tRUNS")
	var missing []string
	for _, d := range harness.Detect(ctx, harness.Adapters(harness.ForAll), env) {
		installed, version := "yes", d.Version
		if !d.Installed {
			installed, version = "no", "-"
			missing = append(missing, fmt.Sprintf("  %s: %s", d.Adapter.Name, d.Reason))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Adapter.Name, installed, version, d.Adapter.Runs)
	}
	tw.Flush()
	if len(missing) > 0 {
		fmt.Printf("\nnot installed:\n%s\n", strings.Join(missing, "\n"))
	}
	return 0
}
