//go:build cgo && gateway

package gateway

import (
	"bytes"
	"net"
	"sync/atomic"
)

// A request that carries both Transfer-Encoding and Content-Length may be read one way by a
// proxy in front and the other way here, so that a second request hidden in its body reaches the
// app (request smuggling). net/http reads such a request by Transfer-Encoding alone, as RFC 9112
// §6.1 allows, but removes Content-Length before the handler can see it, and keeps the connection
// open, which the RFC forbids. countingConn counts the Content-Length header lines that pass on
// the raw connection; the handler compares that with the Content-Length headers it has been
// shown, and refuses a chunked request whose own Content-Length net/http hid.
//
// The count errs only towards refusing: a body that happens to contain a line starting with
// "Content-Length:" can make a later chunked request on the same connection look suspicious;
// it then gets a 400 and a closed connection, never a smuggled answer.
type countingConn struct {
	net.Conn
	seen atomic.Int64 // Content-Length lines read from the client so far
	used int64        // of those, how many belonged to requests the handler accounted for
	tail []byte       // the end of the previous read, for a line split across two reads
}

var contentLengthLine = []byte("\ncontent-length:")

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

func (c *countingConn) scan(b []byte) {
	if len(c.tail) > 0 {
		// Only lines that start in the tail: those starting in b are counted below.
		probe := append(c.tail, b[:min(len(b), len(contentLengthLine)-1)]...)
		c.count(probe)
	}
	c.count(b)
	keep := min(len(b), len(contentLengthLine)-1)
	c.tail = append(c.tail[:0], b[len(b)-keep:]...)
}

func (c *countingConn) count(b []byte) {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 || len(b)-i < len(contentLengthLine) {
			return
		}
		if bytes.EqualFold(b[i:i+len(contentLengthLine)], contentLengthLine) {
			c.seen.Add(1)
		}
		b = b[i+1:]
	}
}

// smuggled reports whether a request carried a Content-Length that net/http did not show:
// declared is how many Content-Length values the request kept (0 or 1), chunked whether it came
// with Transfer-Encoding.
func (c *countingConn) smuggled(declared int, chunked bool) bool {
	c.used += int64(declared)
	return chunked && c.seen.Load() > c.used
}

// countingListener hands out countingConns.
type countingListener struct {
	net.Listener
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c}, nil
}
