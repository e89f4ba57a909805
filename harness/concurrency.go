package harness

import (
	"fmt"
	"runtime"
)

// EnvConcurrency passes a server's declared concurrency model to the conformance suite, which
// judges wsgi.multithread, wsgi.multiprocess and wsgi.run_once against it in both directions.
const EnvConcurrency = "WSGISPEC_CONCURRENCY"

// Concurrency is how a server configured as its adapter configures it runs the application:
// what the three wsgi.* flags should say. It is the adapter's declaration (its command line
// fixes workers and threads), not a measurement: the measured cases (environ.*-truthful) can
// only catch a flag that says false while requests overlap.
type Concurrency struct {
	Multithread  bool // several threads of one process may call the application at once
	Multiprocess bool // several processes may
	RunOnce      bool // each process is expected to serve one request (CGI)
}

// Env is the model in EnvConcurrency's form.
func (c Concurrency) Env() string {
	return fmt.Sprintf("multithread=%t,multiprocess=%t,run_once=%t", c.Multithread, c.Multiprocess, c.RunOnce)
}

// withConcurrency sets an adapter's declared model.
func withConcurrency(a *Adapter, c Concurrency) *Adapter {
	a.Concurrency = &c
	return a
}

// gatewayConcurrency is `wsgispec serve` with its defaults: --threads 4 per worker, and one
// worker per core (so a one-core machine has a single process).
func gatewayConcurrency() Concurrency {
	return Concurrency{Multithread: true, Multiprocess: runtime.NumCPU() > 1}
}
