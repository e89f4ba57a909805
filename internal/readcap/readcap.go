// Package readcap bounds what wsgispec's HTTP clients read from a server under test. The server
// may be hostile, or just broken: an endless body, headers without end, garbage instead of a
// status line. Each client (the conformance specs' raw client, the framework matrix's client,
// the bench transport) stops at these caps and reports a response past one as an *Exceeded
// naming the cap, so that wsgispec stays small whatever a server sends.
package readcap

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

// Limits are the caps on one response. The defaults are well above anything the probe or the
// framework apps send (the probe's largest body is 16 MiB, its largest header section a few KiB).
type Limits struct {
	StatusLine int   // bytes of the status line, CRLF included
	Head       int   // bytes of the status line and header section together
	Fields     int   // header fields (and, separately, trailer fields)
	Body       int64 // bytes of body, after chunked decoding
}

// Defaults are the caps a client uses unless told otherwise.
var Defaults = Limits{StatusLine: 8 << 10, Head: 256 << 10, Fields: 1000, Body: 32 << 20}

// Names of the caps, as Exceeded reports them.
const (
	StatusLine = "status line"
	Head       = "header section"
	Fields     = "header fields"
	Body       = "body"
)

// Exceeded is a response that went past a cap: the client stopped reading it there.
type Exceeded struct {
	Cap   string // one of the names above, or another part of a response ("chunk size line")
	Limit int64
}

func (e *Exceeded) Error() string {
	if strings.HasSuffix(e.Cap, "fields") {
		return fmt.Sprintf("response has more than %d %s (the client's cap)", e.Limit, e.Cap)
	}
	return fmt.Sprintf("response %s longer than %s (the client's cap)", e.Cap, Size(e.Limit))
}

// ErrExceeded matches every *Exceeded with errors.Is.
var ErrExceeded = errors.New("response past a read cap")

func (e *Exceeded) Is(target error) bool { return target == ErrExceeded }

// Size renders a byte count for messages: "64 MiB", "8 KiB", "1000 bytes".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// softMemoryLimit is the heap size past which the Go runtime collects garbage eagerly in a
// process that reads servers' responses (the spec suites): a response at the body cap is then
// collected soon after it is judged, instead of the heap doubling past it first.
const softMemoryLimit = 128 << 20

// KeepSmall sets the process's soft memory limit to softMemoryLimit, unless GOMEMLIMIT sets one.
func KeepSmall() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
}
