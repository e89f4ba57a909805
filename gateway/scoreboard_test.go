//go:build cgo && gateway

package gateway

import (
	"sync/atomic"
	"testing"
	"time"
)

// boardViews maps one fresh scoreboard as each of n workers would see it.
func boardViews(t *testing.T, n int) []*Scoreboard {
	t.Helper()
	_, f, err := newScoreboard(n)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	views := make([]*Scoreboard, n)
	for i := range views {
		if views[i], err = mapScoreboard(f, i); err != nil {
			t.Fatal(err)
		}
	}
	return views
}

func TestScoreboardLeastLoadedIgnoresWorkersNotAccepting(t *testing.T) {
	b := boardViews(t, 3)
	b[0].setAccepting(true)
	b[1].setAccepting(true)
	b[0].addOpen(2)
	b[1].addOpen(1)
	b[2].addOpen(0) // slot 2 never accepts: a worker stopped, or full
	cases := []struct {
		view int
		want bool
	}{{0, false}, {1, true}, {2, true}} // 1 despite slot 2 having fewer: 2 is not accepting
	for _, c := range cases {
		if got := b[c.view].leastLoaded(); got != c.want {
			t.Errorf("worker %d (open %d): leastLoaded expected %v, got %v", c.view, atomic.LoadInt32(b[c.view].open(c.view)), c.want, got)
		}
	}
	b[1].setAccepting(false) // worker 1 full: worker 0 may take connections again
	if !b[0].leastLoaded() {
		t.Error("worker 0: expected leastLoaded once the only less loaded worker stopped accepting")
	}
	b[0].clear(1)
	if got := atomic.LoadInt32(b[0].open(1)); got != 0 {
		t.Errorf("a cleared slot: expected 0 open, got %d", got)
	}
}

func TestScoreboardAwaitWakesOnChange(t *testing.T) {
	b := boardViews(t, 2)
	seen := atomic.LoadUint32(b[0].generation())
	go func() {
		time.Sleep(20 * time.Millisecond)
		b[1].addOpen(1)
	}()
	start := time.Now()
	b[0].await(seen, 10*time.Second)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("await: expected to wake when another worker opened a connection, slept %s", d)
	}
	seen = atomic.LoadUint32(b[0].generation())
	start = time.Now()
	b[0].await(seen, 30*time.Millisecond)
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("await with nothing changing: expected to sleep out its 30ms, returned after %s", d)
	}
}

func TestScoreboardCrowdedOnlyPastTheSlack(t *testing.T) {
	b := boardViews(t, 2)
	b[1].setAccepting(true)
	b[1].addOpen(1)
	for open, want := range []bool{false, false, false, false, true, true} {
		if got := b[0].crowded(); got != want {
			t.Errorf("%d open here, 1 on the other accepting worker: crowded expected %v, got %v", open, want, got)
		}
		b[0].addOpen(1)
	}
	b[1].setAccepting(false) // a full worker takes nothing: shedding toward it would not help
	if b[0].crowded() {
		t.Error("the only other worker is not accepting: expected not crowded")
	}
}
