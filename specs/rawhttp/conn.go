// Package rawhttp is the HTTP/1.x client the conformance specs drive servers with. Go's
// net/http hides what the specs need to see: the exact bytes on the wire, when each of them
// arrived (deferred header sending, write() flushing), malformed or unusual requests, and whether
// a connection was really kept alive or closed. A Conn sends arbitrary bytes, logs every byte
// sent and received with its time, parses responses strictly (status line, header fields,
// Content-Length, chunked and close-delimited bodies, 1xx interim responses) and renders a
// trimmed transcript and a shell line that replays the request.
package rawhttp

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/wsgispec/wsgispec/internal/readcap"
)

// Event is one write to, or one read from, the socket; reads that complete within
// arrivalResolution of the last one are merged into it, so that a server sending a byte at a time
// costs no more to record than one sending large blocks.
type Event struct {
	Sent bool      // true for bytes the client wrote, false for bytes it read
	At   time.Time // when the write returned or the (first merged) read completed
	// Offset is the position of the event's first byte in its direction's stream, Len its bytes.
	Offset int64
	Len    int64
	// Data is the bytes, as far as the transcript keeps them: every byte sent, and received bytes
	// until keepReceived of them are kept (Data is then shorter than Len, or nil).
	Data []byte
}

// arrivalResolution is how close in time two reads must complete to be recorded as one event:
// arrival times are known to this precision, far finer than any timing a case judges.
const arrivalResolution = time.Millisecond

// keepReceived is how many received bytes a connection keeps for its transcript; the transcript
// shows a few hundred bytes of each block anyway, and beyond this only when and how much arrived
// is recorded.
const keepReceived = 1 << 20

// Conn is one client TCP connection. It is not safe for concurrent use, except EndWhenQuiet.
type Conn struct {
	Addr string
	// Limits cap what ReadResponse and Drain read; Dial and DialTLS set readcap.Defaults.
	Limits readcap.Limits
	nc     net.Conn     // tcp, or TLS over it
	tcp    *net.TCPConn // for what only TCP does (Abort's reset, the local address)
	br     *bufio.Reader
	// events is every write and read in order; received counts the bytes read from the socket
	// and consumed the bytes the response parser has taken out of the buffered reader.
	events   []Event
	sent     int64
	received int64
	consumed int64
	kept     int64 // received bytes kept in events' Data
	opened   time.Time
	// mu guards the read deadline's inputs, which EndWhenQuiet changes from another goroutine:
	// the caller's deadline, the quiet limit (0 when off), when it was set, and when the last
	// byte arrived.
	mu           sync.Mutex
	readDeadline time.Time
	quiet        time.Duration
	quietFrom    time.Time
	lastRead     time.Time
}

// ErrQuiet is the error of a read that EndWhenQuiet ended. It also matches
// os.ErrDeadlineExceeded: like a deadline, it is the client giving up waiting.
var ErrQuiet error = quietError{}

type quietError struct{}

func (quietError) Error() string        { return "the connection went quiet" }
func (quietError) Is(target error) bool { return target == os.ErrDeadlineExceeded }

// Dial opens a connection to addr ("host:port").
func Dial(addr string, timeout time.Duration) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return newConn(addr, nc, nc.(*net.TCPConn)), nil
}

// DialTLS opens a TLS connection to addr. It does not verify the server's certificate: a server
// under test often has a self-signed one, and what is judged is what it does over the
// connection, not who it is. The handshake is left to the first read or write, within that
// call's deadline, so that a TLS connection waits where a plain one does: a plain connect
// completes from the kernel's backlog while every worker of the server is busy, and the request
// waits for one; a handshake made here would need a free worker at once, and fail.
func DialTLS(addr string, timeout time.Duration) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	tc := tls.Client(nc, &tls.Config{ServerName: host, InsecureSkipVerify: true})
	return newConn(addr, tc, nc.(*net.TCPConn)), nil
}

func newConn(addr string, nc net.Conn, tcp *net.TCPConn) *Conn {
	c := &Conn{Addr: addr, Limits: readcap.Defaults, nc: nc, tcp: tcp, opened: time.Now()}
	c.br = bufio.NewReaderSize(recordingReader{c}, 64<<10)
	return c
}

// recordingReader logs every read from the socket, so that the arrival time of any received
// byte can be looked up by its offset, however the bufio layer above groups them.
type recordingReader struct{ c *Conn }

func (r recordingReader) Read(p []byte) (int, error) {
	n, err := r.c.nc.Read(p)
	now := time.Now()
	if n > 0 {
		r.c.recordRead(p[:n], now)
	}
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if n > 0 {
		r.c.lastRead = now
		if r.c.quiet > 0 {
			r.c.applyReadDeadline() // the quiet limit counts from this byte on
		}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && r.c.quiet > 0 && (r.c.readDeadline.IsZero() || now.Before(r.c.readDeadline)) {
		err = ErrQuiet // the quiet limit, not the caller's deadline, ended the read
	}
	return n, err
}

// recordRead logs a read of p completed at now: merged into the last event when that was a read
// completed within arrivalResolution, its bytes kept while the connection keeps received bytes.
func (c *Conn) recordRead(p []byte, now time.Time) {
	keep := p[:min(int64(len(p)), max(0, keepReceived-c.kept))]
	c.kept += int64(len(keep))
	if n := len(c.events); n > 0 {
		if last := &c.events[n-1]; !last.Sent && now.Sub(last.At) < arrivalResolution {
			if int64(len(last.Data)) == last.Len { // nothing dropped from it yet: still contiguous
				last.Data = append(last.Data, keep...)
			}
			last.Len += int64(len(p))
			c.received += int64(len(p))
			return
		}
	}
	c.events = append(c.events, Event{At: now, Offset: c.received, Len: int64(len(p)), Data: append([]byte(nil), keep...)})
	c.received += int64(len(p))
}

// setReadDeadline sets the deadline of the reads to come, shortened by any quiet limit.
func (c *Conn) setReadDeadline(deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline = deadline
	return c.applyReadDeadline()
}

// applyReadDeadline gives the socket the caller's deadline, or the end of the quiet limit when
// that comes first. c.mu must be held.
func (c *Conn) applyReadDeadline() error {
	deadline := c.readDeadline
	if c.quiet > 0 {
		from := c.quietFrom
		if c.lastRead.After(from) {
			from = c.lastRead
		}
		if end := from.Add(c.quiet); deadline.IsZero() || end.Before(deadline) {
			deadline = end
		}
	}
	return c.nc.SetReadDeadline(deadline)
}

// EndWhenQuiet makes reads, the one waiting now included, end with ErrQuiet once nothing has
// arrived for quiet, counted from this call or from the last byte received, whichever is later;
// the deadline given to the read still applies when it comes first. Zero turns it off. It is
// for a caller that learns, while a read waits, that the server has nothing more to produce, so
// that only bytes already on their way are worth waiting for; it may be called from another
// goroutine.
func (c *Conn) EndWhenQuiet(quiet time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.quiet, c.quietFrom = quiet, time.Now()
	return c.applyReadDeadline()
}

// Write sends p in full and returns the time the write completed.
func (c *Conn) Write(p []byte, deadline time.Time) (time.Time, error) {
	if err := c.nc.SetWriteDeadline(deadline); err != nil {
		return time.Time{}, err
	}
	if err := c.handshake(deadline); err != nil {
		return time.Time{}, err
	}
	n, err := c.nc.Write(p)
	now := time.Now()
	if n > 0 {
		c.events = append(c.events, Event{Sent: true, At: now, Offset: c.sent, Len: int64(n), Data: append([]byte(nil), p[:n]...)})
		c.sent += int64(n)
	}
	return now, err
}

// handshake completes a TLS connection's handshake (DialTLS leaves it to the first write) by
// deadline: the handshake reads the server's answer, and the read deadline may be unset.
func (c *Conn) handshake(deadline time.Time) error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok || tc.ConnectionState().HandshakeComplete {
		return nil
	}
	tc.SetReadDeadline(deadline)
	err := tc.Handshake()
	c.mu.Lock()
	c.applyReadDeadline()
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	return nil
}

// CloseWrite half-closes the connection: the server reads end of stream, the client can still
// read the response.
func (c *Conn) CloseWrite() error {
	if tc, ok := c.nc.(*tls.Conn); ok {
		return tc.CloseWrite()
	}
	return c.tcp.CloseWrite()
}

// Close closes the connection gracefully.
func (c *Conn) Close() error { return c.nc.Close() }

// Abort resets the connection (RST instead of FIN), the way a browser tab that is closed in the
// middle of a download looks to the server: its next write fails at once.
func (c *Conn) Abort() error {
	if err := c.tcp.SetLinger(0); err != nil {
		c.tcp.Close()
		return err
	}
	return c.tcp.Close()
}

// LocalAddr is the client's end of the connection, as the server sees it.
func (c *Conn) LocalAddr() *net.TCPAddr { return c.tcp.LocalAddr().(*net.TCPAddr) }

// Events returns every write and read so far.
func (c *Conn) Events() []Event { return c.events }

// Sent returns every byte written so far.
func (c *Conn) Sent() []byte {
	var out []byte
	for _, e := range c.events {
		if e.Sent {
			out = append(out, e.Data...)
		}
	}
	return out
}

// ArrivalOf returns when the received byte at stream offset off was read from the socket.
func (c *Conn) ArrivalOf(off int64) time.Time {
	for _, e := range c.events {
		if !e.Sent && off < e.Offset+e.Len {
			return e.At
		}
	}
	return time.Time{}
}

// Drain reads whatever the server sends until it closes the connection or until deadline. It
// reports the bytes (beyond any response already parsed) and whether the server closed the
// connection (end of stream or reset) before the deadline. Past Limits.Body bytes it stops with
// a *readcap.Exceeded.
func (c *Conn) Drain(deadline time.Time) (extra []byte, closed bool, err error) {
	if err := c.setReadDeadline(deadline); err != nil {
		return nil, false, err
	}
	buf := make([]byte, 32<<10)
	for {
		n, rerr := c.br.Read(buf)
		extra = append(extra, buf[:n]...)
		c.consumed += int64(n)
		if int64(len(extra)) > c.Limits.Body {
			return extra[:c.Limits.Body], false, &readcap.Exceeded{Cap: readcap.Body, Limit: c.Limits.Body}
		}
		switch {
		case rerr == nil:
			continue
		case errors.Is(rerr, io.EOF), errors.Is(rerr, syscall.ECONNRESET), errors.Is(rerr, syscall.EPIPE):
			return extra, true, nil
		case errors.Is(rerr, os.ErrDeadlineExceeded):
			return extra, false, nil
		default:
			return extra, false, rerr
		}
	}
}

// Exchange dials addr, sends req, reads one response (to a request made with method, which
// matters for HEAD) and returns the connection still open, for keep-alive checks or transcripts.
// The connection is returned whenever it was opened, even with an error.
func Exchange(addr string, req []byte, method string, deadline time.Time) (*Conn, *Response, error) {
	c, err := Dial(addr, time.Until(deadline))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	if _, err := c.Write(req, deadline); err != nil {
		return c, nil, fmt.Errorf("send request: %w", err)
	}
	resp, err := c.ReadResponse(method, deadline)
	return c, resp, err
}
