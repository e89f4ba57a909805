package harness

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestOutputKeepsHeadAndTailWithinItsBound(t *testing.T) {
	const head, tail = 100, 1000
	var all bytes.Buffer
	for i := 0; all.Len() < 1<<20; i++ {
		fmt.Fprintf(&all, "line %d\n", i)
	}
	in := all.Bytes()
	// Writes of many sizes, smaller and larger than the ring, exercise every path of Write.
	for _, chunk := range []int{1, 7, 999, 1000, 1001, 4096, len(in)} {
		o := newOutput(head, tail)
		for p := in; len(p) > 0; {
			k := min(chunk, len(p))
			if n, err := o.Write(p[:k]); n != k || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			p = p[k:]
		}
		got := o.String()
		note := fmt.Sprintf("\n[… %d bytes of output omitted …]\n", len(in)-head-tail)
		want := string(in[:head]) + note + string(in[len(in)-tail:])
		if got != want {
			t.Errorf("chunk %d: String() is %d bytes, want %d: head, a note of %d dropped bytes, tail", chunk, len(got), len(want), len(in)-head-tail)
		}
	}
}

func TestOutputShortOutputIsKeptWhole(t *testing.T) {
	o := newOutput(10, 100)
	o.Write([]byte("short output\n"))
	if got := o.String(); got != "short output\n" {
		t.Errorf("String() = %q", got)
	}
}

func TestOutputTailStartsAtALine(t *testing.T) {
	o := newOutput(0, 1000)
	o.Write([]byte(strings.Repeat("first\n", 10) + "Traceback (most recent call last):\nValueError: boom\n"))
	got := o.Tail(55)
	if got != "Traceback (most recent call last):\nValueError: boom\n" {
		t.Errorf("Tail(55) = %q, want the last whole lines", got)
	}
}
