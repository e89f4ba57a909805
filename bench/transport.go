package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsgispec/wsgispec/internal/readcap"
)

// keepAliveTransport is the load generator's http.RoundTripper: plain HTTP/1.1 over a bounded
// pool of keep-alive connections per host, each request written and its response read on the
// calling goroutine.
//
// It exists because the client's CPU time distorts what the bench measures. On 2 cores the
// client shares the machine with the server, and a server's CPU per request rises as its
// request rate falls (more of its requests find it asleep, to be woken). Through net/http's
// Transport (a reader and a writer goroutine per connection with hand-offs to the caller, a
// timer goroutine per request for http.Client.Timeout, a header map per response) vegeta needed
// up to twice the CPU per request it needs through this transport, drove uWSGI at about half
// wrk's rate, and reported uWSGI's CPU per request a third or more above what wrk's load shows.
//
// What it leaves out, the bench does not use: TLS, proxies, HTTP/2, compression, redirects
// (http.Client follows none, as Response.Header stays nil: no Location), trailers and response
// headers (read for framing only, not kept), chunked request bodies (a body is read whole and
// sent with Content-Length).
//
// What it reads of a response is capped (limits): a response past a cap is an error of that
// request naming the cap, as a timeout is.
type keepAliveTransport struct {
	maxConnsPerHost int
	limits          readcap.Limits
	// timeout bounds each request from taking a connection to reading the last byte of the
	// response. It is enforced here, with one deadline on the connection, rather than by
	// http.Client.Timeout, which for a RoundTripper it does not know starts a goroutine and a
	// timer per request.
	timeout time.Duration

	mu    sync.Mutex
	hosts map[string]*hostPool // by host:port
	stats transportStats
}

// newKeepAliveTransport returns a transport that keeps at most maxConnsPerHost (at least 1)
// connections open to each host; requests beyond them wait for a connection to be free.
func newKeepAliveTransport(maxConnsPerHost int, timeout time.Duration, limits readcap.Limits) *keepAliveTransport {
	return &keepAliveTransport{maxConnsPerHost: max(1, maxConnsPerHost), timeout: timeout, limits: limits, hosts: map[string]*hostPool{}}
}

// readBufferSize is each connection's read buffer. vegeta reads bodies through io.Discard, 8 KiB
// at a time; with a larger buffer, a large body (the stream scenario's 1 MiB) takes an eighth of
// the read system calls, which roughly halves the client's CPU per request there.
const readBufferSize = 64 << 10

// readBuffers holds the read buffers of closed connections for new ones: against a server that
// closes every connection (gunicorn's sync workers), a fresh 64 KiB per request would cost more
// than the buffer saves.
var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// hostPool is the connections to one host. Every open connection holds a slot, so that
// the slots bound the open connections; a connection with no request on it waits in idle,
// which has room for all of them.
type hostPool struct {
	addr   string
	limits readcap.Limits
	slots  chan struct{}
	idle   chan *clientConn
}

// clientConn is one connection with its buffers, reused from request to request.
type clientConn struct {
	net.Conn
	pool    *hostPool
	r       *bufio.Reader
	request []byte       // the request as written: head and body, for one write
	body    bytes.Buffer // the request body as read from http.Request.Body
	status  string       // the last status line's "200 OK", reused while it repeats
	reused  bool         // it has served a request before: the server may have closed it since
}

var (
	errClosedBeforeResponse = errors.New("the server closed the connection before answering")
	errBodyClosed           = errors.New("read on a closed response body")
	// pastDeadline makes every pending read and write on a connection fail at once.
	pastDeadline = time.Unix(1, 0)
)

// RoundTrip sends req and returns the response with its status; the body is read from the
// connection as the caller reads it. A request the server dropped on a kept-alive connection
// without answering is sent again on a new connection if it can be (no body, idempotent
// method), as net/http does: the server closing an idle connection is no failure of the request.
func (t *keepAliveTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		closeRequestBody(req)
		return nil, fmt.Errorf("bench client: %s: only plain http is supported", req.URL)
	}
	ctx := req.Context()
	start := time.Now()
	deadline := start.Add(t.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	pool := t.pool(req.URL)
	replayable := (req.Body == nil || req.Body == http.NoBody) &&
		(req.Method == http.MethodGet || req.Method == http.MethodHead)
	for {
		c, err := pool.get(ctx, deadline)
		if err != nil {
			closeRequestBody(req)
			return nil, err
		}
		resp, err := c.roundTrip(req, deadline)
		if err == nil {
			t.stats.waited(time.Since(start)) // the head has arrived: its first byte, a little before
			return resp, nil
		}
		if !(replayable && c.reused && errors.Is(err, errClosedBeforeResponse)) {
			return nil, err
		}
	}
}

// CloseIdleConnections closes the connections no request is using (http.Client's method of the
// same name calls it).
func (t *keepAliveTransport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.hosts {
		p.closeIdle()
	}
}

func (t *keepAliveTransport) pool(u *url.URL) *hostPool {
	addr := hostPort(u)
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.hosts[addr]
	if p == nil {
		p = newHostPool(addr, t.maxConnsPerHost, t.limits)
		t.hosts[addr] = p
	}
	return p
}

// hostPort is the URL's host:port, port 80 when it names none.
func hostPort(u *url.URL) string {
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return u.Host
}

func newHostPool(addr string, maxConns int, limits readcap.Limits) *hostPool {
	return &hostPool{addr: addr, limits: limits, slots: make(chan struct{}, maxConns), idle: make(chan *clientConn, maxConns)}
}

// transportStats is counted until take resets it: the longest a request waited for the first
// byte of its answer.
type transportStats struct {
	longestWait atomic.Int64 // nanoseconds
}

func (s *transportStats) waited(d time.Duration) {
	for {
		old := s.longestWait.Load()
		if int64(d) <= old || s.longestWait.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// take returns the longest wait since the last take and starts counting anew.
func (s *transportStats) take() time.Duration { return time.Duration(s.longestWait.Swap(0)) }

// get returns an idle connection, else a new one while the pool has room, else the first
// connection another request frees; it gives up at the deadline or when ctx is done.
func (p *hostPool) get(ctx context.Context, deadline time.Time) (*clientConn, error) {
	select {
	case c := <-p.idle:
		return c, nil
	default:
	}
	select {
	case p.slots <- struct{}{}:
		return p.dial(ctx, deadline)
	default:
	}
	// Every connection is in use: the request queues here, not in the server's listen backlog.
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()
	select {
	case c := <-p.idle:
		return c, nil
	case p.slots <- struct{}{}:
		return p.dial(ctx, deadline)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-wait.C:
		return nil, fmt.Errorf("no connection to %s became free within the request timeout", p.addr)
	}
}

func (p *hostPool) closeIdle() {
	for {
		select {
		case c := <-p.idle:
			c.close()
		default:
			return
		}
	}
}

// dial opens a connection in a slot already taken.
func (p *hostPool) dial(ctx context.Context, deadline time.Time) (*clientConn, error) {
	// No TCP keep-alive probes: the connections are to a local server, and each would cost
	// system calls per connection, which servers without keep-alive make one per request.
	d := net.Dialer{Deadline: deadline, KeepAlive: -1}
	nc, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		<-p.slots
		return nil, err
	}
	r := readBuffers.Get().(*bufio.Reader)
	r.Reset(nc)
	return &clientConn{Conn: nc, pool: p, r: r}, nil
}

// release returns the connection to the pool for the next request.
func (c *clientConn) release() {
	c.reused = true
	c.pool.idle <- c // never blocks: idle has room for every open connection
}

// close closes the connection and frees its slot and read buffer.
func (c *clientConn) close() {
	c.Conn.Close()
	c.r.Reset(nil)
	readBuffers.Put(c.r)
	c.r = nil
	<-c.pool.slots
}

// roundTrip writes req and reads the response's head. On an error the connection is closed.
func (c *clientConn) roundTrip(req *http.Request, deadline time.Time) (*http.Response, error) {
	ctx := req.Context()
	// A cancelled context ends the exchange by putting the deadline in the past. Vegeta's
	// requests carry a context that is never done, which costs nothing here.
	stopCancel := func() bool { return true }
	if ctx.Done() != nil {
		stopCancel = context.AfterFunc(ctx, func() { c.SetDeadline(pastDeadline) })
	}
	fail := func(err error) (*http.Response, error) {
		stopCancel()
		c.close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return nil, err
	}
	if err := c.SetDeadline(deadline); err != nil {
		closeRequestBody(req)
		return fail(err)
	}
	if err := c.writeRequest(req); err != nil {
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
			err = fmt.Errorf("%w: %v", errClosedBeforeResponse, err)
		}
		return fail(err)
	}
	resp, framing, err := c.readResponseHead(req)
	if err != nil {
		return fail(err)
	}
	if framing.length == 0 {
		resp.Body = http.NoBody
		if !stopCancel() || !framing.keepAlive {
			c.close()
		} else {
			c.release()
		}
		return resp, nil
	}
	b := &responseBody{c: c, framing: framing, stopCancel: stopCancel, ctx: ctx, limit: c.pool.limits.Body}
	if framing.chunked {
		b.chunks = httputil.NewChunkedReader(c.r)
	}
	resp.Body = b
	return resp, nil
}

// writeRequest writes req (and closes its body) in a single write.
func (c *clientConn) writeRequest(req *http.Request) error {
	c.body.Reset()
	if req.Body != nil && req.Body != http.NoBody {
		_, err := c.body.ReadFrom(req.Body)
		req.Body.Close()
		if err != nil {
			return fmt.Errorf("reading the request body: %w", err)
		}
		if req.ContentLength > 0 && int64(c.body.Len()) != req.ContentLength {
			return fmt.Errorf("request body of %d bytes, but ContentLength %d", c.body.Len(), req.ContentLength)
		}
	}
	if len(req.TransferEncoding) > 0 {
		return fmt.Errorf("request Transfer-Encoding %v: the bench client sends bodies with Content-Length only", req.TransferEncoding)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	w := append(c.request[:0], req.Method...)
	w = append(w, ' ')
	w = append(w, req.URL.RequestURI()...)
	w = append(w, " HTTP/1.1\r\nHost: "...)
	w = append(w, host...)
	w = append(w, "\r\n"...)
	for name, values := range req.Header {
		if !validHeaderName(name) {
			return fmt.Errorf("invalid request header name %q", name)
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("invalid value of request header %s: %q", name, v)
			}
			w = append(append(append(append(w, name...), ": "...), v...), "\r\n"...)
		}
	}
	// Like net/http: an empty body is announced only by the methods that usually carry one.
	if c.body.Len() > 0 || req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
		w = append(w, "Content-Length: "...)
		w = strconv.AppendInt(w, int64(c.body.Len()), 10)
		w = append(w, "\r\n"...)
	}
	if req.Close {
		w = append(w, "Connection: close\r\n"...)
	}
	w = append(w, "\r\n"...)
	w = append(w, c.body.Bytes()...)
	c.request = w
	_, err := c.Write(w)
	return err
}

func validHeaderName(name string) bool {
	return name != "" && !strings.ContainsAny(name, ":\r\n\x00 \t")
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// bodyFraming is how a response's body ends (RFC 9112 section 6.3) and whether the connection
// serves another request after it.
type bodyFraming struct {
	length    int64 // bytes of body; -1 when chunked or delimited by the connection's close
	chunked   bool
	keepAlive bool
}

// readResponseHead reads the status line and header section of the response to req, skipping
// interim (1xx) responses. Headers are parsed for the body's framing and the connection's
// persistence only.
func (c *clientConn) readResponseHead(req *http.Request) (*http.Response, bodyFraming, error) {
	limits := c.pool.limits
	for first := true; ; first = false {
		line, err := c.r.ReadSlice('\n')
		switch {
		case len(line) > limits.StatusLine || (err == bufio.ErrBufferFull && limits.StatusLine < readBufferSize):
			return nil, bodyFraming{}, &readcap.Exceeded{Cap: readcap.StatusLine, Limit: int64(limits.StatusLine)}
		case err == nil:
		case first && len(line) == 0 && (err == io.EOF || errors.Is(err, syscall.ECONNRESET)):
			return nil, bodyFraming{}, errClosedBeforeResponse
		default:
			return nil, bodyFraming{}, fmt.Errorf("reading the status line: %w", headError(err))
		}
		resp, err := c.parseStatusLine(line)
		if err != nil {
			return nil, bodyFraming{}, err
		}
		resp.Request = req
		framing, err := c.readHeaders(resp, limits.Head-len(line))
		if err != nil {
			return nil, bodyFraming{}, err
		}
		switch {
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return nil, bodyFraming{}, errors.New("the server switched protocols, which the bench client never asks for")
		case resp.StatusCode < 200:
			continue // an interim response; the final one follows
		case req.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified:
			framing.length, framing.chunked = 0, false
		case framing.length < 0 && !framing.chunked:
			framing.keepAlive = false // the body ends when the server closes the connection
		}
		resp.ContentLength = framing.length
		resp.Close = !framing.keepAlive
		return resp, framing, nil
	}
}

// headError is err from reading a line of a response's head or trailers: the connection ended
// in the middle of it, or the line did not fit the read buffer.
func headError(err error) error {
	switch err {
	case io.EOF:
		return io.ErrUnexpectedEOF
	case bufio.ErrBufferFull:
		return errors.New("line too long")
	}
	return err
}

// parseStatusLine parses "HTTP/1.x NNN reason".
func (c *clientConn) parseStatusLine(line []byte) (*http.Response, error) {
	text := bytes.TrimRight(line, "\r\n")
	if len(text) < len("HTTP/1.x NNN") || !bytes.HasPrefix(text, []byte("HTTP/1.")) ||
		(text[7] != '0' && text[7] != '1') || text[8] != ' ' || (len(text) > 12 && text[12] != ' ') {
		return nil, fmt.Errorf("malformed status line %.100q", line)
	}
	code := 0
	for _, d := range text[9:12] {
		if d < '0' || d > '9' {
			return nil, fmt.Errorf("malformed status code in %.100q", line)
		}
		code = code*10 + int(d-'0')
	}
	if status := bytes.TrimSpace(text[9:]); string(status) != c.status {
		c.status = string(status)
	}
	resp := &http.Response{Status: c.status, StatusCode: code, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	if text[7] == '0' {
		resp.Proto, resp.ProtoMinor = "HTTP/1.0", 0
	}
	return resp, nil
}

// readHeaders reads the header section up to its empty line, at most room bytes and the
// limits' fields, and returns the framing its Content-Length, Transfer-Encoding and Connection
// fields give.
func (c *clientConn) readHeaders(resp *http.Response, room int) (bodyFraming, error) {
	f := bodyFraming{length: -1, keepAlive: resp.ProtoMinor == 1}
	var transferEncoding bool
	for fields := 0; ; fields++ {
		line, err := c.r.ReadSlice('\n')
		if room -= len(line); room < 0 || err == bufio.ErrBufferFull {
			return f, &readcap.Exceeded{Cap: readcap.Head, Limit: int64(c.pool.limits.Head)}
		}
		if err != nil {
			return f, fmt.Errorf("reading the response headers: %w", headError(err))
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if fields == c.pool.limits.Fields {
			return f, &readcap.Exceeded{Cap: readcap.Fields, Limit: int64(c.pool.limits.Fields)}
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return f, fmt.Errorf("malformed response header line %.100q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, ok := parseContentLength(value)
			if !ok || (f.length >= 0 && n != f.length) {
				return f, fmt.Errorf("invalid or conflicting Content-Length %q", value)
			}
			f.length = n
		case asciiEqualFold(name, "Transfer-Encoding"):
			transferEncoding = true
			// Chunked must be the last coding, or the body runs until the connection closes.
			codings := bytes.Split(value, []byte(","))
			f.chunked = asciiEqualFold(bytes.TrimSpace(codings[len(codings)-1]), "chunked")
		case asciiEqualFold(name, "Connection"):
			for token := range bytes.SplitSeq(value, []byte(",")) {
				token = bytes.TrimSpace(token)
				switch {
				case asciiEqualFold(token, "close"):
					f.keepAlive = false
				case asciiEqualFold(token, "keep-alive") && resp.ProtoMinor == 0:
					f.keepAlive = true
				}
			}
		}
	}
	if transferEncoding {
		// Transfer-Encoding overrides Content-Length; a response with both may be an attempt
		// at response splitting, so its connection is not reused (RFC 9112 section 6.3).
		if f.length >= 0 {
			f.keepAlive = false
		}
		f.length = -1
	}
	return f, nil
}

// parseContentLength parses a Content-Length value: decimal digits only (no sign, no spaces).
func parseContentLength(value []byte) (int64, bool) {
	if len(value) == 0 || len(value) > 18 {
		return 0, false
	}
	var n int64
	for _, d := range value {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// responseBody reads one response's body off its connection and, once the last byte is read,
// returns the connection to the pool (or closes it, if the response does not let it be reused).
type responseBody struct {
	c          *clientConn
	framing    bodyFraming
	chunks     io.Reader // the chunked decoder, when framing.chunked
	read       int64     // bytes read, against framing.length and limit
	limit      int64     // the most body bytes read (readcap.Limits.Body)
	stopCancel func() bool
	ctx        context.Context
	err        error // once set, the connection is no longer this body's
}

func (b *responseBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	var n int
	var err error
	// One byte past the cap is read, to tell a body that ends at it from one that goes on.
	if room := b.limit + 1 - b.read; int64(len(p)) > room {
		p = p[:room]
	}
	switch {
	case b.framing.chunked:
		n, err = b.chunks.Read(p)
		b.read += int64(n)
		if err == io.EOF {
			err = b.skipTrailers()
		}
	case b.framing.length >= 0:
		if rest := b.framing.length - b.read; int64(len(p)) > rest {
			p = p[:rest]
		}
		n, err = b.c.r.Read(p)
		b.read += int64(n)
		switch {
		case b.read == b.framing.length:
			err = io.EOF
		case err == io.EOF:
			err = fmt.Errorf("the connection closed after %d of the body's %d bytes: %w", b.read, b.framing.length, io.ErrUnexpectedEOF)
		}
	default:
		n, err = b.c.r.Read(p)
		b.read += int64(n)
	}
	if b.read > b.limit {
		n, err = n-int(b.read-b.limit), &readcap.Exceeded{Cap: readcap.Body, Limit: b.limit}
	}
	if err != nil {
		b.finish(err)
	}
	return n, b.err
}

// skipTrailers reads the trailer section after the last chunk, up to its empty line; it returns
// io.EOF when the body ended well.
func (b *responseBody) skipTrailers() error {
	room := b.c.pool.limits.Head
	for {
		line, err := b.c.r.ReadSlice('\n')
		switch {
		case len(line) > room || err == bufio.ErrBufferFull:
			return &readcap.Exceeded{Cap: "trailer section", Limit: int64(b.c.pool.limits.Head)}
		case err != nil:
			return fmt.Errorf("reading the response trailers: %w", headError(err))
		case len(bytes.TrimRight(line, "\r\n")) == 0:
			return io.EOF
		}
		room -= len(line)
	}
}

// finish ends the body with err (io.EOF when it was read whole): its connection goes back to
// the pool if the response allows it, and is closed otherwise.
func (b *responseBody) finish(err error) {
	b.err = err
	cancelled := !b.stopCancel()
	if err == io.EOF && b.framing.keepAlive && !cancelled {
		b.c.release()
		return
	}
	b.c.close()
	if ctxErr := b.ctx.Err(); ctxErr != nil && err != io.EOF {
		b.err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
}

// Close closes the connection unless the body was read to its end: the rest of it is not
// wanted, and reading it to reuse the connection could take as long as the server likes.
func (b *responseBody) Close() error {
	if b.err == nil {
		b.finish(errBodyClosed)
	}
	return nil
}
