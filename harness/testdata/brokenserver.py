"""A small threaded HTTP/1.1 WSGI server for wsgispec's own tests: correct by default, with
deliberate defects that can be switched on one conformance area at a time, so that a test can
prove the suite catches each kind of departure from PEP 3333.

usage: brokenserver.py HOST PORT MODULE:CALLABLE   (run from the app's directory)

BROKEN=area[,area...] in the environment switches on that area's defects:
  environ        environ is a dict subclass, SERVER_PORT an int, PATH_INFO decoded as UTF-8
  input          read(size) and readline(size) ignore size, a chunked body reads as empty
  errors         wsgi.errors has only write(), which rejects non-ASCII text
  start_response returns None instead of write, allows a second call, checks nothing, adds no Date
  headers        status and headers are sent when start_response is called, not with the body
  exc_info       exc_info is ignored: no replacement before sending, no re-raise after
  write          write() output is held until the application returns
  close          the iterable's close() is never called
  body           the app's Content-Length is not enforced, HEAD gets a body, HTTP/1.0 gets chunks
  file_wrapper   the wrapper rewinds the file and never closes it
  http           Foo_Bar joins HTTP_FOO_BAR, a SCRIPT_NAME header sets SCRIPT_NAME,
                 Content-Length wins over chunked, any header size is accepted
  hang           requests for /environ... never get an answer (others do, so the server starts)
  busy           one connection at a time (single-threaded, like wsgiref), and after answering a
                 request for /exception the server stays busy for BUSY_SECONDS (default 15)

and one defect for each case that the areas' defects do not single out:
  header-case        application header names are compared case-sensitively (a lower-case
                     content-length is missed, so the body is chunked beside it)
  error-before-body  an exception before any body sends the stored status and headers
  write-past-length  write() past the Content-Length sends everything and does not raise
  empty-chunk        an empty bytestring after the body started is sent as a (last) chunk
  no-content-body    204 and 304 responses are chunked
  iterate-past-length  iteration goes on after the Content-Length is met
  close-skipped      close() is not called when the server itself ends or skips iteration
  not-dumb           repeated header fields are joined, the reason phrase is the server's own
  environ-framing    the response is framed by the environ the application may have rewritten
  write-dropped      write() output is dropped when the returned iterable is empty
  sniff              a returned object with read() is read instead of iterated
  concurrency        wsgi.multithread says false, though requests run in threads
  callable-kind      an application that is not a plain function is refused at start-up
  no-host            SERVER_NAME and SERVER_PORT come from Host only (empty without it)
  https              over TLS, wsgi.url_scheme says "http" and HTTPS is not set
  second-call-after-raise  a start_response call that raised does not count: the next call
                     without exc_info is accepted

TLS_CERT and TLS_KEY in the environment make it serve HTTPS.
"""

import email.utils
import http
import importlib
import inspect
import os
import re
import socket
import ssl
import sys
import threading
import time
import traceback
from urllib.parse import unquote_to_bytes

AREAS = {"environ", "input", "errors", "start_response", "headers", "exc_info", "write", "close",
         "body", "file_wrapper", "http", "hang",
         "header-case", "error-before-body", "write-past-length", "empty-chunk", "no-content-body",
         "iterate-past-length", "close-skipped", "not-dumb", "environ-framing", "write-dropped",
         "sniff", "concurrency", "callable-kind", "no-host", "https", "busy", "second-call-after-raise"}
BROKEN = {a.strip() for a in os.environ.get("BROKEN", "").split(",") if a.strip()}

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade"}
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
# Latin-1 text without control characters (tab allowed in a field value).
STATUS = re.compile(r"[1-9][0-9][0-9] [\x20-\x7e\x80-\xff]*\Z")
FIELD_VALUE = re.compile(r"[\x09\x20-\x7e\x80-\xff]*\Z")
MAX_HEAD = 64 * 1024
DRAIN_LIMIT = 1 << 20


class BadRequest(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


# --- request bodies ---------------------------------------------------------------------------


class LengthBody:
    """Reads up to Content-Length bytes, never further."""

    def __init__(self, rfile, length):
        self.rfile, self.left = rfile, length

    def __call__(self, size):
        if self.left <= 0:
            return b""
        data = self.rfile.read1(min(size, self.left))
        if not data:
            raise ConnectionError("client closed the connection mid-body")
        self.left -= len(data)
        return data


class ChunkedBody:
    """Decodes a chunked body, trailers included."""

    def __init__(self, rfile):
        self.rfile, self.left, self.done = rfile, 0, False

    def __call__(self, size):
        if self.done:
            return b""
        if self.left == 0:
            line = self.rfile.readline(1024)
            try:
                self.left = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise ConnectionError("invalid chunk size line %r" % line)
            if self.left == 0:
                while self.rfile.readline(MAX_HEAD) not in (b"\r\n", b"\n", b""):
                    pass
                self.done = True
                return b""
        data = self.rfile.read1(min(size, self.left))
        if not data:
            raise ConnectionError("client closed the connection mid-chunk")
        self.left -= len(data)
        if self.left == 0:
            self.rfile.readline(3)  # the CRLF after the chunk's data
        return data


class Input:
    """wsgi.input over a body source that returns 1..n bytes per call and b"" at the end."""

    def __init__(self, source, before_first_read=None):
        self.source, self.before_first_read = source, before_first_read
        self.buf, self.eof = b"", False

    def _fill(self):
        if self.eof:
            return False
        if self.before_first_read:
            self.before_first_read()
            self.before_first_read = None
        data = self.source(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read(self, size=-1):
        if size is None or size < 0:
            while self._fill():
                pass
            size = len(self.buf)
        while len(self.buf) < size and self._fill():
            pass
        data, self.buf = self.buf[:size], self.buf[size:]
        return data

    def readline(self, size=-1):
        limited = size is not None and size >= 0
        while b"\n" not in self.buf and not (limited and len(self.buf) >= size) and self._fill():
            pass
        end = self.buf.find(b"\n") + 1 or len(self.buf)
        if limited:
            end = min(end, size)
        line, self.buf = self.buf[:end], self.buf[end:]
        return line

    def readlines(self, hint=-1):
        lines, total = [], 0
        for line in self:
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def drain(self, limit):
        """Consumes what the application left unread; False when more than limit was left, or
        when the client still waits for 100 Continue (the final response has been sent)."""
        if self.before_first_read:
            return False
        while len(self.buf) <= limit and self._fill():
            pass
        return len(self.buf) <= limit and self.eof


class SizeIgnoringInput(Input):
    def read(self, size=-1):
        return super().read(-1)

    def readline(self, size=-1):
        return super().readline(-1)


class AsciiOnlyErrors:
    def write(self, text):
        sys.stderr.write(text.encode("ascii").decode("ascii"))


class RewindingFileWrapper:
    def __init__(self, filelike, blksize=8192):
        self.filelike, self.blksize = filelike, blksize
        if hasattr(filelike, "seek"):
            filelike.seek(0)

    def __iter__(self):
        while True:
            data = self.filelike.read(self.blksize)
            if not data:
                return
            yield data


class FileWrapper:
    def __init__(self, filelike, blksize=8192):
        self.filelike, self.blksize = filelike, blksize

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if not data:
            raise StopIteration
        return data

    def close(self):
        if hasattr(self.filelike, "close"):
            self.filelike.close()


# --- responses --------------------------------------------------------------------------------


class Response:
    def __init__(self, wfile, method, version, keep_alive):
        self.wfile, self.method, self.version = wfile, method, version
        self.keep_alive = keep_alive
        self.status = self.headers = None
        self.called = False  # start_response was called, whether or not that call raised
        self.sent = self.chunked = False
        self.length = None  # the application's Content-Length
        self.written = 0
        self.held = []  # write() output, when write is broken

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if "exc_info" in BROKEN:
                    return self.write
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.called and "start_response" not in BROKEN:
            raise AssertionError("start_response called a second time without exc_info")
        # As the PEP's example gateway: the call counts before its arguments are checked, so that
        # after a failed check only a call with exc_info is accepted.
        if "second-call-after-raise" not in BROKEN:
            self.called = True
        if "start_response" not in BROKEN:
            check_status_and_headers(status, headers)
        self.called = True
        self.status, self.headers = status, list(headers)
        if "headers" in BROKEN and not self.sent:
            self.send_head(empty=False)
        return None if "start_response" in BROKEN else self.write

    def write(self, data):
        if self.status is None:
            raise AssertionError("write() called before start_response")
        if not isinstance(data, bytes):
            raise TypeError("write() takes bytes, not %s" % type(data).__name__)
        if "write" in BROKEN or "write-dropped" in BROKEN:
            self.held.append(data)
            return
        before = self.written
        self.send(data)
        if self.length is not None and before + len(data) > self.length and "write-past-length" not in BROKEN:
            raise ValueError("write() past the Content-Length of %d" % self.length)

    def send(self, data):
        if not isinstance(data, bytes):
            raise TypeError("the application yielded %s, not bytes" % type(data).__name__)
        if not data and not ("empty-chunk" in BROKEN and self.sent):
            return
        if not self.sent:
            self.send_head(empty=False)
        if self.method == "HEAD" and "body" not in BROKEN:
            return
        if self.length is not None and "body" not in BROKEN and "write-past-length" not in BROKEN:
            data = data[:max(self.length - self.written, 0)]
        self.written += len(data)
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data) if data or "empty-chunk" in BROKEN else b""
        self.wfile.write(data)
        self.wfile.flush()

    def send_head(self, empty):
        if self.status is None:
            raise AssertionError("the application returned without calling start_response")
        self.sent = True
        code = int(self.status[:3]) if self.status[:3].isdigit() else 500
        headers = list(self.headers)
        exact = "header-case" in BROKEN
        names = {str(n) if exact else str(n).lower() for n, _ in headers}

        def has(canonical):
            return (canonical if exact else canonical.lower()) in names

        bodiless = self.method == "HEAD" or code < 200 or code in (204, 304) and "no-content-body" not in BROKEN
        if "not-dumb" in BROKEN:
            joined = {}
            for name, value in headers:
                joined[name.lower()] = joined[name.lower()] + ", " + value if name.lower() in joined else value
            headers = [(n.title(), v) for n, v in joined.items()]
        if has("Content-Length"):
            for name, value in headers:
                if name.lower() == "content-length":
                    self.length = int(value)
        elif empty and not bodiless:
            headers.append(("Content-Length", "0"))
        elif bodiless and "body" not in BROKEN:
            pass
        elif self.version == "HTTP/1.1" or "body" in BROKEN:
            self.chunked = True
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            self.keep_alive = False  # close-delimited
        if not has("Date") and "start_response" not in BROKEN:
            headers.append(("Date", email.utils.formatdate(usegmt=True)))
        headers.append(("Server", "brokenserver"))
        if not self.keep_alive:
            headers.append(("Connection", "close"))
        status = self.status
        if "not-dumb" in BROKEN:
            try:
                status = "%d %s" % (code, http.HTTPStatus(code).phrase)
            except ValueError:
                status = "%d Unknown" % code
        head = "HTTP/1.1 %s\r\n" % status + "".join("%s: %s\r\n" % h for h in headers) + "\r\n"
        self.wfile.write(head.encode("latin-1"))
        self.wfile.flush()

    def finish(self, yielded=True):
        for data in self.held if yielded or "write-dropped" not in BROKEN else []:
            self.send(data)
        if not self.sent:
            self.send_head(empty=True)
        if self.chunked:
            self.wfile.write(b"0\r\n\r\n")
        elif self.length is not None and self.written < self.length and self.method != "HEAD":
            self.keep_alive = False  # the client waits for bytes that never come: close instead
        self.wfile.flush()


def check_status_and_headers(status, headers):
    if type(status) is not str or not STATUS.match(status):
        raise AssertionError("invalid status %r" % (status,))
    if type(headers) is not list:
        raise AssertionError("headers must be a list, not %s" % type(headers).__name__)
    for item in headers:
        if type(item) is not tuple or len(item) != 2 or not all(type(x) is str for x in item):
            raise AssertionError("header %r is not a (str, str) tuple" % (item,))
        name, value = item
        if not TOKEN.match(name) or not FIELD_VALUE.match(value):
            raise AssertionError("invalid header %r" % (item,))
        if name.lower() in HOP_BY_HOP:
            raise AssertionError("hop-by-hop header %r is the server's business" % name)


# --- connections ------------------------------------------------------------------------------


class Server:
    def __init__(self, host, port, app, tls=None):
        self.host, self.port, self.app, self.tls = host, port, app, tls
        self.busy_after = False

    def serve(self):
        listener = socket.create_server((self.host, self.port), backlog=128)
        if self.tls:
            listener = self.tls.wrap_socket(listener, server_side=True)
        print("brokenserver: listening on %s:%d, defects: %s" % (
            self.host, self.port, ",".join(sorted(BROKEN)) or "none"), flush=True)
        while True:
            try:
                conn, addr = listener.accept()
            except (ssl.SSLError, OSError):
                continue  # a failed TLS handshake ends that connection only
            if "busy" in BROKEN:
                self.connection(conn, addr)
                continue
            threading.Thread(target=self.connection, args=(conn, addr), daemon=True).start()

    def connection(self, conn, addr):
        conn.settimeout(60)
        rfile, wfile = conn.makefile("rb"), conn.makefile("wb")
        try:
            while self.request(rfile, wfile, addr):
                pass
        except (ConnectionError, socket.timeout, OSError):
            pass
        finally:
            for f in (wfile, rfile):
                try:
                    f.close()
                except OSError:
                    pass
            conn.close()
            if self.busy_after:
                # The one thread serving every connection is busy: new connections wait.
                self.busy_after = False
                time.sleep(float(os.environ.get("BUSY_SECONDS", "15")))

    def request(self, rfile, wfile, addr):
        """Serves one request; returns whether the connection stays open."""
        try:
            head = read_head(rfile)
            if head is None:
                return False
            method, target, version, headers = head
            environ, body_input = self.environ(rfile, wfile, addr, method, target, version, headers)
        except BadRequest as e:
            body = (str(e) + "\n").encode("latin-1")
            wfile.write(b"HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                        b"Connection: close\r\n\r\n%s" % (e.status.encode(), len(body), body))
            wfile.flush()
            return False
        if "hang" in BROKEN and environ["PATH_INFO"].startswith("/environ"):
            threading.Event().wait()
        options = {t.strip().lower() for n, v in headers if n.lower() == "connection" for t in v.split(",")}
        keep_alive = version == "HTTP/1.1" and "close" not in options
        resp = Response(wfile, method, version, keep_alive)
        if "busy" in BROKEN and environ["PATH_INFO"] == "/exception":
            self.busy_after = True  # see connection()
        try:
            self.run_app(environ, resp)
        except (ConnectionError, BrokenPipeError):
            return False
        except Exception:
            traceback.print_exc()
            if resp.sent:
                return False  # abort: the client must not take a truncated response as whole
            body = b"Internal Server Error\n"
            wfile.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            wfile.flush()
            return False
        return resp.keep_alive and body_input.drain(DRAIN_LIMIT)

    def run_app(self, environ, resp):
        try:
            result = self.app(environ, resp.start_response)
        except Exception:
            if "error-before-body" in BROKEN and resp.status is not None:
                resp.send_head(empty=False)
            raise
        if "environ-framing" in BROKEN:
            resp.method = environ.get("REQUEST_METHOD", resp.method)
        ended_early = False  # the server stopped iterating, or never started, on its own
        try:
            if isinstance(result, (list, tuple)) and len(result) == 1 and resp.status is not None \
                    and not resp.sent and not any(n.lower() == "content-length" for n, _ in resp.headers) \
                    and isinstance(result[0], bytes):
                resp.headers.append(("Content-Length", str(len(result[0]))))
            blocks = [result.read()] if "sniff" in BROKEN and hasattr(result, "read") else result
            yielded = False
            for data in blocks:
                if resp.status is None:
                    raise AssertionError("the application yielded before calling start_response")
                yielded = yielded or bool(data)
                resp.send(data)
                if resp.length is not None and resp.written >= resp.length and "iterate-past-length" not in BROKEN \
                        and "body" not in BROKEN:
                    ended_early = True
                    break
            resp.finish(yielded)
        except Exception:
            if "error-before-body" in BROKEN and resp.status is not None and not resp.sent:
                resp.send_head(empty=False)
            ended_early = True
            raise
        finally:
            ended_early = ended_early or resp.method == "HEAD"
            if hasattr(result, "close") and "close" not in BROKEN and not ("close-skipped" in BROKEN and ended_early):
                result.close()

    def environ(self, rfile, wfile, addr, method, target, version, headers):
        lengths = {v.strip() for n, v in headers if n.lower() == "content-length"}
        chunked = any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in headers)
        if "http" in BROKEN:
            lengths = set(sorted(lengths)[:1])
            chunked = chunked and not lengths
        if len(lengths) > 1:
            raise BadRequest("400 Bad Request", "conflicting Content-Length values")
        if lengths and chunked:
            raise BadRequest("400 Bad Request", "both Content-Length and Transfer-Encoding")
        length = lengths.pop() if lengths else ""
        if length and not length.isdigit():
            raise BadRequest("400 Bad Request", "invalid Content-Length")

        def send_continue():
            wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            wfile.flush()

        expects_continue = any(n.lower() == "expect" and v.lower() == "100-continue" for n, v in headers)

        if chunked:
            source = ChunkedBody(rfile) if "input" not in BROKEN else (lambda size: b"")
        else:
            source = LengthBody(rfile, int(length or 0))
        body_input = (SizeIgnoringInput if "input" in BROKEN else Input)(source, send_continue if expects_continue else None)
        if chunked and "input" in BROKEN:
            body_input.drain = lambda limit: False  # the undecoded body is still on the wire

        path, _, query = target.partition("?")
        raw_path = unquote_to_bytes(path)
        environ = ({} if "environ" not in BROKEN else type("Environ", (dict,), {})())
        environ.update({
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": raw_path.decode("utf-8", "replace") if "environ" in BROKEN else raw_path.decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": self.host,
            "SERVER_PORT": self.port if "environ" in BROKEN else str(self.port),
            "wsgi.url_scheme": "https" if self.tls and "https" not in BROKEN else "http",
            "SERVER_PROTOCOL": version,
            "SERVER_SOFTWARE": "brokenserver",
            "REMOTE_ADDR": addr[0],
            "REMOTE_PORT": str(addr[1]),
            "wsgi.version": (1, 0),
            "wsgi.input": body_input,
            "wsgi.errors": AsciiOnlyErrors() if "errors" in BROKEN else sys.stderr,
            "wsgi.multithread": "concurrency" not in BROKEN,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
            "wsgi.file_wrapper": RewindingFileWrapper if "file_wrapper" in BROKEN else FileWrapper,
        })
        if length:
            environ["CONTENT_LENGTH"] = length
        if self.tls and "https" not in BROKEN:
            environ["HTTPS"] = "on"
        if "no-host" in BROKEN:
            host = next((v for n, v in headers if n.lower() == "host"), "")
            environ["SERVER_NAME"], _, environ["SERVER_PORT"] = host.partition(":")
        for name, value in headers:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
                continue
            if "_" in name and "http" not in BROKEN:
                continue  # Foo_Bar would collide with Foo-Bar: drop it, as nginx and Apache do
            if key == "SCRIPT_NAME" and "http" in BROKEN:
                environ["SCRIPT_NAME"] = value
            key = "HTTP_" + key
            environ[key] = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value if key in environ else value
        return environ, body_input


def read_head(rfile):
    """The request line and headers, or None when the client closed the connection first."""
    limit = MAX_HEAD if "http" not in BROKEN else 1 << 30
    line = rfile.readline(limit + 1)
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(limit + 1)
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.0", "HTTP/1.1") or not TOKEN.match(parts[0]):
        raise BadRequest("400 Bad Request", "invalid request line %r" % line[:100])
    headers, total = [], len(line)
    while True:
        line = rfile.readline(limit + 1)
        total += len(line)
        if total > limit:
            raise BadRequest("431 Request Header Fields Too Large", "the request head exceeds %d bytes" % limit)
        if not line:
            raise ConnectionError("client closed the connection mid-head")
        if line in (b"\r\n", b"\n"):
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not TOKEN.match(name):
            raise BadRequest("400 Bad Request", "invalid header line %r" % line[:100])
        headers.append((name, value.strip(" \t\r\n")))
    return parts[0], parts[1], parts[2], headers


def main():
    unknown = BROKEN - AREAS
    if unknown:
        sys.exit("brokenserver: unknown defects %s (known: %s)" % (
            ",".join(sorted(unknown)), ",".join(sorted(AREAS))))
    host, port, spec = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    module, _, name = spec.partition(":")
    sys.path.insert(0, os.getcwd())
    app = getattr(importlib.import_module(module), name or "application")
    if "callable-kind" in BROKEN and not inspect.isfunction(app):
        sys.exit("brokenserver: %s is not a function" % spec)
    tls = None
    if os.environ.get("TLS_CERT"):
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(os.environ["TLS_CERT"], os.environ["TLS_KEY"])
    Server(host, port, app, tls).serve()


if __name__ == "__main__":
    main()
