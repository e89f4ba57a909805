package rawhttp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsgispec/wsgispec/internal/readcap"
)

// ErrMalformed marks a response that breaks HTTP/1.1 message syntax (RFC 9112).
var ErrMalformed = errors.New("malformed response")

// maxPieces bounds the pieces recorded of one body; later bytes extend the last piece, so that a
// server sending endless one-byte chunks costs a bounded record.
const maxPieces = 1 << 16

// Framing says how a response's body was delimited (RFC 9112 section 6.3).
type Framing string

const (
	NoBody         Framing = "no body" // HEAD, 1xx, 204, 304
	ContentLength  Framing = "content-length"
	Chunked        Framing = "chunked"
	CloseDelimited Framing = "close-delimited"
)

// Field is one header field as received.
type Field struct{ Name, Value string }

// Header is a header section in the order received.
type Header []Field

// Get returns the first value of the named field (case-insensitive) or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns every value of the named field, in order.
func (h Header) Values(name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// Has reports whether the named field is present.
func (h Header) Has(name string) bool { return h.Values(name) != nil }

// Piece is a part of the body as it arrived: one chunk of a chunked body, or what one read
// returned of any other body (after maxPieces pieces, the last one holds the rest).
type Piece struct {
	At   time.Time // arrival of the piece's first byte
	Data []byte    // a slice of the Response's Body
	// start is Data's index in the body and offset its first byte's stream offset, for
	// ArrivalOfBody; n is its length while the body is read.
	start, n int
	offset   int64
}

// Response is one parsed response.
type Response struct {
	StatusLine string
	Proto      string // "HTTP/1.1"
	Status     int
	Reason     string
	Header     Header
	Trailer    Header
	// Interim holds the 1xx responses that preceded this one (e.g. 100 Continue).
	Interim []*Response
	Framing Framing
	Body    []byte
	Pieces  []Piece
	// Complete is true when the body ended as its framing says: Content-Length bytes read, the
	// last chunk and trailer section read, or end of stream for a close-delimited body.
	Complete bool
	Start    time.Time // arrival of the status line's first byte
	HeadAt   time.Time // arrival of the header section's last byte
	// EndAt is when the client knew the body had ended: the arrival of its last byte, or for a
	// close-delimited body the moment the end of stream was read.
	EndAt time.Time
	conn  *Conn
}

// ArrivalOfBody returns when the body byte at index i was read from the socket.
func (r *Response) ArrivalOfBody(i int) time.Time {
	for _, p := range r.Pieces {
		if i < p.n {
			return r.conn.ArrivalOf(p.offset + int64(i))
		}
		i -= p.n
	}
	return time.Time{}
}

// BodyArrival returns when the first byte of the first occurrence of sub in the body arrived.
func (r *Response) BodyArrival(sub []byte) (time.Time, bool) {
	i := bytes.Index(r.Body, sub)
	if i < 0 {
		return time.Time{}, false
	}
	return r.ArrivalOfBody(i), true
}

// Peek waits until n bytes can be read without consuming them, or until deadline; it returns
// what is available.
func (c *Conn) Peek(n int, deadline time.Time) ([]byte, error) {
	if err := c.setReadDeadline(deadline); err != nil {
		return nil, err
	}
	return c.br.Peek(n)
}

// Read returns up to max bytes as soon as any are available (for reading part of a body and
// then dropping the connection).
func (c *Conn) Read(max int, deadline time.Time) ([]byte, error) {
	if err := c.setReadDeadline(deadline); err != nil {
		return nil, err
	}
	buf := make([]byte, max)
	n, err := c.br.Read(buf)
	c.consumed += int64(n)
	return buf[:n], err
}

// ReadHead reads one status line and header section, and nothing of the body. It returns
// io.EOF when the server closed the connection before sending any byte of it.
func (c *Conn) ReadHead(deadline time.Time) (*Response, error) {
	if err := c.setReadDeadline(deadline); err != nil {
		return nil, err
	}
	start := c.consumed
	line, err := c.readLine(start, c.Limits.StatusLine, readcap.StatusLine)
	if err != nil {
		if errors.Is(err, io.EOF) && c.consumed == start && len(line) == 0 {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("reading the status line: %w", err)
	}
	r := &Response{StatusLine: line, Start: c.ArrivalOf(start), conn: c}
	if err := r.parseStatusLine(); err != nil {
		return r, err
	}
	for {
		line, err := c.readLine(start, c.Limits.Head, readcap.Head)
		if err != nil {
			return r, fmt.Errorf("reading the header section: %w", err)
		}
		if line == "" {
			break
		}
		f, err := parseField(line)
		if err != nil {
			return r, err
		}
		if len(r.Header) == c.Limits.Fields {
			return r, fmt.Errorf("reading the header section: %w", &readcap.Exceeded{Cap: readcap.Fields, Limit: int64(c.Limits.Fields)})
		}
		r.Header = append(r.Header, f)
	}
	r.HeadAt = c.ArrivalOf(c.consumed - 1)
	return r, nil
}

// errEnough stops reading a body once the caller's condition holds.
var errEnough = errors.New("enough of the body")

// ReadResponse reads the next response to a request made with method (HEAD responses have no
// body), collecting any 1xx interim responses before it. On an error it returns what it parsed
// so far; a timeout wraps os.ErrDeadlineExceeded (and ErrQuiet when EndWhenQuiet ended it), a
// connection closed mid-message io.ErrUnexpectedEOF, a syntax error ErrMalformed, a connection
// closed before the response began io.EOF.
func (c *Conn) ReadResponse(method string, deadline time.Time) (*Response, error) {
	return c.ReadResponseUntil(method, deadline, nil)
}

// ReadResponseUntil is ReadResponse that stops reading the body as soon as enough(body so far)
// is true, without error (Complete then stays false unless the body also ended); enough(nil)
// true means the head alone is enough. It is for
// checks about what the body holds and when it arrived, which need not wait for how the body
// ends: a close-delimited body ends only when the server closes the connection.
func (c *Conn) ReadResponseUntil(method string, deadline time.Time, enough func(body []byte) bool) (*Response, error) {
	var interim []*Response
	for {
		r, err := c.ReadHead(deadline)
		if r != nil {
			r.Interim = interim
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(interim) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return r, err
		}
		if r.Status >= 100 && r.Status < 200 && r.Status != 101 {
			interim = append(interim, r)
			continue
		}
		if err := c.readBody(r, method, enough); err != nil && !errors.Is(err, errEnough) {
			return r, err
		}
		return r, nil
	}
}

func (r *Response) parseStatusLine() error {
	proto, rest, ok := strings.Cut(r.StatusLine, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/") {
		return fmt.Errorf("%w: status line %q", ErrMalformed, r.StatusLine)
	}
	code, reason, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 {
		return fmt.Errorf("%w: status code in %q", ErrMalformed, r.StatusLine)
	}
	r.Proto, r.Status, r.Reason = proto, n, reason
	return nil
}

func parseField(line string) (Field, error) {
	if line[0] == ' ' || line[0] == '\t' {
		return Field{}, fmt.Errorf("%w: obsolete line folding in header line %q", ErrMalformed, line)
	}
	name, value, ok := strings.Cut(line, ":")
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return Field{}, fmt.Errorf("%w: header line %q", ErrMalformed, line)
	}
	return Field{Name: name, Value: strings.Trim(value, " \t")}, nil
}

// readLine reads one line without its CRLF (a bare LF is accepted, as RFC 9112 allows). From
// start on (where the status line, header section or trailer section began) at most limit bytes
// are read; past it, a *readcap.Exceeded for the cap named capName.
func (c *Conn) readLine(start int64, limit int, capName string) (string, error) {
	var line []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		c.consumed += int64(len(frag))
		if c.consumed-start > int64(limit) {
			return "", &readcap.Exceeded{Cap: capName, Limit: int64(limit)}
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return string(line), err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return string(line), nil
}

func (c *Conn) readBody(r *Response, method string, enough func([]byte) bool) error {
	defer r.slicePieces()
	if enough != nil && enough(nil) {
		return errEnough // the caller needs only the head
	}
	switch {
	case method == "HEAD" || r.Status < 200 || r.Status == 204 || r.Status == 304:
		r.Framing, r.Complete, r.EndAt = NoBody, true, r.HeadAt
		return nil
	case r.Header.Has("Transfer-Encoding"):
		codings := strings.Split(strings.Join(r.Header.Values("Transfer-Encoding"), ","), ",")
		if strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked") {
			r.Framing = Chunked
			return c.readChunked(r, enough)
		}
		r.Framing = CloseDelimited
		return c.readUntilClose(r, enough)
	case r.Header.Has("Content-Length"):
		n, err := contentLength(r.Header.Values("Content-Length"))
		if err != nil {
			return err
		}
		r.Framing = ContentLength
		if n <= c.Limits.Body {
			r.Body = make([]byte, 0, n) // read in place, without growing
		}
		return c.readN(r, n, enough)
	default:
		r.Framing = CloseDelimited
		return c.readUntilClose(r, enough)
	}
}

// contentLength returns the one length that all Content-Length fields (and comma-separated
// list members) agree on.
func contentLength(values []string) (int64, error) {
	n := int64(-1)
	for _, v := range values {
		for _, member := range strings.Split(v, ",") {
			m, err := strconv.ParseInt(strings.TrimSpace(member), 10, 64)
			if err != nil || m < 0 {
				return 0, fmt.Errorf("%w: Content-Length %q", ErrMalformed, v)
			}
			if n >= 0 && m != n {
				return 0, fmt.Errorf("%w: conflicting Content-Length values %q", ErrMalformed, values)
			}
			n = m
		}
	}
	return n, nil
}

// readInto appends up to most bytes (all that is buffered, or one socket read) to r's body as
// one piece. It returns errEnough when enough is satisfied by the body so far, and a
// *readcap.Exceeded when the body goes on past Limits.Body.
func (c *Conn) readInto(r *Response, most int64, enough func([]byte) bool) (int, error) {
	room := c.Limits.Body - int64(len(r.Body))
	if room <= 0 {
		if _, err := c.br.Peek(1); err != nil {
			return 0, err // the body ended (or failed) right at the cap
		}
		return 0, &readcap.Exceeded{Cap: readcap.Body, Limit: c.Limits.Body}
	}
	want := int(min(most, room, 256<<10))
	if cap(r.Body)-len(r.Body) < want {
		// Doubling, not append's quarter steps past 256 bytes: a body near the cap is copied a
		// few times rather than dozens, which keeps the garbage (and so the peak) small.
		r.Body = slices.Grow(r.Body, int(min(max(int64(want), int64(cap(r.Body))), room)))
	}
	start, off := len(r.Body), c.consumed
	n, err := c.br.Read(r.Body[start : start+want])
	if n > 0 {
		c.consumed += int64(n)
		r.Body = r.Body[:start+n]
		if last := len(r.Pieces) - 1; last >= maxPieces-1 {
			r.Pieces[last].n += n
		} else {
			r.Pieces = append(r.Pieces, Piece{At: c.ArrivalOf(off), start: start, n: n, offset: off})
		}
		if enough != nil && enough(r.Body) {
			return n, errEnough
		}
	}
	return n, err
}

// slicePieces points each piece's Data into the body, once the body is read (while it grew, it
// moved).
func (r *Response) slicePieces() {
	for i := range r.Pieces {
		p := &r.Pieces[i]
		p.Data = r.Body[p.start : p.start+p.n : p.start+p.n]
	}
}

func (c *Conn) readN(r *Response, n int64, enough func([]byte) bool) error {
	for remaining := n; remaining > 0; {
		got, err := c.readInto(r, remaining, enough)
		remaining -= int64(got)
		if remaining > 0 && errors.Is(err, errEnough) {
			return err
		}
		if remaining > 0 && err != nil {
			return bodyError(err, fmt.Sprintf("after %d of %d Content-Length bytes", n-remaining, n))
		}
	}
	r.Complete, r.EndAt = true, c.ArrivalOf(c.consumed-1)
	return nil
}

func (c *Conn) readUntilClose(r *Response, enough func([]byte) bool) error {
	for {
		_, err := c.readInto(r, 1<<30, enough)
		if errors.Is(err, errEnough) {
			return err
		}
		if errors.Is(err, io.EOF) {
			r.Complete, r.EndAt = true, time.Now()
			return nil
		}
		if err != nil {
			return bodyError(err, fmt.Sprintf("after %d bytes of a close-delimited body", len(r.Body)))
		}
	}
}

func (c *Conn) readChunked(r *Response, enough func([]byte) bool) error {
	for {
		line, err := c.readLine(c.consumed, c.Limits.StatusLine, "chunk size line")
		if err != nil {
			return bodyError(err, fmt.Sprintf("reading a chunk size line after %d body bytes", len(r.Body)))
		}
		sizeText, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("%w: chunk size line %q after %d body bytes", ErrMalformed, line, len(r.Body))
		}
		if size == 0 {
			break
		}
		for remaining := size; remaining > 0; {
			got, err := c.readInto(r, remaining, enough)
			remaining -= int64(got)
			if errors.Is(err, errEnough) {
				return err
			}
			if remaining > 0 && err != nil {
				return bodyError(err, fmt.Sprintf("inside a chunk of %d bytes", size))
			}
		}
		crlf, err := c.readLine(c.consumed, c.Limits.StatusLine, "line after a chunk")
		if err != nil {
			return bodyError(err, "reading the CRLF after a chunk")
		}
		if crlf != "" {
			return fmt.Errorf("%w: %d bytes more than the chunk size %d announced", ErrMalformed, len(crlf), size)
		}
	}
	trailerStart := c.consumed
	for {
		line, err := c.readLine(trailerStart, c.Limits.Head, "trailer section")
		if err != nil {
			return bodyError(err, "reading the trailer section")
		}
		if line == "" {
			r.Complete, r.EndAt = true, c.ArrivalOf(c.consumed-1)
			return nil
		}
		f, err := parseField(line)
		if err != nil {
			return err
		}
		if len(r.Trailer) == c.Limits.Fields {
			return &readcap.Exceeded{Cap: "trailer fields", Limit: int64(c.Limits.Fields)}
		}
		r.Trailer = append(r.Trailer, f)
	}
}

// bodyError names where in the body a read failed, keeping the cause matchable with errors.Is.
func bodyError(err error, where string) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	switch {
	case errors.Is(err, readcap.ErrExceeded):
		return fmt.Errorf("stopped reading %s: %w", where, err)
	case errors.Is(err, ErrQuiet):
		return fmt.Errorf("no more data %s: %w", where, err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("no more data before the deadline %s: %w", where, err)
	}
	return fmt.Errorf("body ended %s: %w", where, err)
}
