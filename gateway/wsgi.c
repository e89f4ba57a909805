//go:build cgo && gateway

// The C half of the gateway; see wsgi.h for the division of labour and the GIL discipline.
#include "wsgi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "_cgo_export.h"

/* The GIL-state binding lives in the runtime struct; see bind_gilstate. */
#define Py_BUILD_CORE 1
#undef _PyGC_FINALIZED /* the internal header redefines it */
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#undef Py_BUILD_CORE

/* ---- interpreters and thread states -------------------------------------------------------- */

/* One slot per app interpreter. gen changes whenever a slot's interpreter is replaced, which
 * tells every OS thread that its cached thread state for the slot is stale. */
typedef struct {
    PyInterpreterState *interp;
    unsigned gen;
    PyObject *keys[K_COUNT];
    PyObject *version;          /* (1, 0) */
    PyObject *scheme_http, *scheme_https;
    PyObject *request_timeout; /* the exception --timeout raises in a request's thread */
    PyObject *close_name;      /* "close" */
    PyThreadState **ours;       /* thread states this gateway made for the interpreter */
    size_t nours, capours;
} interp_slot;

static interp_slot slots[WSGI_MAX_INTERP];

/* Each OS thread keeps one thread state per interpreter for its whole life: creating one per
 * request costs 12-18 µs, reusing it well under one. */
static __thread PyThreadState *thread_states[WSGI_MAX_INTERP];
static __thread unsigned thread_gens[WSGI_MAX_INTERP];

static const char *key_names[K_COUNT] = {
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
    "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
    "REMOTE_PORT", "REQUEST_URI", "SERVER_SOFTWARE", "HTTPS",
    "HTTP_HOST", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING",
    "HTTP_ACCEPT_LANGUAGE", "HTTP_CONNECTION", "HTTP_COOKIE", "HTTP_TRANSFER_ENCODING",
    "HTTP_CACHE_CONTROL", "HTTP_REFERER", "HTTP_ORIGIN", "HTTP_AUTHORIZATION",
    "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO", "HTTP_EXPECT",
};

/* PyGILState_Ensure (used by C extensions' callbacks, sqlite3's among them) trusts the thread
 * state bound to the OS thread, which Python 3.11 binds once: to the first one the thread ever
 * made. A thread that serves several interpreters would then hand a callback the wrong
 * interpreter's state and deadlock on the GIL it already holds. Re-binding on entry keeps the
 * binding equal to the state in use, which is what Python 3.12 does itself. */
static void bind_gilstate(PyThreadState *ts) {
    Py_tss_t *key = &_PyRuntime.gilstate.autoTSSkey;
    if (PyThread_tss_get(key) != ts) PyThread_tss_set(key, ts);
}

static void remember(int slot, PyThreadState *ts) {
    interp_slot *s = &slots[slot];
    if (s->nours == s->capours) {
        s->capours = s->capours ? 2 * s->capours : 16;
        s->ours = realloc(s->ours, s->capours * sizeof *s->ours);
    }
    s->ours[s->nours++] = ts;
}

/* The timer slack of threads that run Python, set by the worker from its supervisor's (see
 * gateway/timerslack.go); 0 leaves threads as they are. */
long wsgi_app_timer_slack;
static __thread char app_timer_slack_set;

void wsgi_use_app_timer_slack(void) {
    if (app_timer_slack_set || wsgi_app_timer_slack <= 0) return;
    app_timer_slack_set = 1;
    prctl(PR_SET_TIMERSLACK, (unsigned long)wsgi_app_timer_slack, 0, 0, 0);
}

void wsgi_enter(int slot) {
    wsgi_use_app_timer_slack();
    PyThreadState *ts = thread_states[slot];
    int fresh = ts == NULL || thread_gens[slot] != slots[slot].gen;
    if (fresh) {
        ts = PyThreadState_New(slots[slot].interp);
        thread_states[slot] = ts;
        thread_gens[slot] = slots[slot].gen;
    }
    PyEval_RestoreThread(ts);
    bind_gilstate(ts);
    if (fresh) remember(slot, ts); /* under the GIL, which also guards the list */
}

void wsgi_leave(void) { PyEval_SaveThread(); }

static PyTypeObject StartResponseType, InputType, ErrorsType, FileWrapperType;

/* Per-interpreter constants, made with the slot's GIL held. */
static int slot_fill(int slot) {
    interp_slot *s = &slots[slot];
    for (int i = 0; i < K_COUNT; i++) {
        s->keys[i] = PyUnicode_InternFromString(key_names[i]);
        if (s->keys[i] == NULL) return -1;
    }
    s->version = Py_BuildValue("(ii)", 1, 0);
    s->scheme_http = PyUnicode_InternFromString("http");
    s->scheme_https = PyUnicode_InternFromString("https");
    s->close_name = PyUnicode_InternFromString("close");
    /* A BaseException, so that the app's own "except Exception" does not swallow it. */
    s->request_timeout = PyErr_NewExceptionWithDoc(
        "wsgispec.RequestTimeout",
        "Raised in a request's thread when it runs past the gateway's --timeout.",
        PyExc_BaseException, NULL);
    return (s->version && s->scheme_http && s->scheme_https && s->close_name && s->request_timeout) ? 0 : -1;
}

static void slot_clear(int slot) {
    interp_slot *s = &slots[slot];
    for (int i = 0; i < K_COUNT; i++) Py_CLEAR(s->keys[i]);
    Py_CLEAR(s->version);
    Py_CLEAR(s->scheme_http);
    Py_CLEAR(s->scheme_https);
    Py_CLEAR(s->request_timeout);
    Py_CLEAR(s->close_name);
}

int wsgi_runtime_init(void) {
    if (PyType_Ready(&StartResponseType) < 0 || PyType_Ready(&InputType) < 0 ||
        PyType_Ready(&ErrorsType) < 0 || PyType_Ready(&FileWrapperType) < 0)
        return -1;
    return 0;
}

/* Makes the main interpreter a slot. Called on the thread that initialised Python, GIL held;
 * returns with it held. */
int wsgi_interp_main(int slot) {
    slots[slot].interp = PyInterpreterState_Main();
    slots[slot].gen++;
    thread_states[slot] = PyThreadState_Get();
    thread_gens[slot] = slots[slot].gen;
    remember(slot, thread_states[slot]);
    return slot_fill(slot);
}

/* Creates a sub-interpreter in slot; returns with its GIL held by the calling thread (also on
 * failure, for the caller to read the error and leave). */
int wsgi_interp_new(int slot, char **err) {
    PyThreadState *main_ts = PyThreadState_New(PyInterpreterState_Main());
    PyEval_RestoreThread(main_ts);
    PyThreadState *ts = Py_NewInterpreter();
    if (ts == NULL) {
        *err = strdup("Py_NewInterpreter failed");
        return -1;
    }
    /* main_ts only held the GIL while the new interpreter was made. */
    PyThreadState_Clear(main_ts);
    PyThreadState_Delete(main_ts);
    bind_gilstate(ts);
    /* Python 3.11 numbers thread states per interpreter, from 1 in each, yet extension modules
     * that are shared between interpreters key per-thread caches on that number: _asyncio's
     * running-loop cache then hands one interpreter's event loop to another interpreter's
     * thread (Django sees FastAPI's loop and refuses to run, "async context"). Giving every
     * interpreter its own range of numbers makes them unique across the process. */
    static uint64_t interp_serial;
    uint64_t base = ++interp_serial << 32;
    ts->interp->threads.next_unique_id = base;
    ts->id = base;
    slots[slot].interp = ts->interp;
    slots[slot].gen++;
    thread_states[slot] = ts;
    thread_gens[slot] = slots[slot].gen;
    remember(slot, ts);
    if (slot_fill(slot) < 0) {
        size_t n;
        *err = wsgi_format_exception(&n);
        return -1;
    }
    return 0;
}

/* Ends the sub-interpreter in slot once no request runs in it. Python 3.11 aborts the process if
 * a thread other than the caller's still has a state in the interpreter, so the states this
 * gateway cached on other OS threads are deleted first (the generation bump keeps those threads
 * from using them again). A thread the app started itself cannot be stopped from here: then the
 * interpreter is abandoned, still running, and 1 is returned. Called without the GIL. */
int wsgi_interp_end(int slot) {
    interp_slot *s = &slots[slot];
    PyInterpreterState *interp = s->interp;
    PyThreadState *mine = PyThreadState_New(interp);
    PyEval_RestoreThread(mine);
    bind_gilstate(mine);
    s->gen++;
    for (PyThreadState *t = PyInterpreterState_ThreadHead(interp); t; t = PyThreadState_Next(t)) {
        int known = t == mine;
        for (size_t i = 0; i < s->nours && !known; i++) known = s->ours[i] == t;
        if (!known) {
            PyThreadState_Clear(mine);
            PyThreadState_DeleteCurrent();
            s->nours = 0;
            return 1;
        }
    }
    /* Py_EndInterpreter runs threading's shutdown, which asserts, when it runs on the OS thread
     * that imported threading, that this thread's first state is still alive. That state is
     * among those deleted below, so the shutdown runs first, and Py_EndInterpreter finds it done. */
    PyObject *name = PyUnicode_FromString("threading");
    PyObject *threading = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    if (threading) {
        PyObject *r = PyObject_CallMethod(threading, "_shutdown", NULL);
        if (!r) PyErr_WriteUnraisable(threading);
        Py_XDECREF(r);
        Py_DECREF(threading);
    }
    PyErr_Clear();
    slot_clear(slot);
    for (size_t i = 0; i < s->nours; i++) {
        if (s->ours[i] == mine) continue;
        PyThreadState_Clear(s->ours[i]);
        PyThreadState_Delete(s->ours[i]);
    }
    s->nours = 0;
    Py_EndInterpreter(mine);
    PyThreadState *main_ts = PyThreadState_New(PyInterpreterState_Main());
    PyThreadState_Swap(main_ts);
    bind_gilstate(main_ts);
    PyThreadState_Clear(main_ts);
    PyThreadState_DeleteCurrent();
    s->interp = NULL;
    return 0;
}

/* ---- errors --------------------------------------------------------------------------------- */

/* Formats and clears the pending exception as Python's traceback module would print it. The
 * caller holds the GIL and frees the result. */
char *wsgi_format_exception(size_t *len) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        *len = 0;
        return strdup("");
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL) PyException_SetTraceback(value, tb);
    char *out = NULL;
    PyObject *mod = PyImport_ImportModule("traceback");
    PyObject *lines = mod ? PyObject_CallMethod(mod, "format_exception", "OOO", type,
                                                value ? value : Py_None, tb ? tb : Py_None)
                          : NULL;
    Py_XDECREF(mod);
    if (lines != NULL) {
        PyObject *empty = PyUnicode_FromString("");
        PyObject *joined = PyUnicode_Join(empty, lines);
        Py_DECREF(empty);
        Py_DECREF(lines);
        if (joined != NULL) {
            Py_ssize_t n;
            const char *s = PyUnicode_AsUTF8AndSize(joined, &n);
            if (s != NULL) {
                out = malloc(n + 1);
                memcpy(out, s, n + 1);
                *len = n;
            }
            Py_DECREF(joined);
        }
    }
    if (out == NULL) {
        PyErr_Clear();
        out = strdup("(the traceback could not be formatted)\n");
        *len = strlen(out);
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return out;
}

/* ---- the response header block -------------------------------------------------------------- */

/* Appends bytes to the request's packed header block ("status\0name\0value\0..."). */
static void hdr_put(wsgi_req *r, const char *p, size_t n) {
    if (r->hdr_len + n + 1 > r->hdr_cap) {
        size_t cap = r->hdr_cap ? r->hdr_cap : 256;
        while (cap < r->hdr_len + n + 1) cap *= 2;
        r->hdr = realloc(r->hdr, cap);
        r->hdr_cap = cap;
    }
    memcpy(r->hdr + r->hdr_len, p, n);
    r->hdr_len += n;
    r->hdr[r->hdr_len++] = '\0';
}

/* Checks that s is a str of latin-1 characters with no control characters (tab allowed in
 * values) and returns its bytes; what = "status", "header name" or "header value". */
static const char *latin1_field(PyObject *s, const char *what, Py_ssize_t *n) {
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str, not %.80s", what, Py_TYPE(s)->tp_name);
        return NULL;
    }
    if (PyUnicode_READY(s) < 0) return NULL;
    if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND) {
        PyErr_Format(PyExc_ValueError, "%s %R has characters outside latin-1", what, s);
        return NULL;
    }
    const char *p = (const char *)PyUnicode_1BYTE_DATA(s);
    *n = PyUnicode_GET_LENGTH(s);
    for (Py_ssize_t i = 0; i < *n; i++) {
        unsigned char c = p[i];
        if ((c < 0x20 && !(c == '\t' && what[7] == 'v')) || c == 0x7f) {
            PyErr_Format(PyExc_ValueError, "%s %R contains a control character", what, s);
            return NULL;
        }
    }
    return p;
}

static int is_token_char(unsigned char c) {
    return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static const char *hop_by_hop[] = {"connection", "keep-alive", "proxy-authenticate",
                                   "proxy-authorization", "te", "trailers",
                                   "transfer-encoding", "upgrade", NULL};

/* Validates status and headers as start_response receives them and packs them into r->hdr. */
static int pack_headers(wsgi_req *r, PyObject *status, PyObject *headers) {
    Py_ssize_t n;
    const char *p = latin1_field(status, "status", &n);
    if (p == NULL) return -1;
    if (n < 4 || !(p[0] >= '1' && p[0] <= '9') || !(p[1] >= '0' && p[1] <= '9') ||
        !(p[2] >= '0' && p[2] <= '9') || p[3] != ' ' || (n > 4 && (p[4] == ' ' || p[n - 1] == ' '))) {
        PyErr_Format(PyExc_ValueError,
                     "status %R must be a three-digit code, one space and a reason phrase", status);
        return -1;
    }
    if (!PyList_Check(headers)) {
        PyErr_Format(PyExc_TypeError, "response_headers must be a list, not %.80s",
                     Py_TYPE(headers)->tp_name);
        return -1;
    }
    r->hdr_len = 0;
    hdr_put(r, p, n);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(headers); i++) {
        PyObject *item = PyList_GET_ITEM(headers, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_Format(PyExc_TypeError,
                         "response_headers[%zd] must be a (name, value) tuple, not %R", i, item);
            return -1;
        }
        Py_ssize_t nn, vn;
        const char *name = latin1_field(PyTuple_GET_ITEM(item, 0), "header name", &nn);
        if (name == NULL) return -1;
        const char *value = latin1_field(PyTuple_GET_ITEM(item, 1), "header value", &vn);
        if (value == NULL) return -1;
        if (nn == 0) {
            PyErr_SetString(PyExc_ValueError, "a header name is empty");
            return -1;
        }
        for (Py_ssize_t j = 0; j < nn; j++) {
            if (!is_token_char((unsigned char)name[j])) {
                PyErr_Format(PyExc_ValueError, "header name %R is not an HTTP token",
                             PyTuple_GET_ITEM(item, 0));
                return -1;
            }
        }
        for (const char **h = hop_by_hop; *h; h++) {
            if ((size_t)nn == strlen(*h) && strncasecmp(name, *h, nn) == 0) {
                PyErr_Format(PyExc_AssertionError,
                             "hop-by-hop header %R is the server's to send, not the application's",
                             PyTuple_GET_ITEM(item, 0));
                return -1;
            }
        }
        hdr_put(r, name, nn);
        hdr_put(r, value, vn);
    }
    return 0;
}

/* Hands the header block to Go with the next thing it sends. */
static void headers_due(wsgi_req *r) {
    if (!r->headers_sent) {
        r->headers_sent = 1;
        r->headers_pending = 1;
    }
}

/* ---- start_response and write --------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    wsgi_req *req; /* NULL once the request is over */
} StartResponseObject;

static PyObject *start_response_call(PyObject *self, PyObject *args, PyObject *kwargs) {
    wsgi_req *r = ((StartResponseObject *)self)->req;
    static char *kwlist[] = {"status", "response_headers", "exc_info", NULL};
    PyObject *status, *headers, *exc_info = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O:start_response", kwlist, &status,
                                     &headers, &exc_info))
        return NULL;
    if (r == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "start_response called after the response ended");
        return NULL;
    }
    if (exc_info != Py_None) {
        if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
            PyErr_SetString(PyExc_TypeError, "exc_info must be a (type, value, traceback) tuple");
            return NULL;
        }
        if (r->headers_sent) {
            /* Too late to change the status: re-raise the app's own exception, as the PEP asks. */
            PyObject *t = PyTuple_GET_ITEM(exc_info, 0), *v = PyTuple_GET_ITEM(exc_info, 1),
                     *tb = PyTuple_GET_ITEM(exc_info, 2);
            Py_INCREF(t);
            Py_INCREF(v);
            Py_INCREF(tb);
            PyErr_Restore(t, v, tb == Py_None ? NULL : tb);
            if (tb == Py_None) Py_DECREF(tb);
            return NULL;
        }
    } else if (r->started) {
        PyErr_SetString(PyExc_AssertionError,
                        "start_response called a second time without exc_info");
        return NULL;
    }
    if (pack_headers(r, status, headers) < 0) return NULL;
    r->started = 1;
    return PyObject_GetAttrString(self, "write");
}

static PyObject *write_method(PyObject *self, PyObject *data) {
    wsgi_req *r = ((StartResponseObject *)self)->req;
    if (r == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "write() called after the response ended");
        return NULL;
    }
    if (!r->started) {
        PyErr_SetString(PyExc_AssertionError, "write() called before start_response");
        return NULL;
    }
    if (!PyBytes_Check(data)) {
        PyErr_Format(PyExc_TypeError, "write() takes bytes, not %.80s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    int send_headers = !r->headers_sent;
    headers_due(r);
    r->headers_pending = 0;
    Py_INCREF(data); /* keeps the buffer alive while the GIL is released */
    PyThreadState *ts = PyEval_SaveThread();
    int rc = gatewayWrite(r->handle, send_headers ? r->hdr : NULL, send_headers ? r->hdr_len : 0,
                          PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data));
    PyEval_RestoreThread(ts);
    Py_DECREF(data);
    if (rc < 0) {
        PyErr_SetString(PyExc_ConnectionError, "client disconnected");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef start_response_methods[] = {
    {"write", (PyCFunction)write_method, METH_O, "write(data): send bytes to the client now."},
    {NULL}};

static PyTypeObject StartResponseType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wsgispec.StartResponse",
    .tp_basicsize = sizeof(StartResponseObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_call = start_response_call,
    .tp_methods = start_response_methods,
    .tp_doc = "start_response(status, response_headers, exc_info=None)",
};

/* ---- wsgi.input ----------------------------------------------------------------------------- */

#define INPUT_BUF 8192

typedef struct {
    PyObject_HEAD
    wsgi_req *req; /* NULL once the request is over: reads then return b"" */
    int eof;
    Py_ssize_t pos, len;
    char buf[INPUT_BUF];
} InputObject;

/* Reads up to n bytes from the client into dst, the GIL released meanwhile. Returns the count,
 * 0 at the end of the body, -1 with an exception set. */
static Py_ssize_t input_fill(InputObject *in, char *dst, Py_ssize_t n) {
    if (in->eof || in->req == NULL) return 0;
    uintptr_t h = in->req->handle;
    PyThreadState *ts = PyEval_SaveThread();
    Py_ssize_t got = gatewayRead(h, dst, n);
    PyEval_RestoreThread(ts);
    if (got < 0) {
        PyErr_SetString(PyExc_OSError, "the request body could not be read (client disconnected, timed out or sent a malformed body)");
        return -1;
    }
    if (got == 0) in->eof = 1;
    return got;
}

/* Grows *out (a bytes object being filled, *used bytes so far) so that need more bytes fit. */
static int grow(PyObject **out, Py_ssize_t used, Py_ssize_t need) {
    Py_ssize_t size = PyBytes_GET_SIZE(*out);
    if (used + need <= size) return 0;
    Py_ssize_t want = size * 2 > used + need ? size * 2 : used + need;
    return _PyBytes_Resize(out, want);
}

static PyObject *input_read_impl(InputObject *in, Py_ssize_t size) {
    Py_ssize_t first = size >= 0 && size < 65536 ? size : 65536;
    PyObject *out = PyBytes_FromStringAndSize(NULL, first);
    if (out == NULL) return NULL;
    Py_ssize_t used = 0;
    while (size < 0 || used < size) {
        if (in->pos < in->len) {
            Py_ssize_t take = in->len - in->pos;
            if (size >= 0 && take > size - used) take = size - used;
            if (grow(&out, used, take) < 0) return NULL;
            memcpy(PyBytes_AS_STRING(out) + used, in->buf + in->pos, take);
            in->pos += take;
            used += take;
            continue;
        }
        Py_ssize_t want = size < 0 ? 65536 : size - used;
        if (grow(&out, used, want) < 0) return NULL;
        Py_ssize_t got = input_fill(in, PyBytes_AS_STRING(out) + used, want);
        if (got < 0) {
            Py_DECREF(out);
            return NULL;
        }
        if (got == 0) break;
        used += got;
    }
    if (_PyBytes_Resize(&out, used) < 0) return NULL;
    return out;
}

static int size_arg(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *size) {
    *size = -1;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "expected at most one argument");
        return -1;
    }
    if (nargs == 1 && args[0] != Py_None) {
        *size = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
        if (*size == -1 && PyErr_Occurred()) return -1;
    }
    return 0;
}

static PyObject *input_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t size;
    if (size_arg(args, nargs, &size) < 0) return NULL;
    return input_read_impl((InputObject *)self, size);
}

static PyObject *input_readline_impl(InputObject *in, Py_ssize_t size) {
    PyObject *out = PyBytes_FromStringAndSize(NULL, 256);
    if (out == NULL) return NULL;
    Py_ssize_t used = 0;
    while (size < 0 || used < size) {
        if (in->pos == in->len) {
            Py_ssize_t got = input_fill(in, in->buf, INPUT_BUF);
            if (got < 0) {
                Py_DECREF(out);
                return NULL;
            }
            in->pos = 0;
            in->len = got;
            if (got == 0) break;
        }
        Py_ssize_t avail = in->len - in->pos;
        if (size >= 0 && avail > size - used) avail = size - used;
        char *nl = memchr(in->buf + in->pos, '\n', avail);
        Py_ssize_t take = nl ? nl - (in->buf + in->pos) + 1 : avail;
        if (grow(&out, used, take) < 0) return NULL;
        memcpy(PyBytes_AS_STRING(out) + used, in->buf + in->pos, take);
        in->pos += take;
        used += take;
        if (nl) break;
    }
    if (_PyBytes_Resize(&out, used) < 0) return NULL;
    return out;
}

static PyObject *input_readline(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t size;
    if (size_arg(args, nargs, &size) < 0) return NULL;
    return input_readline_impl((InputObject *)self, size);
}

static PyObject *input_readlines(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t hint;
    if (size_arg(args, nargs, &hint) < 0) return NULL;
    PyObject *lines = PyList_New(0);
    Py_ssize_t total = 0;
    while (lines != NULL) {
        PyObject *line = input_readline_impl((InputObject *)self, -1);
        if (line == NULL) {
            Py_CLEAR(lines);
            break;
        }
        Py_ssize_t n = PyBytes_GET_SIZE(line);
        if (n == 0) {
            Py_DECREF(line);
            break;
        }
        int rc = PyList_Append(lines, line);
        Py_DECREF(line);
        if (rc < 0) Py_CLEAR(lines);
        total += n;
        if (hint > 0 && total >= hint) break;
    }
    return lines;
}

static PyObject *input_iternext(PyObject *self) {
    PyObject *line = input_readline_impl((InputObject *)self, -1);
    if (line != NULL && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL; /* StopIteration */
    }
    return line;
}

static PyMethodDef input_methods[] = {
    {"read", (PyCFunction)(void (*)(void))input_read, METH_FASTCALL, "read(size=-1)"},
    {"readline", (PyCFunction)(void (*)(void))input_readline, METH_FASTCALL, "readline(size=-1)"},
    {"readlines", (PyCFunction)(void (*)(void))input_readlines, METH_FASTCALL, "readlines(hint=-1)"},
    {NULL}};

static PyTypeObject InputType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wsgispec.Input",
    .tp_basicsize = sizeof(InputObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = input_iternext,
    .tp_methods = input_methods,
    .tp_doc = "wsgi.input: the request body",
};

/* ---- wsgi.errors ---------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    uintptr_t handle; /* 0 once the request is over: writes then go to the gateway's log */
} ErrorsObject;

static PyObject *errors_write(PyObject *self, PyObject *s) {
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "wsgi.errors.write() takes str, not %.80s",
                     Py_TYPE(s)->tp_name);
        return NULL;
    }
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(s, &n);
    if (p == NULL) {
        /* Lone surrogates: log them escaped rather than lose the message. */
        PyErr_Clear();
        PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
        if (b == NULL) return NULL;
        gatewayErrors(((ErrorsObject *)self)->handle, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b));
        Py_DECREF(b);
    } else {
        gatewayErrors(((ErrorsObject *)self)->handle, (char *)p, n);
    }
    return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(s));
}

static PyObject *errors_writelines(PyObject *self, PyObject *seq) {
    PyObject *it = PyObject_GetIter(seq);
    if (it == NULL) return NULL;
    PyObject *item;
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *rc = errors_write(self, item);
        Py_DECREF(item);
        if (rc == NULL) {
            Py_DECREF(it);
            return NULL;
        }
        Py_DECREF(rc);
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

/* Every write reaches the log before it returns, so flush has nothing left to do. */
static PyObject *errors_flush(PyObject *self, PyObject *unused) { Py_RETURN_NONE; }

static PyMethodDef errors_methods[] = {
    {"write", (PyCFunction)errors_write, METH_O, "write(str)"},
    {"writelines", (PyCFunction)errors_writelines, METH_O, "writelines(iterable of str)"},
    {"flush", (PyCFunction)errors_flush, METH_NOARGS, "flush()"},
    {NULL}};

static PyTypeObject ErrorsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wsgispec.Errors",
    .tp_basicsize = sizeof(ErrorsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = errors_methods,
    .tp_doc = "wsgi.errors: text written here goes to the gateway's log",
};

/* ---- wsgi.file_wrapper ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *filelike;
    Py_ssize_t blksize;
} FileWrapperObject;

static int file_wrapper_init(PyObject *self, PyObject *args, PyObject *kwargs) {
    FileWrapperObject *fw = (FileWrapperObject *)self;
    static char *kwlist[] = {"filelike", "blksize", NULL};
    PyObject *filelike;
    Py_ssize_t blksize = 8192;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:file_wrapper", kwlist, &filelike, &blksize))
        return -1;
    if (blksize <= 0) {
        PyErr_SetString(PyExc_ValueError, "blksize must be positive");
        return -1;
    }
    Py_INCREF(filelike);
    Py_XSETREF(fw->filelike, filelike);
    fw->blksize = blksize;
    return 0;
}

static void file_wrapper_dealloc(PyObject *self) {
    Py_XDECREF(((FileWrapperObject *)self)->filelike);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *file_wrapper_next(PyObject *self) {
    FileWrapperObject *fw = (FileWrapperObject *)self;
    PyObject *data = PyObject_CallMethod(fw->filelike, "read", "n", fw->blksize);
    if (data == NULL) return NULL;
    if (PyObject_Length(data) == 0) {
        Py_DECREF(data);
        return NULL;
    }
    return data;
}

static PyObject *file_wrapper_close(PyObject *self, PyObject *unused) {
    FileWrapperObject *fw = (FileWrapperObject *)self;
    if (PyObject_HasAttrString(fw->filelike, "close"))
        return PyObject_CallMethod(fw->filelike, "close", NULL);
    Py_RETURN_NONE;
}

static PyMethodDef file_wrapper_methods[] = {
    {"close", (PyCFunction)file_wrapper_close, METH_NOARGS, "close the wrapped file"},
    {NULL}};

static PyTypeObject FileWrapperType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wsgispec.FileWrapper",
    .tp_basicsize = sizeof(FileWrapperObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = PyType_GenericNew,
    .tp_init = file_wrapper_init,
    .tp_dealloc = file_wrapper_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = file_wrapper_next,
    .tp_methods = file_wrapper_methods,
    .tp_doc = "wsgi.file_wrapper(filelike, blksize=8192): sent with sendfile for regular files",
};

/* ---- the request path ----------------------------------------------------------------------- */

/* Builds the environ dict from Go's packed records: u16 key id (or WSGI_KEY_LITERAL followed by
 * u16 length and the key's bytes), u32 value length, value bytes. Keys and values are latin-1. */
static PyObject *build_environ(wsgi_req *r, const char *p, size_t len, int flags) {
    interp_slot *s = &slots[r->slot];
    PyObject *env = PyDict_New();
    if (env == NULL) return NULL;
    const char *end = p + len;
    while (p < end) {
        uint16_t id;
        uint32_t vlen;
        memcpy(&id, p, 2);
        p += 2;
        PyObject *key;
        if (id == WSGI_KEY_LITERAL) {
            uint16_t klen;
            memcpy(&klen, p, 2);
            p += 2;
            key = PyUnicode_DecodeLatin1(p, klen, NULL);
            p += klen;
        } else {
            key = s->keys[id];
            Py_INCREF(key);
        }
        memcpy(&vlen, p, 4);
        p += 4;
        PyObject *value = PyUnicode_DecodeLatin1(p, vlen, NULL);
        p += vlen;
        if (key == NULL || value == NULL || PyDict_SetItem(env, key, value) < 0) {
            Py_XDECREF(key);
            Py_XDECREF(value);
            Py_DECREF(env);
            return NULL;
        }
        Py_DECREF(key);
        Py_DECREF(value);
    }
    InputObject *in = PyObject_New(InputObject, &InputType);
    ErrorsObject *errs = PyObject_New(ErrorsObject, &ErrorsType);
    if (in == NULL || errs == NULL) {
        Py_XDECREF(in);
        Py_XDECREF(errs);
        Py_DECREF(env);
        return NULL;
    }
    in->req = r;
    in->eof = 0;
    in->pos = in->len = 0;
    errs->handle = r->handle;
    r->input = (PyObject *)in;
    r->errors = (PyObject *)errs;
    if (PyDict_SetItemString(env, "wsgi.version", s->version) < 0 ||
        PyDict_SetItemString(env, "wsgi.url_scheme",
                             flags & WSGI_F_HTTPS ? s->scheme_https : s->scheme_http) < 0 ||
        PyDict_SetItemString(env, "wsgi.input", r->input) < 0 ||
        PyDict_SetItemString(env, "wsgi.errors", r->errors) < 0 ||
        PyDict_SetItemString(env, "wsgi.multithread", flags & WSGI_F_MULTITHREAD ? Py_True : Py_False) < 0 ||
        PyDict_SetItemString(env, "wsgi.multiprocess", flags & WSGI_F_MULTIPROCESS ? Py_True : Py_False) < 0 ||
        PyDict_SetItemString(env, "wsgi.run_once", Py_False) < 0 ||
        PyDict_SetItemString(env, "wsgi.input_terminated", Py_True) < 0 ||
        PyDict_SetItemString(env, "wsgi.file_wrapper", (PyObject *)&FileWrapperType) < 0) {
        Py_DECREF(env);
        return NULL;
    }
    return env;
}

static void fail(wsgi_req *r) {
    r->state = WSGI_ERROR;
    r->error = wsgi_format_exception(&r->error_len);
}

/* Moves to the next non-empty block of the response. Empty blocks are skipped: they never cause
 * the headers to be sent. */
static void advance(wsgi_req *r) {
    Py_CLEAR(r->current);
    for (;;) {
        PyObject *item;
        if (r->is_sequence) {
            PyObject *seq = r->iterable;
            Py_ssize_t n = PyList_Check(seq) ? PyList_GET_SIZE(seq) : PyTuple_GET_SIZE(seq);
            if (r->seq_index >= n) break;
            item = PyList_Check(seq) ? PyList_GET_ITEM(seq, r->seq_index) : PyTuple_GET_ITEM(seq, r->seq_index);
            r->seq_index++;
            Py_INCREF(item);
        } else {
            item = PyIter_Next(r->iterator);
            if (item == NULL) {
                if (PyErr_Occurred()) {
                    fail(r);
                    return;
                }
                break;
            }
        }
        if (!PyBytes_Check(item)) {
            PyErr_Format(PyExc_TypeError, "the application's iterable yielded %.80s, not bytes",
                         Py_TYPE(item)->tp_name);
            Py_DECREF(item);
            fail(r);
            return;
        }
        if (PyBytes_GET_SIZE(item) == 0) {
            Py_DECREF(item);
            continue;
        }
        if (!r->started) {
            Py_DECREF(item);
            PyErr_SetString(PyExc_AssertionError,
                            "the application yielded body data before calling start_response");
            fail(r);
            return;
        }
        headers_due(r);
        r->last = 0;
        if (r->is_sequence) {
            PyObject *seq = r->iterable;
            r->last = r->seq_index == (PyList_Check(seq) ? PyList_GET_SIZE(seq) : PyTuple_GET_SIZE(seq));
        }
        r->current = item;
        r->chunk = PyBytes_AS_STRING(item);
        r->chunk_len = PyBytes_GET_SIZE(item);
        r->state = WSGI_CHUNK;
        return;
    }
    if (!r->started) {
        PyErr_SetString(PyExc_AssertionError,
                        "the application returned without calling start_response");
        fail(r);
        return;
    }
    headers_due(r);
    r->state = WSGI_END;
}

/* A wsgi.file_wrapper over a regular file is sent by Go with sendfile from the file's current
 * position; anything else falls back to iterating. Returns 1 when the file path was taken. */
static int try_file(wsgi_req *r) {
    if (Py_TYPE(r->iterable) != &FileWrapperType || !r->started) return 0;
    PyObject *f = ((FileWrapperObject *)r->iterable)->filelike;
    PyObject *fd_obj = PyObject_CallMethod(f, "fileno", NULL);
    if (fd_obj == NULL) {
        PyErr_Clear();
        return 0;
    }
    int fd = (int)PyLong_AsLong(fd_obj);
    Py_DECREF(fd_obj);
    struct stat st;
    if (PyErr_Occurred() || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        PyErr_Clear();
        return 0;
    }
    PyObject *pos_obj = PyObject_CallMethod(f, "tell", NULL);
    long long pos = pos_obj ? PyLong_AsLongLong(pos_obj) : -1;
    Py_XDECREF(pos_obj);
    if (pos < 0 || PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    int dupfd = dup(fd);
    if (dupfd < 0) return 0;
    headers_due(r);
    r->file_fd = dupfd;
    r->file_off = pos;
    r->file_len = st.st_size > pos ? st.st_size - pos : 0;
    r->state = WSGI_FILE;
    return 1;
}

wsgi_req *wsgi_start(int slot, PyObject *app, const char *env, size_t envlen, uintptr_t handle,
                     int flags) {
    wsgi_req *r = calloc(1, sizeof *r);
    r->slot = slot;
    r->handle = handle;
    r->seq_total = -1;
    r->file_fd = -1;
    wsgi_enter(slot);
    r->environ = build_environ(r, env, envlen, flags);
    StartResponseObject *sr = r->environ ? PyObject_New(StartResponseObject, &StartResponseType) : NULL;
    if (sr == NULL) {
        fail(r);
        wsgi_leave();
        return r;
    }
    sr->req = r;
    r->start_response = (PyObject *)sr;
    r->iterable = PyObject_CallFunctionObjArgs(app, r->environ, r->start_response, NULL);
    if (r->iterable == NULL) {
        fail(r);
    } else if (PyList_CheckExact(r->iterable) || PyTuple_CheckExact(r->iterable)) {
        r->is_sequence = 1;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(r->iterable);
        PyObject **items = PySequence_Fast_ITEMS(r->iterable);
        long long total = 0;
        for (Py_ssize_t i = 0; i < n && total >= 0; i++)
            total = PyBytes_Check(items[i]) ? total + PyBytes_GET_SIZE(items[i]) : -1;
        r->seq_total = total;
        advance(r);
    } else if (!try_file(r)) {
        r->iterator = PyObject_GetIter(r->iterable);
        if (r->iterator == NULL)
            fail(r);
        else
            advance(r);
    }
    wsgi_leave();
    return r;
}

void wsgi_next(wsgi_req *r) {
    wsgi_enter(r->slot);
    advance(r);
    wsgi_leave();
}

/* Calls the iterable's close() (exactly once, whatever happened before) and frees the request.
 * An exception from close() is logged through wsgi.errors. */
void wsgi_finish(wsgi_req *r) {
    wsgi_enter(r->slot);
    PyObject *close_name = slots[r->slot].close_name;
    Py_CLEAR(r->current);
    PyObject *close = NULL;
    /* A lookup that finds nothing raises no AttributeError, whose message costs more to format
     * than the rest of a small request. */
    if (r->iterable != NULL && !PyList_CheckExact(r->iterable) && !PyTuple_CheckExact(r->iterable) &&
        _PyObject_LookupAttr(r->iterable, close_name, &close) < 0)
        PyErr_Clear();
    if (close != NULL) {
        PyObject *rc = PyObject_CallNoArgs(close);
        Py_DECREF(close);
        if (rc == NULL) {
            size_t n;
            char *tb = wsgi_format_exception(&n);
            const char *prefix = "Exception in the response iterable's close():\n";
            gatewayErrors(r->handle, (char *)prefix, strlen(prefix));
            gatewayErrors(r->handle, tb, n);
            free(tb);
        }
        Py_XDECREF(rc);
    }
    if (r->start_response) ((StartResponseObject *)r->start_response)->req = NULL;
    if (r->input) ((InputObject *)r->input)->req = NULL;
    if (r->errors) ((ErrorsObject *)r->errors)->handle = 0;
    Py_CLEAR(r->iterator);
    Py_CLEAR(r->iterable);
    Py_CLEAR(r->start_response);
    Py_CLEAR(r->input);
    Py_CLEAR(r->errors);
    Py_CLEAR(r->environ);
    wsgi_leave();
    free(r->hdr);
    free(r->error);
    free(r);
}

/* Asks the Python thread running a request to stop: RequestTimeout is raised in it at its next
 * bytecode (a thread blocked inside a C call sees it only when that call returns). Returns the
 * number of threads reached (0 if the request already left Python). */
int wsgi_interrupt(int slot, unsigned long thread_id) {
    wsgi_enter(slot);
    int n = PyThreadState_SetAsyncExc(thread_id, slots[slot].request_timeout);
    wsgi_leave();
    return n;
}
