//go:build cgo && gateway

package gateway

/*
#include "wsgi.h"
*/
import "C"

import (
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// workerTimerSlack is the timer slack a worker's Go runtime threads get; chiefly it paces the
// runtime's system monitor (sysmon).
//
// Why: every call into Python is a cgo call, and sysmon, which wakes every 20 µs while the
// process is busy, takes the processor away from a cgo call that has run past one of its ticks
// and wakes another thread to use it; the call's thread must then wait to get a processor back.
// A Flask request lasts a few hundred µs, so with the kernel's default slack (50 µs) nearly every
// request paid those wake-ups: 5.6 context switches per request where uWSGI needs 1.3 (wrk -c2 on
// gateway/testdata/flaskread). A slack of 1 ms lets sysmon sleep about that long, so a call is
// taken over only once it has run for a millisecond or so: 1.5 context switches per request and
// a third less CPU (the README's wrk comparison has the figures). sysmon's other duties (preempting a goroutine that
// ran 10 ms, polling the network when nothing else does) keep their meaning at that pace.
//
// The slack is inherited: the supervisor sets it on the thread that forks a worker, so that every
// thread of the worker, sysmon included, starts with it. Threads give their app the slack the
// supervisor had (wsgi_enter sets it on each thread before it first runs Python), so an app's
// own sleeps and timeouts are as precise as under any other server; only the Go runtime's timers
// (--timeout's watchdog, connection deadlines) may fire up to workerTimerSlack late.
const workerTimerSlack = 1_000_000 // nanoseconds

// envAppTimerSlack carries the supervisor's own timer slack to its workers, for their Python
// threads.
const envAppTimerSlack = "WSGISPEC_GATEWAY_APP_TIMERSLACK_NS"

// forkWithTimerSlack runs fork (which must fork from the calling thread, as syscall.ForkExec
// does) with the calling thread's timer slack set to workerTimerSlack, and restores it after. It
// returns the slack the thread had, for the worker's Python threads.
func forkWithTimerSlack(fork func(appSlack int) error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	slack, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return fork(0) // no timer slack here: the worker runs as it would without it
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, workerTimerSlack, 0, 0, 0); err != nil {
		return fork(0)
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0)
	return fork(slack)
}

// setAppTimerSlack tells the C side, in a worker, which timer slack the threads that run
// Python get (0: leave them as they are).
func setAppTimerSlack() {
	if ns, err := strconv.ParseInt(os.Getenv(envAppTimerSlack), 10, 64); err == nil && ns > 0 {
		C.wsgi_app_timer_slack = C.long(ns)
	}
}
