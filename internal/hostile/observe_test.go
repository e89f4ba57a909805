package hostile

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// observed is one wsgispec run watched from outside.
type observed struct {
	code           int
	stdout, stderr string
	wall           time.Duration
	// peakKB is the largest VmHWM (/proc/PID/status) seen of the run's process or any process it
	// started, the hostile server aside, and peakOf names that process.
	peakKB int64
	peakOf string
	// maxRSSKB is getrusage's ru_maxrss of the run: the largest RSS of its process and of every
	// process it waited for (the server included), exact where polling could miss a short peak.
	maxRSSKB int64
	err      error
}

// pollEvery is how often the run's processes are read; VmHWM is a high-water mark, so only a
// process that peaks and exits within this interval could be missed (ru_maxrss catches those).
const pollEvery = 20 * time.Millisecond

// observe runs argv with its memory watched, within timeout.
func observe(argv []string, timeout time.Duration) observed {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	var o observed
	if err := cmd.Start(); err != nil {
		o.err = err
		return o
	}
	done := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		for {
			for _, pid := range descendants(cmd.Process.Pid) {
				if args := cmdline(pid); len(args) > 1 && args[1] == "hostile-serve" {
					continue
				}
				if kb := vmHWM(pid); kb > o.peakKB {
					o.peakKB, o.peakOf = kb, strings.Join(cmdline(pid)[:min(2, len(cmdline(pid)))], " ")
				}
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-polled
	o.wall = time.Since(began)
	o.stdout, o.stderr = stdout.String(), stderr.String()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
	default:
		o.err = err
	}
	o.code = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		o.maxRSSKB = ru.Maxrss
	}
	return o
}

// descendants is root and every process below it, from /proc.
func descendants(root int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 {
			if ppid, err := strconv.Atoi(fields[1]); err == nil {
				children[ppid] = append(children[ppid], pid)
			}
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

func cmdline(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// vmHWM is the process's peak resident set in KiB, 0 when it cannot be read (it has exited).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// tagged is the processes whose command line holds tag as a word.
func tagged(tag string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		for _, a := range cmdline(pid) {
			if a == tag {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}
