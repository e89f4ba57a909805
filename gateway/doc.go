// Package gateway is wsgispec's reference WSGI server: Go's net/http in front, CPython embedded
// through github.com/go-python/cpy3 behind, a supervisor with worker processes.
//
// It is the only package that needs cgo, and every other file of it is built only with cgo and
// the build tag "gateway" (`go build -tags gateway`, which the Makefile passes with the compiler
// flags that make cpy3 v0.2.0 build against Python 3.11). Without them, as under a plain
// `go install` or CGO_ENABLED=0, the package is this file alone and wsgispec has no `serve`.
package gateway
