package gateway

import (
	"errors"
	"net"
	"net/http"
	"os"
	"time"
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

// heldListener makes Accept wait while the server holds a full load. An Accept already
// waiting in the kernel when the load becomes full is interrupted through the listener's
// deadline (see kickAccept).
type heldListener struct {
	net.Listener
	s *Server
}

// deadlineListener is a listener whose blocked Accept a deadline interrupts (TCP and Unix).
type deadlineListener interface {
	SetDeadline(time.Time) error
}

func (l heldListener) Accept() (net.Conn, error) {
	s := l.s
	for {
		for s.full() {
			select {
			case <-s.unheld:
			case <-s.stopAccepting:
				return nil, net.ErrClosed
			}
		}
		if s.acceptDeadline != nil {
			s.acceptDeadline.SetDeadline(time.Time{})
			if s.full() { // filled again before the deadline was cleared: its kick is lost
				continue
			}
		}
		c, err := l.Listener.Accept()
		if s.acceptDeadline != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			continue // kicked: the load became full while waiting
		}
		return c, err
	}
}

func (s *Server) full() bool { return s.held.Load() >= int32(cap(s.threads)) }

// countHeld follows a connection from one state to the next (called by trackConn, with connMu).
func (s *Server) countHeld(from, to http.ConnState) {
	switch wasHeld, isHeld := holds(from), holds(to); {
	case isHeld && !wasHeld:
		if s.held.Add(1) == int32(cap(s.threads)) {
			s.kickAccept()
		}
	case wasHeld && !isHeld:
		// Wake an Accept waiting for room when this makes some.
		if s.held.Add(-1) == int32(cap(s.threads))-1 {
			select {
			case s.unheld <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
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
