package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/wsgispec/wsgispec/bench"
)

func init() {
	register("compare", "regression check of two bench result files (exit 0 none, 1 regression, 2 unusable input)", runCompare)
}

const compareUsage = `usage: wsgispec compare BASE.json NEW.json [--threshold PCT] [--markdown F]

Compares two wsgispec bench --json files per server and scenario. NEW regresses when a
Mann-Whitney U test over the rounds gives p < 0.05 AND its median req/s fell, or its median server
CPU µs per request rose, by more than the threshold. Figures are taken as ratios to the same
round's reference server when both files measured it (cancelling the machine's drift), and the
raw figure must have moved the same way at p < 0.05 too (so that the reference's own noise is
no regression). Files with too few rounds for any change ever to reach p < 0.05 (fewer than
4 a side; --quick runs 3) are refused, exit 2: a gate on them could never fail. For a CI gate use
--rounds 8 on both sides (bench's default is 5).
Exit 0: no regression; 1: a regression; 2: unusable input or too few rounds.

flags:
`

func runCompare(args []string) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), compareUsage)
		fs.PrintDefaults()
	}
	threshold := fs.String("threshold", strconv.Itoa(int(100*bench.DefaultThreshold)), "smallest median change, in `percent`, that counts as a regression")
	markdown := fs.String("markdown", "", "also write the comparison as Markdown to `file`")
	// Flags may come before, between or after the two files.
	var files []string
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	fail := failer("compare")
	if len(files) != 2 {
		return fail("expected two files, BASE.json and NEW.json; got %d (see --help)", len(files))
	}
	pct, err := strconv.ParseFloat(strings.TrimSuffix(*threshold, "%"), 64)
	if err != nil || pct < 0 || pct >= 100 {
		return fail("--threshold %q is not a percentage between 0 and 100", *threshold)
	}
	base, err := bench.ReadFile(files[0])
	if err != nil {
		return fail("%v", err)
	}
	next, err := bench.ReadFile(files[1])
	if err != nil {
		return fail("%v", err)
	}
	res, err := bench.Compare(base, next, pct/100)
	if err != nil {
		return fail("%s vs %s: %v", files[0], files[1], err)
	}
	bench.WriteCompareTable(os.Stdout, res)
	if *markdown != "" {
		if err := writeFileWith(*markdown, func(f *os.File) error { return bench.WriteCompareMarkdown(f, res) }); err != nil {
			return fail("--markdown: %v", err)
		}
	}
	fmt.Println(bench.VerdictLine(res))
	if res.Regressions() > 0 {
		return 1
	}
	return 0
}
