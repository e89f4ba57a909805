package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wsgispec/wsgispec/reports"
)

func init() {
	register("report", "render result files (from any number of hosts) as a self-contained HTML site", runReport)
}

func runReport(args []string) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: wsgispec report --in DIR --out DIR [--history DIR]\n\n"+
			"Reads every wsgispec result file (*.json from conform, matrix and bench) under --in, from any\n"+
			"number of machines, and writes index, conformance, frameworks, benchmarks and history pages\n"+
			"into --out. The pages are self-contained: they open from disk with no network.\n\nflags:\n")
		fs.PrintDefaults()
	}
	in := fs.String("in", "", "`directory` holding result files (searched recursively)")
	out := fs.String("out", "", "`directory` to write the HTML pages into (created if missing)")
	history := fs.String("history", "", "benchmark history `directory` (JSON Lines, as written by wsgispec bench --history)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(os.Stderr, "wsgispec report: unexpected argument %q\n", fs.Arg(0))
		return 2
	case *in == "" || *out == "":
		fmt.Fprintln(os.Stderr, "wsgispec report: --in and --out are both required (wsgispec report --help)")
		return 2
	}
	data, err := reports.Load(*in)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wsgispec report: %v\n", err)
		return 2
	}
	site := &reports.Site{Data: data, Generated: time.Now()}
	if *history != "" {
		if site.History, err = reports.LoadHistory(*history); err != nil {
			fmt.Fprintf(os.Stderr, "wsgispec report: %v\n", err)
			return 2
		}
	}
	if _, err := site.Render(*out); err != nil {
		fmt.Fprintf(os.Stderr, "wsgispec report: writing the pages: %v\n", err)
		return 2
	}
	index, _ := filepath.Abs(filepath.Join(*out, reports.IndexPage))
	fmt.Println(index)
	return 0
}
