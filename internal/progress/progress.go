// Package progress shows how far a long run has got, one row per server: units done of the
// total, failures so far, time elapsed and an estimate of the time left. On a terminal the rows
// are live lines redrawn in place; elsewhere (a CI log) each row is printed as a plain line at
// most every few seconds, and once when it finishes.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Board is the set of rows of one command.
type Board struct {
	w    io.Writer
	live bool
	// every is how often a plain board prints a row that changed.
	every time.Duration

	mu    sync.Mutex
	rows  []*Row
	drawn int // lines of the last live draw, to move back over
	stop  chan struct{}
	done  chan struct{}
}

// Redraw and plain-line intervals.
const (
	liveEvery  = 250 * time.Millisecond
	PlainEvery = 5 * time.Second
	liveWidth  = 110
)

// New returns a board writing to w: live lines when live (w is a terminal), else plain lines.
func New(w io.Writer, live bool) *Board {
	b := &Board{w: w, live: live, every: PlainEvery, stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

// Row is one server's line.
type Row struct {
	b        *Board
	name     string
	unit     string
	total    int
	started  time.Time
	done     int
	failures int
	note     string
	finished bool
	ended    time.Time // when it finished: its elapsed time stops there
	// printed is when a plain board last printed the row, and changed whether it changed since.
	printed time.Time
	changed bool
}

// Add adds a row for name with total units (cases, rounds, pairs) to do.
func (b *Board) Add(name string, total int, unit string) *Row {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &Row{b: b, name: name, unit: unit, total: total}
	b.rows = append(b.rows, r)
	return r
}

// Total is the units the row was added with.
func (r *Row) Total() int { return r.total }

// Start starts the row's clock, if it has not started.
func (r *Row) Start() {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	if r.started.IsZero() {
		r.started = time.Now()
		r.changed = true
	}
}

// Note sets what the row is doing now ("starting the server", the last round's figures).
func (r *Row) Note(format string, args ...any) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.note = fmt.Sprintf(format, args...)
	r.changed = true
}

// Set records units done and failures so far.
func (r *Row) Set(done, failures int) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	if done != r.done || failures != r.failures {
		r.done, r.failures, r.changed = done, failures, true
	}
}

// Finish ends the row with a summary, printed at once.
func (r *Row) Finish(format string, args ...any) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.finished, r.ended = true, time.Now()
	r.note = fmt.Sprintf(format, args...)
	r.changed = true
	if !r.b.live {
		r.b.printLocked(r)
	}
}

// Close draws the last state and stops the board.
func (b *Board) Close() {
	close(b.stop)
	<-b.done
}

func (b *Board) loop() {
	defer close(b.done)
	every := b.every
	if b.live {
		every = liveEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			b.tick()
			return
		case <-t.C:
			b.tick()
		}
	}
}

func (b *Board) tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.live {
		b.drawLocked()
		return
	}
	for _, r := range b.rows {
		if r.changed && !r.finished && !r.started.IsZero() {
			b.printLocked(r)
		}
	}
}

func (b *Board) printLocked(r *Row) {
	fmt.Fprintln(b.w, r.line(time.Now()))
	r.printed, r.changed = time.Now(), false
}

// drawLocked redraws every row in place: up over the last draw, each line cleared and written.
func (b *Board) drawLocked() {
	var s strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&s, "\x1b[%dA", b.drawn)
	}
	now := time.Now()
	for _, r := range b.rows {
		line := r.line(now)
		if len(line) > liveWidth { // a wrapped line would break moving back over the rows
			line = line[:liveWidth-1] + "…"
		}
		s.WriteString("\r\x1b[2K")
		s.WriteString(line)
		s.WriteByte('\n')
	}
	b.drawn = len(b.rows)
	io.WriteString(b.w, s.String())
}

// line is the row as text: "gunicorn  42/97 cases, 2 failed, 0:12 elapsed, ~0:16 left: note".
func (r *Row) line(now time.Time) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%-18s %3d/%d %s", r.name, r.done, r.total, r.unit)
	if r.failures > 0 {
		fmt.Fprintf(&s, ", %d failed", r.failures)
	}
	if r.finished {
		now = r.ended
	}
	if !r.started.IsZero() {
		elapsed := now.Sub(r.started)
		fmt.Fprintf(&s, ", %s elapsed", clock(elapsed))
		if !r.finished && r.done > 0 && r.done < r.total {
			left := time.Duration(float64(elapsed) / float64(r.done) * float64(r.total-r.done))
			fmt.Fprintf(&s, ", ~%s left", clock(left))
		}
	} else {
		s.WriteString(", waiting")
	}
	if r.note != "" {
		s.WriteString(": ")
		s.WriteString(r.note)
	}
	return s.String()
}

// clock renders d as m:ss.
func clock(d time.Duration) string {
	sec := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", sec/60, sec%60)
}
