//go:build cgo && gateway

package gateway

/*
#include "wsgi.h"
#include <pthread.h>
#include <unistd.h>
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/cgo"
	"strconv"
	"sync"
	"time"
	"unsafe"
)

// exchange is one request/response between a client and an app: the Go half of the state the
// C half keeps in wsgi_req. The C callbacks reach it through a cgo.Handle.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	app     *App
	started time.Time
	https   bool // wsgi.url_scheme: TLS, or X-Forwarded-Proto from a trusted proxy

	// mu guards the response: the request's goroutine writes it, and so does the --timeout
	// watchdog (a 504) while that goroutine is stuck in Python.
	mu            sync.Mutex
	finished      bool        // the request left Python; the watchdog has nothing to do
	watchdog      *time.Timer // --timeout: restarted by every block sent
	timedOut      bool
	status        int
	headersSent   bool
	contentLength int64 // from the app's Content-Length, -1 when it gave none
	written       int64
	stopped       bool  // nothing more goes to the client (it left, or the body is complete)
	abort         bool  // the response cannot be completed: close the connection mid-body
	readErr       error // why wsgi.input failed: a malformed or oversized body is the client's fault
}

// serve runs the app for one request. scriptName and pathInfo are the request path split by the
// app's mount.
// environPool recycles the packed environ buffers: C copies what it needs into Python strings
// during wsgi_start, so a buffer is free again as soon as the app has been called.
var environPool = sync.Pool{New: func() any { return &environ{buf: make([]byte, 0, 1024)} }}

func (ex *exchange) serve(in *interpreter, scriptName, pathInfo string, ci *connInfo, remoteAddr string) {
	env := environPool.Get().(*environ)
	env.buf = env.buf[:0]
	defer environPool.Put(env)
	env.build(ex.r, ci, scriptName, pathInfo, ex.app.srv.software, remoteAddr, ex.https)

	h := cgo.NewHandle(ex)
	defer h.Delete()
	// The whole request runs on one OS thread: Python code that keeps per-thread state
	// (Django's database connections, threading.local) must see the same thread from the app
	// call through close().
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	if t := ex.app.srv.cfg.Server.Timeout.Duration; t > 0 {
		thread := C.pthread_self() // Python's thread id for this OS thread
		ex.watchdog = time.AfterFunc(t, func() { ex.timeout(in, thread) })
		defer ex.watchdog.Stop()
	}
	flags := ex.app.flags
	if ex.https {
		flags |= C.WSGI_F_HTTPS
	}
	req := C.wsgi_start(C.int(in.slot), in.callable, (*C.char)(unsafe.Pointer(&env.buf[0])),
		C.size_t(len(env.buf)), C.uintptr_t(h), flags)
	ex.drive(req)
	C.wsgi_finish(req)
	ex.mu.Lock()
	ex.finished = true
	if !ex.abort && ex.contentLength > 0 && ex.written < ex.contentLength && ex.r.Method != http.MethodHead {
		// net/http closes the connection after a response shorter than its Content-Length.
		ex.app.srv.log.Errorf("%s %s: the app declared Content-Length %d but sent %d bytes; the connection is closed",
			ex.r.Method, ex.r.URL.Path, ex.contentLength, ex.written)
	}
	ex.mu.Unlock()
}

// timeout runs when the app went --timeout without producing output: the client gets a 504 if nothing was sent yet
// (else the response is cut), and RequestTimeout is raised in the request's Python thread. If
// the thread has still not come back after a grace period, it is stuck where Python cannot
// interrupt it, and the worker is recycled, as gunicorn does.
func (ex *exchange) timeout(in *interpreter, thread C.pthread_t) {
	ex.mu.Lock()
	if ex.finished {
		ex.mu.Unlock()
		return
	}
	srv := ex.app.srv
	limit := srv.cfg.Server.Timeout.Duration
	srv.log.Errorf("%s %s: still running after the %s timeout; stopping it", ex.r.Method, ex.r.URL.Path, limit)
	ex.timedOut = true
	if !ex.headersSent {
		ex.reply(http.StatusGatewayTimeout, "504 Gateway Timeout: the application did not answer in time\n", true)
	}
	ex.stopped, ex.abort = true, true
	ex.mu.Unlock()

	C.wsgi_interrupt(C.int(in.slot), C.ulong(thread))
	time.AfterFunc(srv.cfg.Server.TimeoutGrace.Duration, func() {
		ex.mu.Lock()
		stuck := !ex.finished
		ex.mu.Unlock()
		if stuck && srv.opt.OnStuck != nil {
			srv.log.Errorf("%s %s: did not stop within %s of being asked; recycling this worker", ex.r.Method, ex.r.URL.Path, srv.cfg.Server.TimeoutGrace.Duration)
			srv.opt.OnStuck()
		}
	})
}

// drive sends the response block by block, asking C for the next one only after the previous
// one was handed to the network: the PEP forbids delaying a block.
func (ex *exchange) drive(req *C.wsgi_req) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	for {
		if req.headers_pending != 0 {
			req.headers_pending = 0
			hdr := unsafe.Slice((*byte)(unsafe.Pointer(req.hdr)), req.hdr_len)
			total := int64(req.seq_total)
			if req.state == C.WSGI_FILE {
				total = int64(req.file_len)
			}
			if err := ex.sendHeaders(hdr, total); err != nil {
				ex.fail("the application's response headers are unusable: " + err.Error())
				if req.state == C.WSGI_FILE {
					C.close(req.file_fd)
				}
				return
			}
		}
		switch req.state {
		case C.WSGI_CHUNK:
			if !ex.stopped {
				ex.writeBlock(unsafe.Slice((*byte)(unsafe.Pointer(req.chunk)), req.chunk_len), req.is_sequence == 0)
			}
			if ex.stopped && ex.abort || req.last != 0 {
				return
			}
			ex.mu.Unlock() // the app runs: the watchdog may answer meanwhile
			C.wsgi_next(req)
			ex.mu.Lock()
		case C.WSGI_FILE:
			ex.sendFile(int(req.file_fd), int64(req.file_off), int64(req.file_len))
			return
		case C.WSGI_END:
			return
		case C.WSGI_ERROR:
			ex.fail(C.GoStringN(req.error, C.int(req.error_len)))
			return
		}
	}
}

// sendHeaders writes the status and headers packed by C ("status\0name\0value\0..."). The
// caller holds ex.mu.
// knownLength is the body's length when the gateway can tell it (a list of bytes, a file), or -1.
func (ex *exchange) sendHeaders(block []byte, knownLength int64) error {
	if ex.timedOut {
		return nil // the watchdog answered already
	}
	fields := bytes.Split(block[:len(block)-1], []byte{0})
	status := string(fields[0])
	code, _ := strconv.Atoi(status[:3])
	if code < 200 {
		return fmt.Errorf("status %q is informational, not a final response", status)
	}
	h := ex.w.Header()
	ex.contentLength = -1
	for i := 1; i+1 < len(fields); i += 2 {
		name, value := string(fields[i]), string(fields[i+1])
		h.Add(name, value)
	}
	if cl := h.Values("Content-Length"); len(cl) > 0 {
		n, err := strconv.ParseInt(cl[0], 10, 64)
		if err != nil || n < 0 || len(cl) > 1 && anyDiffer(cl) {
			return fmt.Errorf("Content-Length %q is not one non-negative integer", cl)
		}
		h["Content-Length"] = cl[:1]
		ex.contentLength = n
	} else if knownLength >= 0 && bodyAllowed(code) {
		h["Content-Length"] = []string{strconv.FormatInt(knownLength, 10)}
		ex.contentLength = knownLength
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // net/http would otherwise guess one the app never sent
	}
	ex.status = code
	ex.headersSent = true
	ex.w.WriteHeader(code)
	return nil
}

func anyDiffer(v []string) bool {
	for _, s := range v[1:] {
		if s != v[0] {
			return true
		}
	}
	return false
}

func bodyAllowed(code int) bool {
	return code != http.StatusNoContent && code != http.StatusNotModified
}

// writeBlock sends one block of the body; flush makes it leave now rather than when the buffer
// fills (the app may take its time before the next one).
func (ex *exchange) writeBlock(p []byte, flush bool) {
	if ex.contentLength >= 0 && ex.written+int64(len(p)) > ex.contentLength {
		keep := ex.contentLength - ex.written
		ex.app.srv.log.Errorf("%s %s: the app sent more than its Content-Length %d; %d bytes dropped and the connection closed",
			ex.r.Method, ex.r.URL.Path, ex.contentLength, int64(len(p))-keep)
		p = p[:keep]
		ex.stopped, ex.abort = true, true
	}
	if ex.watchdog != nil {
		ex.watchdog.Reset(ex.app.srv.cfg.Server.Timeout.Duration) // output is progress
	}
	n, err := ex.w.Write(p)
	ex.written += int64(n)
	switch {
	case errors.Is(err, http.ErrBodyNotAllowed):
		ex.stopped = true // a 204 or 304: the body is dropped, the response is still whole
		return
	case err != nil:
		ex.stopped, ex.abort = true, true
		return
	}
	if flush || ex.abort {
		if err := http.NewResponseController(ex.w).Flush(); err != nil {
			ex.stopped, ex.abort = true, true
		}
	}
}

// sendFile sends a wsgi.file_wrapper's regular file; net/http uses sendfile(2) when the length
// is known and the connection is plain TCP.
func (ex *exchange) sendFile(fd int, off, n int64) {
	f := os.NewFile(uintptr(fd), "wsgi.file_wrapper")
	defer f.Close()
	if ex.stopped || ex.r.Method == http.MethodHead {
		return
	}
	if ex.contentLength >= 0 && n > ex.contentLength {
		n = ex.contentLength
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		ex.app.srv.log.Errorf("wsgi.file_wrapper: %v", err)
		ex.abort = true
		return
	}
	w, err := io.CopyN(ex.w, f, n)
	ex.written += w
	if err != nil {
		ex.abort = true
	}
}

// fail handles an exception from the app (or a broken response): logged with its traceback;
// the client gets a 500 if nothing was sent yet, else a connection closed mid-body (never a
// second status line).
//
// When the app failed because the request body could not be read, the fault is the client's: a
// body over --max-body is a 413, a malformed one (bad chunk sizes) a 400.
func (ex *exchange) fail(traceback string) {
	var tooLarge *http.MaxBytesError
	switch {
	case ex.timedOut:
		ex.app.srv.log.Errorf("%s %s: app %s stopped after the timeout:\n%s", ex.r.Method, ex.r.URL.Path, ex.app.cfg.Name, traceback)
	case errors.As(ex.readErr, &tooLarge):
		ex.app.srv.log.Errorf("%s %s: request body over the %d-byte limit", ex.r.Method, ex.r.URL.Path, tooLarge.Limit)
		if !ex.headersSent {
			ex.reply(http.StatusRequestEntityTooLarge, "413 Request Entity Too Large\n", true)
		}
	case ex.readErr != nil && !errors.Is(ex.readErr, io.ErrUnexpectedEOF):
		ex.app.srv.log.Errorf("%s %s: malformed request body: %v", ex.r.Method, ex.r.URL.Path, ex.readErr)
		if !ex.headersSent {
			ex.reply(http.StatusBadRequest, "400 Bad Request: malformed request body\n", true)
		}
	default:
		ex.app.srv.log.Errorf("%s %s: error in app %s:\n%s", ex.r.Method, ex.r.URL.Path, ex.app.cfg.Name, traceback)
		if !ex.headersSent {
			body := "Internal Server Error\n"
			if ex.app.cfg.Debug {
				body = "Internal Server Error\n\n" + traceback
			}
			ex.reply(http.StatusInternalServerError, body, false)
			return
		}
	}
	if ex.headersSent && ex.status != http.StatusGatewayTimeout {
		ex.abort = true // mid-body: the client must see the response is incomplete
	}
}

// reply sends a complete plain-text response of the gateway's own, replacing whatever headers
// the app had set; closeConn ends the connection after it (the request body's framing, or the
// app's state, can no longer be trusted).
func (ex *exchange) reply(code int, body string, closeConn bool) {
	h := ex.w.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if closeConn {
		h.Set("Connection", "close")
	}
	ex.status = code
	ex.headersSent = true
	ex.w.WriteHeader(code)
	n, _ := io.WriteString(ex.w, body)
	ex.written += int64(n)
	http.NewResponseController(ex.w).Flush()
}

func exchangeOf(h C.uintptr_t) *exchange { return cgo.Handle(h).Value().(*exchange) }

//export gatewayWrite
func gatewayWrite(h C.uintptr_t, hdr *C.char, hdrLen C.size_t, data *C.char, n C.Py_ssize_t) C.int {
	ex := exchangeOf(h)
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if hdr != nil {
		if err := ex.sendHeaders(unsafe.Slice((*byte)(unsafe.Pointer(hdr)), hdrLen), -1); err != nil {
			ex.fail("the application's response headers are unusable: " + err.Error())
			ex.stopped = true
			return -1
		}
	}
	if ex.stopped {
		return -1
	}
	ex.writeBlock(unsafe.Slice((*byte)(unsafe.Pointer(data)), n), true)
	if ex.abort {
		return -1
	}
	return 0
}

//export gatewayRead
func gatewayRead(h C.uintptr_t, buf *C.char, n C.Py_ssize_t) C.Py_ssize_t {
	ex := exchangeOf(h)
	p := unsafe.Slice((*byte)(unsafe.Pointer(buf)), n)
	for {
		got, err := ex.r.Body.Read(p)
		if got > 0 {
			return C.Py_ssize_t(got)
		}
		if err == io.EOF {
			return 0
		}
		if err != nil {
			ex.readErr = err
			return -1
		}
	}
}

//export gatewayErrors
func gatewayErrors(h C.uintptr_t, s *C.char, n C.Py_ssize_t) {
	msg := unsafe.Slice((*byte)(unsafe.Pointer(s)), n)
	if h == 0 {
		defaultLog.Write(msg)
		return
	}
	exchangeOf(h).app.srv.log.Write(msg)
}
