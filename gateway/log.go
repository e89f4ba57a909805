package gateway

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Log is the gateway's one log (IRIS calls its equivalent WSGI.log): what apps write to
// wsgi.errors, every traceback, and one access line per request. Writes are serialised so lines
// from concurrent requests never interleave.
type Log struct {
	mu sync.Mutex
	w  io.Writer
	c  io.Closer
}

// defaultLog receives wsgi.errors writes made after their request ended (an app that kept the
// stream), which no longer know their server. A process runs one gateway, so it is that one's.
var defaultLog = &Log{w: os.Stderr}

// OpenLog appends to path, or writes to stderr when path is empty.
func OpenLog(path string) (*Log, error) {
	if path == "" {
		return &Log{w: os.Stderr}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return &Log{w: f, c: f}, nil
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Errorf logs a gateway message with a timestamp.
func (l *Log) Errorf(format string, args ...any) {
	fmt.Fprintf(l, "%s [error] %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// Infof logs a gateway event with a timestamp.
func (l *Log) Infof(format string, args ...any) {
	fmt.Fprintf(l, "%s [info] %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// access logs one request: client, request line, status, body bytes sent, duration.
func (l *Log) access(ex *exchange) {
	fmt.Fprintf(l, "%s [access] %s %q %d %d %.3fms\n", ex.started.UTC().Format(time.RFC3339),
		ex.r.RemoteAddr, ex.r.Method+" "+ex.r.RequestURI+" "+ex.r.Proto, ex.status, ex.written,
		float64(time.Since(ex.started).Microseconds())/1000)
}

// Close closes the log file, if it is one.
func (l *Log) Close() error {
	if l.c == nil {
		return nil
	}
	return l.c.Close()
}
