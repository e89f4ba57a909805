/* The C half of the gateway: what Python must call (start_response, write, wsgi.input,
 * wsgi.errors, wsgi.file_wrapper) and the request path, which runs on threads of its own (the
 * executor, see wsgi.c): Go submits a request and then does what the request's thread posts to it
 * (send a block, read the body, log), one event at a time. cpy3 cannot define Python-callable
 * functions or types, so these live here; Go owns the network, C owns every Python object.
 *
 * GIL discipline: Go never holds the GIL while it reads from or writes to a client. An executor
 * thread holds it from the app call to close(), and releases it whenever it waits for Go. */
#ifndef WSGISPEC_GATEWAY_WSGI_H
#define WSGISPEC_GATEWAY_WSGI_H

#include <Python.h>
#include <stdint.h>

#define WSGI_MAX_INTERP 256

/* Where a response stands after the app call or the next step of its iteration. */
enum wsgi_state {
    WSGI_CHUNK = 1, /* chunk/chunk_len hold the next non-empty body block */
    WSGI_END = 2,   /* the iterable is exhausted */
    WSGI_ERROR = 3, /* the app raised (or broke the protocol); error holds the traceback */
    WSGI_FILE = 4,  /* a wsgi.file_wrapper over a regular file: send file_fd from file_off */
};

/* Environ keys Go refers to by number (the packed environ's key ids). Their str objects are
 * created once per interpreter, so a request builds no key strings for them. */
enum wsgi_key {
    K_REQUEST_METHOD, K_SCRIPT_NAME, K_PATH_INFO, K_QUERY_STRING, K_CONTENT_TYPE,
    K_CONTENT_LENGTH, K_SERVER_NAME, K_SERVER_PORT, K_SERVER_PROTOCOL, K_REMOTE_ADDR,
    K_REMOTE_PORT, K_REQUEST_URI, K_SERVER_SOFTWARE, K_HTTPS,
    K_HTTP_HOST, K_HTTP_USER_AGENT, K_HTTP_ACCEPT, K_HTTP_ACCEPT_ENCODING,
    K_HTTP_ACCEPT_LANGUAGE, K_HTTP_CONNECTION, K_HTTP_COOKIE, K_HTTP_TRANSFER_ENCODING,
    K_HTTP_CACHE_CONTROL, K_HTTP_REFERER, K_HTTP_ORIGIN, K_HTTP_AUTHORIZATION,
    K_HTTP_IF_NONE_MATCH, K_HTTP_IF_MODIFIED_SINCE, K_HTTP_X_FORWARDED_FOR,
    K_HTTP_X_FORWARDED_PROTO, K_HTTP_EXPECT,
    K_COUNT
};
#define WSGI_KEY_LITERAL 0xFFFF

/* Request flags (wsgi_submit's flags argument). */
#define WSGI_F_MULTITHREAD 1
#define WSGI_F_MULTIPROCESS 2
#define WSGI_F_HTTPS 4

/* What the C thread running a request asks of Go (wsgi_req.posted bits, taken by wsgi_take). At
 * most one of BLOCK, WRITE and READ is outstanding at a time: the C thread waits for Go's ack of
 * one before it posts the next, so blocks go out in order and one at a time. */
enum wsgi_event {
    EV_BLOCK = 1,  /* send out/out_len (after hdr when out_headers); ack: -1 stops the response */
    EV_WRITE = 2,  /* write(): the same, flushed before the ack; the app waits for it */
    EV_READ = 4,   /* wsgi.input: read up to out_len bytes into out; ack: the count, 0 EOF, -1 error */
    EV_FILE = 8,   /* send file_fd (Go's to close) from file_off, file_len bytes, after hdr when
                    * end_headers */
    EV_END = 16,   /* the body is complete (after hdr when end_headers) */
    EV_ERROR = 32, /* the app raised: error holds the traceback */
    EV_LOG = 64,   /* text written to wsgi.errors waits in log (taken with every event) */
    EV_DONE = 128, /* close() has run and the app's objects are released: C no longer touches the
                    * request, which Go frees with wsgi_free */
};

typedef struct wsgi_req wsgi_req;
struct wsgi_req {
    /* Read by Go once the event that fills them is taken; C does not change them until acked. */
    const char *out;
    Py_ssize_t out_len;
    int out_headers;       /* send hdr (status\0name\0value\0...) first */
    int out_flush;         /* the block should leave now, not when the buffer fills */
    char *hdr;
    size_t hdr_len;
    int end_headers;       /* EV_END, EV_FILE: send hdr first */
    long long seq_total;   /* sum of a list or tuple's bytes lengths, or -1 */
    int file_fd;           /* EV_FILE: a dup of the file's descriptor, owned by Go */
    long long file_off, file_len;
    char *error;           /* EV_ERROR: the formatted traceback (UTF-8) */
    size_t error_len;

    /* Private to C (the executor's lock guards those shared with Go). */
    int posted, queued, outstanding, stop;
    long long ack_rc;
    char *log;             /* text written to wsgi.errors, handed to Go by wsgi_take */
    size_t log_len, log_cap;
    unsigned long thread;  /* the pthread running the request, 0 before it starts */
    wsgi_req *next;        /* in the executor's job queue, then in its ready list */
    void *cond;            /* the running thread's condition variable */
    int slot, flags;
    PyObject *app;
    char *env;
    size_t envlen;
    uintptr_t handle;      /* Go's cgo.Handle of the exchange */
    int started;           /* start_response has been called */
    int headers_sent, headers_pending, is_sequence;
    size_t hdr_cap;
    PyObject *environ, *start_response, *input, *errors;
    PyObject *iterable, *iterator, *current, *sending;
    Py_ssize_t seq_index;
    const char *chunk;
    Py_ssize_t chunk_len;
    int state;
};

int wsgi_runtime_init(void);
int wsgi_interp_new(int slot, char **err);
int wsgi_interp_main(int slot);
int wsgi_interp_end(int slot);
void wsgi_enter(int slot);
void wsgi_leave(void);
char *wsgi_format_exception(size_t *len);

int wsgi_exec_init(void);
wsgi_req *wsgi_submit(int slot, PyObject *app, const char *env, size_t envlen, uintptr_t handle,
                      int flags);
uintptr_t wsgi_ready(void);
int wsgi_take(wsgi_req *r, char **log, size_t *log_len);
void wsgi_ack(wsgi_req *r, long long rc, int stop);
void wsgi_free(wsgi_req *r);
int wsgi_interrupt(int slot, wsgi_req *r);

#endif
