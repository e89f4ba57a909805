/* The C half of the gateway: what Python must call (start_response, write, wsgi.input,
 * wsgi.errors, wsgi.file_wrapper) and the request path's hot loop, which crosses from Go into C
 * once per response chunk. cpy3 cannot define Python-callable functions or types, so these live
 * here; Go owns the network, C owns every Python object.
 *
 * GIL discipline: every function below that Go calls takes the GIL on entry (through the calling
 * OS thread's own thread state for the app's interpreter) and releases it before returning, so Go
 * never holds the GIL while it reads from or writes to a client. */
#ifndef WSGISPEC_GATEWAY_WSGI_H
#define WSGISPEC_GATEWAY_WSGI_H

#include <Python.h>
#include <stdint.h>

#define WSGI_MAX_INTERP 256

/* Where a response stands after wsgi_start or wsgi_next. */
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

/* Request flags (wsgi_start's flags argument). */
#define WSGI_F_MULTITHREAD 1
#define WSGI_F_MULTIPROCESS 2
#define WSGI_F_HTTPS 4

typedef struct wsgi_req {
    /* Read by Go after each call. */
    int state;
    const char *chunk;
    Py_ssize_t chunk_len;
    int headers_pending;   /* Go must send hdr (status\0name\0value\0...) before the chunk */
    char *hdr;
    size_t hdr_len;
    int headers_sent;
    int is_sequence;       /* the iterable is a list or tuple: every block is ready at once */
    int last;              /* chunk is a sequence's last block: no need to ask for another */
    long long seq_total;   /* sum of a sequence's bytes lengths, or -1 */
    int file_fd;           /* WSGI_FILE: a dup of the file's descriptor, owned by Go */
    long long file_off, file_len;
    char *error;           /* WSGI_ERROR: the formatted traceback (UTF-8) */
    size_t error_len;

    /* Private to C. */
    int slot;
    uintptr_t handle;      /* Go's cgo.Handle of the exchange, for the callbacks */
    int started;           /* start_response has been called */
    size_t hdr_cap;
    PyObject *environ, *start_response, *input, *errors;
    PyObject *iterable, *iterator, *current;
    Py_ssize_t seq_index;
} wsgi_req;

int wsgi_runtime_init(void);
int wsgi_interp_new(int slot, char **err);
int wsgi_interp_main(int slot);
int wsgi_interp_end(int slot);
extern long wsgi_app_timer_slack;
void wsgi_use_app_timer_slack(void);
void wsgi_enter(int slot);
void wsgi_leave(void);
char *wsgi_format_exception(size_t *len);

wsgi_req *wsgi_start(int slot, PyObject *app, const char *env, size_t envlen, uintptr_t handle,
                     int flags);
void wsgi_next(wsgi_req *r);
void wsgi_finish(wsgi_req *r);
int wsgi_interrupt(int slot, unsigned long thread_id);

#endif
