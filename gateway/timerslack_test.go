//go:build cgo && gateway

package gateway

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestForkWithTimerSlack: a process forked inside forkWithTimerSlack starts with
// workerTimerSlack and is told the forking thread's own slack, which the thread has again after.
func TestForkWithTimerSlack(t *testing.T) {
	runtime.LockOSThread() // so that the slack read after is the forking thread's
	defer runtime.UnlockOSThread()
	if own, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); err != nil {
		t.Skipf("this system has no timer slack to read (%v): workers run without one", err)
	} else if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(own), 0, 0, 0); err != nil {
		t.Skipf("this system does not let a thread set its timer slack (%v): workers run without one", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var told int
	err = forkWithTimerSlack(func(appSlack int) error {
		told = appSlack
		pid, err := syscall.ForkExec("/bin/cat", []string{"cat", "/proc/self/timerslack_ns"},
			&syscall.ProcAttr{Files: []uintptr{0, w.Fd(), 2}})
		if err == nil {
			var ws syscall.WaitStatus
			_, err = syscall.Wait4(pid, &ws, 0, nil)
		}
		return err
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	child, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || child != workerTimerSlack {
		t.Errorf("the forked process has timer slack %q, want %d", out, workerTimerSlack)
	}
	after, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if told != after || told == workerTimerSlack {
		t.Errorf("the fork was told its app slack is %d ns; the forking thread's own is %d ns", told, after)
	}
}
