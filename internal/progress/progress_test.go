package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRowLine(t *testing.T) {
	b := &Board{}
	r := &Row{b: b, name: "gunicorn", unit: "cases", total: 100, done: 25, failures: 2, note: "started"}
	r.started = time.Now().Add(-30 * time.Second)
	got := r.line(r.started.Add(30 * time.Second))
	want := "gunicorn            25/100 cases, 2 failed, 0:30 elapsed, ~1:30 left: started"
	if got != want {
		t.Errorf("line %q, want %q", got, want)
	}
}

func TestPlainBoardPrintsOnFinishAndAtTicks(t *testing.T) {
	var out bytes.Buffer
	b := New(&out, false)
	r := b.Add("waitress", 10, "cases")
	r.Start()
	for i := 1; i <= 10; i++ {
		r.Set(i, 0) // many changes between ticks: no line each
	}
	r.Finish("done")
	b.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "10/10 cases") || !strings.HasSuffix(lines[0], ": done") {
		t.Errorf("plain output %q, want one finishing line", out.String())
	}
}

func TestLiveBoardRedrawsInPlace(t *testing.T) {
	var out bytes.Buffer
	b := New(&out, true)
	b.Add("a", 2, "rounds").Start()
	b.Add("b", 2, "rounds")
	time.Sleep(3 * liveEvery)
	b.Close()
	if !strings.Contains(out.String(), "\x1b[2A") || !strings.Contains(out.String(), "0/2 rounds, waiting") {
		t.Errorf("live output %q: want rows redrawn in place", out.String())
	}
}
