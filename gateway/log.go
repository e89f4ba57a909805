//go:build cgo && gateway

package gateway

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Log is the gateway's one log (IRIS calls its equivalent WSGI.log): what apps write to
// wsgi.errors, every traceback, and one access line per request. Access lines are buffered and
// written at most accessFlush later (a write per request would cost more than the rest of a
// small request's path); anything else flushes at once, after the access lines before it, so
// the file keeps the order things happened in.
type Log struct {
	mu      sync.Mutex
	w       *bufio.Writer
	c       io.Closer
	pending bool // access lines wait in w
	stamp   struct {
		sec  int64
		text []byte // RFC 3339 of sec, formatted once a second
	}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

const accessFlush = 200 * time.Millisecond

// defaultLog receives wsgi.errors writes made after their request ended (an app that kept the
// stream), which no longer know their server. A process runs one gateway, so it is that one's.
var defaultLog = newLog(os.Stderr, nil)

// OpenLog appends to path, or writes to stderr when path is empty.
func OpenLog(path string) (*Log, error) {
	if path == "" {
		return newLog(os.Stderr, nil), nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return newLog(f, f), nil
}

func newLog(w io.Writer, c io.Closer) *Log {
	l := &Log{w: bufio.NewWriterSize(w, 64<<10), c: c, stop: make(chan struct{}), done: make(chan struct{})}
	go l.flusher()
	return l
}

func (l *Log) flusher() {
	defer close(l.done)
	t := time.NewTicker(accessFlush)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.mu.Lock()
			if l.pending {
				l.w.Flush()
				l.pending = false
			}
			l.mu.Unlock()
		case <-l.stop:
			return
		}
	}
}

// Flush writes out buffered access lines now.
func (l *Log) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Flush()
	l.pending = false
}

// Write logs p as it is and flushes.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if err == nil {
		err = l.w.Flush()
	}
	l.pending = false
	return n, err
}

// Errorf logs a gateway message with a timestamp.
func (l *Log) Errorf(format string, args ...any) { l.event("error", format, args) }

// Infof logs a gateway event with a timestamp.
func (l *Log) Infof(format string, args ...any) { l.event("info", format, args) }

func (l *Log) event(level, format string, args []any) {
	fmt.Fprintf(l, "%s [%s] %s\n", time.Now().UTC().Format(time.RFC3339), level, fmt.Sprintf(format, args...))
}

// access logs one request: time, client, request line, status, body bytes sent, duration.
func (l *Log) access(ex *exchange) {
	took := time.Since(ex.started)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.w.AvailableBuffer()
	b = append(b, l.timestamp(ex.started)...)
	b = append(b, " [access] "...)
	b = append(b, ex.r.RemoteAddr...)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, ex.r.Method+" "+ex.r.RequestURI+" "+ex.r.Proto)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(ex.status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, ex.written, 10)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, float64(took.Microseconds())/1000, 'f', 3, 64)
	b = append(b, "ms\n"...)
	l.w.Write(b)
	l.pending = true
}

// timestamp is t in RFC 3339 (UTC, seconds), formatted once per second. l.mu held.
func (l *Log) timestamp(t time.Time) []byte {
	if sec := t.Unix(); sec != l.stamp.sec || l.stamp.text == nil {
		l.stamp.sec = sec
		l.stamp.text = t.UTC().AppendFormat(l.stamp.text[:0], time.RFC3339)
	}
	return l.stamp.text
}

// Close flushes what is buffered and closes the log file, if it is one. Later calls do nothing.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.done
		l.mu.Lock()
		defer l.mu.Unlock()
		l.closeErr = l.w.Flush()
		if l.c != nil {
			if err := l.c.Close(); l.closeErr == nil {
				l.closeErr = err
			}
		}
	})
	return l.closeErr
}
