// Package version holds the build's identity, stamped by the Makefile with -ldflags -X.
package version

// Version is the wsgispec release; "dev" when built without the Makefile.
var Version = "0.1.0-dev"

// Commit is the git commit the binary was built from, empty when unknown.
var Commit = ""
