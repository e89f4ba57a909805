//go:build cgo && gateway

package gateway

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Balance between workers. The kernel gives a new connection to whichever worker reaches
// accept first, and a worker that is already running wins that race against one that has to be
// woken: a burst of connections (a client pool opening its keep-alive connections at once) lands
// on one worker, which then serves them all with one interpreter while the others idle.
//
// So the workers publish, in memory the supervisor shares with all of them, how many connections
// each has open and whether it is accepting; a worker that has more open connections than the
// least loaded of the accepting ones leaves the next connection to them (heldListener). Nothing
// is woken when these change: a deferring worker looks again when a connection arrives, which
// the poller tells it, and only then waits a moment (boardGrace, cut short through a futex on
// the same memory when another worker takes the connection).
//
// Layout: one cache line per field group, so that workers do not fight over lines. Line 0 holds
// the generation (bumped by every change, the futex word) and the number of waiters; line i+1
// is slot i: open connections and the accepting flag.

const (
	boardLine = 64
	// boardGrace is how long a connection may wait for the worker it was left to: past it, the
	// worker that left it takes it, in case the other is stuck without having said so.
	boardGrace = 2 * time.Millisecond
	// crowdSlack is how many more connections than another worker a worker keeps before it
	// starts closing keep-alive connections (see crowded); a few, so that the workers do not
	// pass connections back and forth.
	crowdSlack = 2
)

// A Scoreboard is one worker's view of the shared memory: all slots, and which one is its own.
type Scoreboard struct {
	mem  []byte
	self int
}

// newScoreboard maps slots slots of fresh shared memory. The file is a memfd, inherited by the
// workers; anonymous shared memory would not survive their exec.
func newScoreboard(slots int) (*Scoreboard, *os.File, error) {
	fd, err := unix.MemfdCreate("wsgispec-scoreboard", unix.MFD_CLOEXEC) // ForkExec passes it on as fd 5
	if err != nil {
		return nil, nil, fmt.Errorf("scoreboard: %w", err)
	}
	f := os.NewFile(uintptr(fd), "scoreboard")
	if err := f.Truncate(int64(boardLine * (slots + 1))); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("scoreboard: %w", err)
	}
	b, err := mapScoreboard(f, -1)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return b, f, nil
}

// mapScoreboard maps the shared memory in f as slot self's view.
func mapScoreboard(f *os.File, self int) (*Scoreboard, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("scoreboard: %w", err)
	}
	size := int(st.Size())
	if size < 2*boardLine || size%boardLine != 0 || self >= size/boardLine-1 {
		return nil, fmt.Errorf("scoreboard: %d bytes cannot hold slot %d", size, self)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("scoreboard: %w", err)
	}
	return &Scoreboard{mem: mem, self: self}, nil
}

// soloScoreboard is the board of a server that is the only one on its socket.
func soloScoreboard() *Scoreboard {
	mem, err := unix.Mmap(-1, 0, 2*boardLine, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		// Without memory to share the server still runs: Go memory serves one process as well.
		mem = make([]byte, 2*boardLine)
	}
	return &Scoreboard{mem: mem, self: 0}
}

func (b *Scoreboard) int32At(off int) *int32 { return (*int32)(unsafe.Pointer(&b.mem[off])) }
func (b *Scoreboard) generation() *uint32    { return (*uint32)(unsafe.Pointer(&b.mem[0])) }
func (b *Scoreboard) waiters() *int32        { return b.int32At(4) }
func (b *Scoreboard) slots() int             { return len(b.mem)/boardLine - 1 }
func (b *Scoreboard) open(slot int) *int32   { return b.int32At(boardLine * (slot + 1)) }
func (b *Scoreboard) accepting(slot int) *int32 {
	return b.int32At(boardLine*(slot+1) + 4)
}

// addOpen counts a connection opened (+1) or closed (-1) by this worker.
func (b *Scoreboard) addOpen(delta int32) {
	atomic.AddInt32(b.open(b.self), delta)
	b.changed()
}

// setAccepting says whether this worker takes new connections now.
func (b *Scoreboard) setAccepting(on bool) {
	v := int32(0)
	if on {
		v = 1
	}
	if atomic.SwapInt32(b.accepting(b.self), v) != v {
		b.changed()
	}
}

// clear forgets a slot whose worker has exited (the supervisor's side).
func (b *Scoreboard) clear(slot int) {
	atomic.StoreInt32(b.accepting(slot), 0)
	atomic.StoreInt32(b.open(slot), 0)
	b.changed()
}

// leastLoaded reports whether no accepting worker has fewer open connections than this one.
func (b *Scoreboard) leastLoaded() bool {
	fewest, ok := b.fewestElsewhere()
	return !ok || atomic.LoadInt32(b.open(b.self)) <= fewest
}

// crowded reports whether this worker has more than crowdSlack connections above an accepting
// worker. It then closes a keep-alive connection after its response: the client's next
// connection goes to the less loaded worker. Accepting alone cannot fix such an imbalance, which
// keep-alive connections keep: they were opened before the other worker was up (at start, or
// while it was restarted), or in a burst before any was counted.
func (b *Scoreboard) crowded() bool {
	fewest, ok := b.fewestElsewhere()
	return ok && atomic.LoadInt32(b.open(b.self)) > fewest+crowdSlack
}

// fewestElsewhere is the fewest open connections of any other accepting worker; ok is false
// when no other worker is accepting.
func (b *Scoreboard) fewestElsewhere() (fewest int32, ok bool) {
	for i := range b.slots() {
		if i == b.self || atomic.LoadInt32(b.accepting(i)) == 0 {
			continue
		}
		if n := atomic.LoadInt32(b.open(i)); !ok || n < fewest {
			fewest, ok = n, true
		}
	}
	return fewest, ok
}

// changed bumps the generation and wakes the workers waiting for a change.
func (b *Scoreboard) changed() {
	atomic.AddUint32(b.generation(), 1)
	if atomic.LoadInt32(b.waiters()) > 0 {
		futex(b.generation(), futexWake, 1<<30, nil)
	}
}

// await sleeps until the generation moves on from seen, or for at most d.
func (b *Scoreboard) await(seen uint32, d time.Duration) {
	atomic.AddInt32(b.waiters(), 1)
	ts := unix.NsecToTimespec(d.Nanoseconds())
	futex(b.generation(), futexWait, seen, &ts) // returns at once if it moved already
	atomic.AddInt32(b.waiters(), -1)
}

// The futex operations, shared between processes (no FUTEX_PRIVATE_FLAG); x/sys does not name them.
const (
	futexWait = 0
	futexWake = 1
)

func futex(addr *uint32, op int, val uint32, ts *unix.Timespec) {
	syscall.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), uintptr(op), uintptr(val),
		uintptr(unsafe.Pointer(ts)), 0, 0)
}
