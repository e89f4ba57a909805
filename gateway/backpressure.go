//go:build cgo && gateway

package gateway

import (
	"errors"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Back-pressure between workers. Workers share one listening socket, and the kernel hands a
// new connection to whichever worker is first in accept. A worker whose threads are all taken
// would only park such a connection until a thread frees, while another worker may be idle. So
// a worker stops accepting while it holds as many requests as it has threads; the connection
// stays queued in the kernel for a worker that can serve it now.
//
// A request is held from when net/http has read it to when its response is done: while its
// connection is active. A connection that has not sent a whole request yet is not held, or a
// few slow clients would stop a worker from accepting; nor is a keep-alive connection waiting
// for its next request.

// heldListener makes Accept wait while the server holds a full load, and leave a new
// connection to another worker that has fewer open (scoreboard.go). An Accept already waiting
// in the kernel when the load becomes full is interrupted through the listener's deadline (see
// kickAccept).
type heldListener struct {
	net.Listener
	s     *Server
	watch *acceptWatch // nil when the socket has no descriptor to duplicate
}

// acceptWatch is a duplicate of the listening socket's descriptor, whose raw Read waits in the
// poller for a connection to arrive without taking it: net's own listener refuses raw reads.
type acceptWatch struct {
	file *os.File
	raw  syscall.RawConn
}

// Close closes the socket and the duplicate, which ends a wait in leftPending.
func (l heldListener) Close() error {
	if l.watch != nil {
		l.watch.file.Close()
	}
	return l.Listener.Close()
}

// deadlineListener is a listener whose blocked Accept a deadline interrupts (TCP and Unix).
type deadlineListener interface {
	SetDeadline(time.Time) error
}

func (l heldListener) Accept() (net.Conn, error) {
	s := l.s
	for {
		if s.full() {
			select {
			case <-s.unheld:
			case <-s.stopAccepting:
				return nil, net.ErrClosed
			}
			continue
		}
		if s.draining.Load() {
			return nil, net.ErrClosed
		}
		if s.acceptDeadline != nil {
			s.acceptDeadline.SetDeadline(time.Time{})
			if s.full() { // filled again before the deadline was cleared: its kick is lost
				continue
			}
		}
		if !s.board.leastLoaded() && !l.leftPending() {
			continue
		}
		c, err := l.Listener.Accept()
		if s.acceptDeadline != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			continue // kicked: the load became full while waiting
		}
		return c, err
	}
}

// leftPending is Accept's wait while a less loaded worker should take the next connection. It
// sleeps in the poller until a connection arrives, then reports true (take it) as soon as this
// worker is the least loaded again (the others took their share of a burst), or when the
// connection is still queued after boardGrace (the others are full, or not answering). It
// reports false, for Accept to look again, when the connection was taken by another worker, this
// one filled up, or the wait was interrupted (the listener closed).
func (l heldListener) leftPending() bool {
	if l.watch == nil {
		return true // no way to wait without accepting: take it
	}
	rc := l.watch.raw
	if rc.Read(pendingNow) != nil {
		return false
	}
	s := l.s
	deadline := time.Now().Add(boardGrace)
	for {
		seen := atomic.LoadUint32(s.board.generation())
		if s.full() {
			return false
		}
		if s.board.leastLoaded() {
			return true
		}
		pending := false
		rc.Control(func(fd uintptr) { pending = pendingNow(fd) })
		left := time.Until(deadline)
		if !pending || left <= 0 {
			return pending
		}
		s.board.await(seen, left) // woken early when another worker takes a connection
	}
}

// watchListener makes the acceptWatch of ln; nil when ln has no descriptor.
func watchListener(ln net.Listener) *acceptWatch {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	dup := -1
	rc.Control(func(fd uintptr) { dup, err = unix.Dup(int(fd)) })
	if err != nil || dup < 0 {
		return nil
	}
	unix.CloseOnExec(dup)
	file := os.NewFile(uintptr(dup), "listener (watched)") // non-blocking, as the socket is: polled
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil
	}
	return &acceptWatch{file: file, raw: raw}
}

// pendingNow reports whether a connection waits in the accept queue of the listening socket
// fd. As a RawConn.Read function, false makes the poller wait for one to arrive.
func pendingNow(fd uintptr) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}

func (s *Server) full() bool { return s.held.Load() >= int32(cap(s.threads)) }

// countConn follows a connection from one state to the next, counting requests held and
// connections open (called by trackConn, with connMu).
func (s *Server) countConn(from, to http.ConnState) {
	switch wasHeld, isHeld := holds(from), holds(to); {
	case isHeld && !wasHeld:
		if s.held.Add(1) == int32(cap(s.threads)) {
			s.board.setAccepting(false)
			s.kickAccept()
		}
	case wasHeld && !isHeld:
		if s.held.Add(-1) == int32(cap(s.threads))-1 && !s.draining.Load() {
			s.board.setAccepting(true)
			select {
			case s.unheld <- struct{}{}: // wakes an Accept waiting for room
			default: // a wake-up is already pending
			}
		}
	}
	switch {
	case to == http.StateNew: // reported once, as the connection is accepted
		s.board.addOpen(1)
	case to == http.StateClosed || to == http.StateHijacked:
		s.board.addOpen(-1)
	}
}

// kickAccept interrupts an Accept waiting in the kernel, which would otherwise take the next
// connection although the load is now full.
func (s *Server) kickAccept() {
	if s.acceptDeadline != nil {
		s.acceptDeadline.SetDeadline(time.Unix(1, 0))
	}
}

func holds(st http.ConnState) bool { return st == http.StateActive }
