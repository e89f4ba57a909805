package main

import (
	"fmt"
	"os"

	"github.com/wsgispec/wsgispec/harness"
	"github.com/wsgispec/wsgispec/specs/suites"
)

func init() {
	register(harness.RunSuiteCommand, "internal: run a linked Ginkgo suite (what conform and matrix start, one per server)", runSuite)
}

func runSuite(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(os.Stderr, "usage: wsgispec %s SUITE [--ginkgo.* flags]\n\nSuites: %v. conform and matrix run these themselves; the target comes from\n%s and the other WSGISPEC_* variables.\n",
			harness.RunSuiteCommand, suites.Names(), harness.EnvTarget)
		return 2
	}
	return suites.Main(args[0], args[1:], os.Stderr)
}
