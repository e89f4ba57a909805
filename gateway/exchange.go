package gateway

/*
#include "wsgi.h"
#include <stdlib.h>
#include <unistd.h>
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
	"unsafe"
)

// exchange is one request/response between a client and an app: the Go half of the state the
// C half keeps in wsgi_req.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	req     *C.wsgi_req   // the C half, until it is freed after EV_DONE
	wake    chan struct{} // the executor posted events for req
	conn    net.Conn // the client's connection, which --timeout closes without waiting for the app
	app     *App
	started time.Time
	https   bool // wsgi.url_scheme: TLS, or X-Forwarded-Proto from a trusted proxy

	// mu guards the response: the request's goroutine writes it, and so does the --timeout
	// watchdog (a 504) while the app is stuck.
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

// environPool recycles the packed environ buffers: wsgi_submit copies the one it is given.
var environPool = sync.Pool{New: func() any { return &environ{buf: make([]byte, 0, 1024)} }}

// serve runs the app for one request on an executor thread (wsgi.c) and sends what it produces.
// scriptName and pathInfo are the request path split by the app's mount. It returns once close()
// has run.
func (ex *exchange) serve(in *interpreter, scriptName, pathInfo string, ci *connInfo, remoteAddr string) {
	startExecutor()
	env := environPool.Get().(*environ)
	env.buf = env.buf[:0]
	env.build(ex.r, ci, scriptName, pathInfo, ex.app.srv.software, remoteAddr, ex.https)
	ex.wake = make(chan struct{}, 1)
	id := running.add(ex)
	defer running.remove(id)
	flags := ex.app.flags
	if ex.https {
		flags |= C.WSGI_F_HTTPS
	}
	ex.req = C.wsgi_submit(C.int(in.slot), in.callable, (*C.char)(unsafe.Pointer(&env.buf[0])),
		C.size_t(len(env.buf)), C.uintptr_t(id), flags)
	environPool.Put(env)
	if t := ex.app.srv.cfg.Server.Timeout.Duration; t > 0 {
		ex.watchdog = time.AfterFunc(t, func() { ex.timeout(in) })
		defer ex.watchdog.Stop()
	}
	ex.follow()
	C.wsgi_free(ex.req)
}

// timeout runs when the app went --timeout without producing output: the client gets a 504 if
// nothing was sent yet (else the response is cut), its connection is closed now rather than when
// the app returns (a client reading to EOF would otherwise wait for the app), and RequestTimeout
// is raised in the request's Python thread. If the thread has still not come back after a grace
// period, it is stuck where Python cannot interrupt it, and the worker is recycled, as gunicorn
// does. The request keeps its thread until then: the app is still running.
func (ex *exchange) timeout(in *interpreter) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.finished {
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
	if ex.conn != nil {
		ex.conn.Close() // net/http closes it again when the handler returns, which is harmless
	}
	// With ex.mu held the request cannot end and be freed meanwhile.
	C.wsgi_interrupt(C.int(in.slot), ex.req)
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

// follow does what the request's executor thread asks, event by event (wsgi.h), until it is
// done: body blocks are sent one by one, in order, each as soon as the app produced it.
func (ex *exchange) follow() {
	req := ex.req
	for {
		<-ex.wake
		var text *C.char
		var n C.size_t
		ev := C.wsgi_take(req, &text, &n)
		if text != nil {
			ex.app.srv.log.Write(unsafe.Slice((*byte)(unsafe.Pointer(text)), n))
			C.free(unsafe.Pointer(text))
		}
		if ev&C.EV_READ != 0 { // not under ex.mu: the client may be slow, and the watchdog must not wait
			C.wsgi_ack(req, C.longlong(ex.readBody(unsafe.Slice((*byte)(unsafe.Pointer(req.out)), req.out_len))), 0)
		}
		ex.mu.Lock()
		if ev&(C.EV_BLOCK|C.EV_WRITE) != 0 {
			ok := ex.sendBlock(req, ev&C.EV_WRITE != 0)
			C.wsgi_ack(req, C.longlong(boolInt(ok)-1), C.int(boolInt(!ok)))
		}
		switch {
		case ev&C.EV_FILE != 0:
			if ex.headersDue(req.end_headers, req, int64(req.file_len)) {
				ex.sendFile(int(req.file_fd), int64(req.file_off), int64(req.file_len))
			} else {
				C.close(req.file_fd)
			}
		case ev&C.EV_END != 0:
			ex.headersDue(req.end_headers, req, int64(req.seq_total))
		case ev&C.EV_ERROR != 0:
			ex.fail(C.GoStringN(req.error, C.int(req.error_len)))
		}
		if ev&C.EV_DONE != 0 {
			ex.finished = true
			if !ex.abort && ex.contentLength > 0 && ex.written < ex.contentLength && ex.r.Method != http.MethodHead {
				// net/http closes the connection after a response shorter than its Content-Length.
				ex.app.srv.log.Errorf("%s %s: the app declared Content-Length %d but sent %d bytes; the connection is closed",
					ex.r.Method, ex.r.URL.Path, ex.contentLength, ex.written)
			}
			ex.mu.Unlock()
			return
		}
		ex.mu.Unlock()
	}
}

// headersDue sends the response headers when the event carries them (due); false when they were
// unusable (the app's error is then answered instead). The caller holds ex.mu.
func (ex *exchange) headersDue(due C.int, req *C.wsgi_req, knownLength int64) bool {
	if due == 0 {
		return true
	}
	if err := ex.sendHeaders(unsafe.Slice((*byte)(unsafe.Pointer(req.hdr)), req.hdr_len), knownLength); err != nil {
		ex.fail("the application's response headers are unusable: " + err.Error())
		return false
	}
	return true
}

// sendBlock sends a block of the iterable (or of write(), which is flushed and whose headers are
// not the iterable's) and reports whether the app should go on producing the body. The caller
// holds ex.mu.
func (ex *exchange) sendBlock(req *C.wsgi_req, fromWrite bool) bool {
	total := int64(req.seq_total)
	if fromWrite {
		total = -1
	}
	if !ex.headersDue(req.out_headers, req, total) {
		ex.stopped = true
		return false
	}
	if ex.stopped {
		return !ex.abort && !fromWrite // a 204 or 304: the rest is dropped too, the response is whole
	}
	ex.writeBlock(unsafe.Slice((*byte)(unsafe.Pointer(req.out)), req.out_len), req.out_flush != 0)
	return !ex.abort
}

// readBody reads the next bytes of the request body for wsgi.input: the count, 0 at its end, -1
// when it cannot be read (readErr says why).
func (ex *exchange) readBody(p []byte) int {
	for {
		got, err := ex.r.Body.Read(p)
		if got > 0 {
			return got
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

// running maps the ids the executor knows requests by to their exchanges: an event for a request
// that has just ended finds nothing, rather than a freed handle.
var running = exchangeTable{m: map[uintptr]*exchange{}}

type exchangeTable struct {
	mu   sync.Mutex
	next uintptr
	m    map[uintptr]*exchange
}

func (t *exchangeTable) add(ex *exchange) uintptr {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	t.m[t.next] = ex
	return t.next
}

func (t *exchangeTable) remove(id uintptr) {
	t.mu.Lock()
	delete(t.m, id)
	t.mu.Unlock()
}

// wake tells the request id's goroutine that it has events to take.
func (t *exchangeTable) wake(id uintptr) {
	t.mu.Lock()
	ex := t.m[id]
	t.mu.Unlock()
	if ex != nil {
		select {
		case ex.wake <- struct{}{}:
		default: // already told
		}
	}
}

var executorOnce sync.Once

// startExecutor starts the one goroutine that learns from the executor's eventfd which requests
// have events, in the poller like any socket, and wakes their goroutines.
func startExecutor() {
	executorOnce.Do(func() {
		fd := C.wsgi_exec_init()
		if fd < 0 {
			panic("gateway: eventfd failed")
		}
		events := os.NewFile(uintptr(fd), "wsgi executor events") // non-blocking: polled
		go func() {
			var count [8]byte
			for {
				if _, err := events.Read(count[:]); err != nil {
					panic("gateway: reading the executor's eventfd: " + err.Error())
				}
				for id := C.wsgi_ready(); id != 0; id = C.wsgi_ready() {
					running.wake(uintptr(id))
				}
			}
		}()
	})
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

// gatewayOrphanErrors logs what an app wrote to a wsgi.errors it kept after its request ended.
//
//export gatewayOrphanErrors
func gatewayOrphanErrors(s *C.char, n C.size_t) {
	defaultLog.Write(unsafe.Slice((*byte)(unsafe.Pointer(s)), n))
}
