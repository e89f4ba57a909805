package main

import (
	"flag"
	"strings"

	"github.com/wsgispec/wsgispec/harness"
)

// passEnvFlag is --pass-env: the variables of wsgispec's environment the servers under test get
// beside the base ones (PATH, HOME, LANG, LC_ALL, TMPDIR). A bad name is a usage error (exit 2).
type passEnvFlag []string

func (p *passEnvFlag) String() string { return strings.Join(*p, ",") }

func (p *passEnvFlag) Set(s string) error {
	names, err := harness.ParsePassEnv(s)
	*p = append(*p, names...)
	return err
}

// addPassEnvFlag defines --pass-env on fs (addEnvFlags: conform, matrix and bench).
func addPassEnvFlag(fs *flag.FlagSet) *passEnvFlag {
	p := &passEnvFlag{}
	fs.Var(p, "pass-env", "give the servers these `variables` of wsgispec's environment, comma-separated (they otherwise get only PATH, HOME, LANG, LC_ALL and TMPDIR)")
	return p
}
