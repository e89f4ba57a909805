// Package suites runs the Ginkgo suites linked into wsgispec. Ginkgo allows one RunSpecs per
// process, so the harness starts wsgispec again in a hidden mode (cmd/wsgispec's run-suite), one
// child per server, and that child calls Main: the same --ginkgo.* flags, environment and JSON
// report as a compiled `go test -c` suite binary would take, without one beside wsgispec.
package suites

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/wsgispec/wsgispec/internal/readcap"
	"github.com/wsgispec/wsgispec/specs/conformance"
	"github.com/wsgispec/wsgispec/specs/frameworks/contract"
)

// The suites by the name the harness asks for.
const (
	Conformance = "conformance"
	Frameworks  = "frameworks"
)

var runners = map[string]func(ginkgo.GinkgoTestingT) bool{
	Conformance: conformance.Run,
	Frameworks:  contract.Run,
}

// Names lists the suites, sorted.
func Names() []string {
	names := make([]string, 0, len(runners))
	for n := range runners {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// failures is the GinkgoTestingT of a run outside `go test`: it only notes that a spec failed.
type failures struct{ failed bool }

func (f *failures) Fail() { f.failed = true }

// Main runs suite name with args, Ginkgo's own flags (--ginkgo.label-filter, --ginkgo.json-report,
// --ginkgo.timeout, …), and returns the exit status a test binary would: 0 when every spec
// passed, 1 when one failed, 2 for a usage error (message on stderr).
func Main(name string, args []string, stderr io.Writer) int {
	run, ok := runners[name]
	if !ok {
		fmt.Fprintf(stderr, "no suite %q (suites: %s)\n", name, strings.Join(Names(), ", "))
		return 2
	}
	// Ginkgo binds its flags to flag.CommandLine when it is initialised, as the testing package
	// does for a test binary; parsing them here configures the run exactly as there.
	fs := flag.CommandLine
	fs.Init(os.Args[0]+" "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q (the suite takes only --ginkgo.* flags)\n", fs.Arg(0))
		return 2
	}
	readcap.KeepSmall() // whatever the server sends
	var f failures
	if !run(&f) || f.failed {
		return 1
	}
	return 0
}
