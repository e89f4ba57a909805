// Package procstat reads process accounting from /proc: the CPU time, peak memory and context
// switches of a process group, which is how a server's whole tree of workers is measured.
package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FS reads process accounting from a /proc-like directory: System in use, a fake tree in tests.
type FS string

// System is the running kernel's /proc.
const System FS = "/proc"

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ, 100 on every Linux
// architecture (the kernel converts to it for userspace whatever its internal HZ).
const clockTick = 10 * time.Millisecond

// GroupCPU is the CPU time (user + system) each live process of process group pgid has used
// since it started, by PID. Summing the difference of two snapshots gives the group's CPU over
// the window between them, across every worker a server forked.
func (p FS) GroupCPU(pgid int) (map[int]time.Duration, error) {
	entries, err := os.ReadDir(string(p))
	if err != nil {
		return nil, fmt.Errorf("reading process accounting: %w", err)
	}
	out := map[int]time.Duration{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(string(p), e.Name(), "stat"))
		if err != nil {
			continue // exited while we looked
		}
		group, cpu, ok := parseStat(b)
		if ok && group == pgid {
			out[pid] = cpu
		}
	}
	return out, nil
}

// parseStat reads the process group and utime + stime from a /proc/PID/stat line. The fields
// are counted after the command name, which is parenthesised and may itself hold spaces or ')'.
func parseStat(stat []byte) (pgid int, cpu time.Duration, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	// After ")": state(3) ppid(4) pgrp(5) ... utime(14) stime(15), numbered as in proc(5).
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 || f[0] == "Z" || f[0] == "X" {
		return 0, 0, false
	}
	pgid, err1 := strconv.Atoi(f[2])
	utime, err2 := strconv.ParseInt(f[11], 10, 64)
	stime, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return pgid, time.Duration(utime+stime) * clockTick, true
}

// CPUBetween is the CPU time the group used between two snapshots. A process that appeared in
// between counts in full (it did all its work in the window); one that exited in between is lost,
// which the caller notes when the PIDs differ.
func CPUBetween(before, after map[int]time.Duration) time.Duration {
	var sum time.Duration
	for pid, t := range after {
		sum += t - before[pid]
	}
	return sum
}

// PeakRSS is the sum of the processes' peak resident set sizes (VmHWM) in bytes: an upper bound
// on the group's peak, since the workers need not peak at the same moment.
func (p FS) PeakRSS(pids map[int]time.Duration) int64 {
	var sum int64
	for pid := range pids {
		f, err := os.Open(filepath.Join(string(p), strconv.Itoa(pid), "status"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
					sum += kb << 10
				}
				break
			}
		}
		f.Close()
	}
	return sum
}

// Switches counts context switches: voluntary (the thread blocked: a read, a lock, a sleep) and
// involuntary (the scheduler took the CPU from it).
type Switches struct {
	Voluntary, Involuntary int64
}

// Total is both kinds.
func (s Switches) Total() int64 { return s.Voluntary + s.Involuntary }

// ThreadSwitches is the context switches of every thread of the processes pids (the keys of a
// GroupCPU snapshot) so far, by thread ID: the kernel counts them per thread
// (/proc/PID/task/TID/status), and a server's switches are spread over its workers' threads.
func (p FS) ThreadSwitches(pids map[int]time.Duration) map[int]Switches {
	out := map[int]Switches{}
	for pid := range pids {
		tasks, err := os.ReadDir(filepath.Join(string(p), strconv.Itoa(pid), "task"))
		if err != nil {
			continue // exited while we looked
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join(string(p), strconv.Itoa(pid), "task", t.Name(), "status"))
			if err == nil {
				out[tid] = parseSwitches(b)
			}
		}
	}
	return out
}

func parseSwitches(status []byte) Switches {
	var s Switches
	for _, line := range strings.Split(string(status), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		switch {
		case err != nil:
		case name == "voluntary_ctxt_switches":
			s.Voluntary = n
		case name == "nonvoluntary_ctxt_switches":
			s.Involuntary = n
		}
	}
	return s
}

// SwitchesBetween is the context switches between two snapshots: a thread that appeared in
// between counts in full; one that exited in between is lost, like CPUBetween's processes.
func SwitchesBetween(before, after map[int]Switches) Switches {
	var sum Switches
	for tid, s := range after {
		sum.Voluntary += s.Voluntary - before[tid].Voluntary
		sum.Involuntary += s.Involuntary - before[tid].Involuntary
	}
	return sum
}
