package procstat

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func writeProc(t *testing.T, root string, pid int, stat, status string) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644)
	os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644)
}

// stat builds a /proc/PID/stat line with the given command, state, group and ticks.
func stat(pid int, comm, state string, pgid, utime, stime int) string {
	return strconv.Itoa(pid) + " (" + comm + ") " + state + " 1 " + strconv.Itoa(pgid) +
		" 0 0 0 0 0 0 0 0 " + strconv.Itoa(utime) + " " + strconv.Itoa(stime) + " 0 0 20 0 1 0 100 0 0\n"
}

func TestGroupCPUFromFakeProc(t *testing.T) {
	root := t.TempDir()
	proc := FS(root)
	writeProc(t, root, 100, stat(100, "gunicorn: master", "S", 100, 5, 5), "Name:\tgunicorn\nVmHWM:\t   20000 kB\n")
	writeProc(t, root, 101, stat(101, "weird) name (", "R", 100, 100, 20), "VmHWM:\t   30000 kB\n")
	writeProc(t, root, 102, stat(102, "zombie", "Z", 100, 999, 999), "")
	writeProc(t, root, 200, stat(200, "other", "R", 200, 500, 500), "VmHWM:\t 1 kB\n")
	before, err := proc.GroupCPU(100)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 2 || before[101] != 1200*time.Millisecond {
		t.Fatalf("group 100 = %v, want pids 100 and 101 (not the zombie, not group 200), 101 at 120 ticks = 1.2s", before)
	}
	// A window: the master idles, the worker uses 3 s, a new worker 0.5 s.
	writeProc(t, root, 101, stat(101, "weird) name (", "R", 100, 350, 70), "VmHWM:\t   30000 kB\n")
	writeProc(t, root, 103, stat(103, "worker", "S", 100, 40, 10), "VmHWM:\t   10000 kB\n")
	after, _ := proc.GroupCPU(100)
	if got := CPUBetween(before, after); got != 3500*time.Millisecond {
		t.Errorf("CPU over the window = %v, want 3.5s", got)
	}
	if got := proc.PeakRSS(after); got != 60000<<10 {
		t.Errorf("peak RSS = %d bytes, want the sum of VmHWM, %d", got, 60000<<10)
	}
}

// TestGroupCPUOfRealChild accounts a real process group: a Python process and the child it forks
// each burn 0.3 s of CPU, say so, and stay alive to be measured.
func TestGroupCPUOfRealChild(t *testing.T) {
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skip("no " + python)
	}
	const burn = `
import os, sys, time
os.fork()
start = time.process_time()
while time.process_time() - start < 0.3:
    pass
print("done", flush=True)
time.sleep(30)
`
	cmd := exec.Command(python, "-c", burn)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}()
	lines := bufio.NewScanner(out)
	for i := 0; i < 2; i++ {
		if !lines.Scan() {
			t.Fatalf("the burners ended before both said done: %v", lines.Err())
		}
	}
	after, err := System.GroupCPU(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// From no snapshot: each process's whole life, 0.3 s of loop plus the interpreter's start.
	// /proc counts whole 10 ms ticks in utime and stime apiece, so each process may show up to
	// 20 ms less than it used.
	got := CPUBetween(map[int]time.Duration{}, after)
	if len(after) != 2 || got < 550*time.Millisecond || got > 1500*time.Millisecond {
		t.Errorf("group CPU of two processes burning 0.3 s each = %v over %d processes, want 0.55-1.5 s over 2", got, len(after))
	}
}

func writeTask(t *testing.T, root string, pid, tid int, voluntary, involuntary int) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(pid), "task", strconv.Itoa(tid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	status := "Name:\tw\nvoluntary_ctxt_switches:\t" + strconv.Itoa(voluntary) + "\nnonvoluntary_ctxt_switches:\t" + strconv.Itoa(involuntary) + "\n"
	os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644)
}

// TestSwitchesOverEveryThread sums the context switches of every thread of every process of
// the group over a window, a thread that started within it in full.
func TestSwitchesOverEveryThread(t *testing.T) {
	root := t.TempDir()
	proc := FS(root)
	pids := map[int]time.Duration{100: 0, 101: 0}
	writeTask(t, root, 100, 100, 10, 1)
	writeTask(t, root, 101, 101, 20, 2)
	writeTask(t, root, 101, 105, 30, 3)
	before := proc.ThreadSwitches(pids)
	writeTask(t, root, 101, 101, 120, 12) // +100 +10
	writeTask(t, root, 101, 105, 35, 3)   // +5
	writeTask(t, root, 101, 106, 7, 1)    // new: +7 +1
	got := SwitchesBetween(before, proc.ThreadSwitches(pids))
	if got != (Switches{Voluntary: 112, Involuntary: 11}) || got.Total() != 123 {
		t.Errorf("switches over the window = %+v, want 112 voluntary and 11 involuntary", got)
	}
}

// TestThreadSwitchesOfThisProcess reads the real /proc: a sleeping thread switches voluntarily.
func TestThreadSwitchesOfThisProcess(t *testing.T) {
	self := map[int]time.Duration{os.Getpid(): 0}
	before := System.ThreadSwitches(self)
	for range 5 {
		time.Sleep(time.Millisecond)
	}
	if got := SwitchesBetween(before, System.ThreadSwitches(self)); got.Voluntary < 5 {
		t.Errorf("5 sleeps counted %+v voluntary switches, want at least 5", got)
	}
}
