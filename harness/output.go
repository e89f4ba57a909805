package harness

import (
	"fmt"
	"sync"
)

// output keeps what a child process printed, within a fixed memory bound: the first hl bytes
// (where a server states its version, config and start-up errors) and the last tl bytes (where it explains why it died), counting what was dropped between them. A server that
// floods its output costs CPU to drain but never memory.
type output struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte // a ring buffer once full
	tailPos int    // where the next byte goes (the oldest byte) once full
	full    bool   // tail holds tl bytes: each new byte overwrites the oldest
	dropped int64
	hl, tl  int
}

// Default bounds of a process's captured output.
const (
	headLimit = 8 << 10
	tailLimit = 64 << 10
)

// newOutput returns an empty buffer keeping at most head+tail bytes (the tail at least
// one byte).
func newOutput(head, tail int) *output {
	return &output{hl: max(head, 0), tl: max(tail, 1)}
}

// Write never fails, so a child's output pipe is always drained.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(p)
	if room := o.hl - len(o.head); room > 0 {
		k := min(room, len(p))
		o.head = append(o.head, p[:k]...)
		p = p[k:]
	}
	if !o.full {
		k := min(o.tl-len(o.tail), len(p))
		o.tail = append(o.tail, p[:k]...)
		p = p[k:]
		o.full = len(o.tail) == o.tl
	}
	if len(p) == 0 {
		return n, nil
	}
	if len(p) > o.tl { // only the last tl bytes of p can survive
		o.dropped += int64(len(p) - o.tl)
		p = p[len(p)-o.tl:]
	}
	for len(p) > 0 { // each byte copied into the ring overwrites one older byte
		k := copy(o.tail[o.tailPos:], p)
		o.dropped += int64(k)
		o.tailPos = (o.tailPos + k) % o.tl
		p = p[k:]
	}
	return n, nil
}

// String returns the head, a note of how many bytes were dropped, and the tail.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := string(o.head)
	if o.dropped > 0 {
		s += fmt.Sprintf("\n[… %d bytes of output omitted …]\n", o.dropped)
	}
	if o.full {
		return s + string(o.tail[o.tailPos:]) + string(o.tail[:o.tailPos])
	}
	return s + string(o.tail)
}

// Tail returns about the last n bytes, starting at a line boundary when there is one: what an
// error message quotes from a process that failed.
func (o *output) Tail(n int) string {
	s := o.String()
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for i := 0; i < len(s) && i < 200; i++ {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}
