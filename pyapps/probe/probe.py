"""The wsgispec probe: one WSGI callable that routes by PATH_INFO to every behaviour the PEP 3333
conformance specs need, so that each server under test is started once per run.

What a client can see (environ, what wsgi.input returned, status and headers) comes back in the
response body as JSON. What only the server side can see (close() calls, whether start_response
raised, what wsgiref.validate found) is appended as JSON lines to
<WSGISPEC_PROBE_DIR>/<token>.jsonl, where the token is the request's own "token" query parameter,
so that concurrent requests, several worker processes and repeated runs never mix records. Every
route records when the application is done with the request: "app-raised", or
"app-returned-without-close" for a result without close(); the probe's own iterables record
"close" when the server closes them.

Every call of the application, token or not, also appends a "begin" line to
<WSGISPEC_PROBE_DIR>/requests.jsonl and an "end" line once the application is done with the
request: it raised, returned a result without close(), its result was closed, or the server
dropped the result without closing it ("abandoned"), or iterating it ended (exhausted, or raised). The harness waits after each case until
every request begun has ended, so that a case never inherits a server still busy with the last.

Only the standard library of Python 3.11, so that every server can load it.

Routes (first segment of PATH_INFO):
  "" or /environ   the environ, every value with its type (str values also as latin-1 bytes);
                   values of keys that look secret are hidden unless reveal=KEY,... names them
  /input           ops=read:N,read,readline,readline:N,readlines,readlines:H,iter,next:N,drain:N
                   on wsgi.input
  /errors          ops=write,writelines,flush,unicode on wsgi.errors
  /stream          a scripted response: status, h (headers), app and iter step lists, lazy, kind
  /start-response  try=returns-write, second-call, status:<variant>, headers:<variant>,
                   header:<Name>:<value> (reports whether start_response raised)
  /exception       raises before calling start_response
  /file-wrapper    returns wsgi.file_wrapper over a real or file-like object
  /concurrency     holds the request, reports pid and OS thread, for the multithread/multiprocess flags
  /mutate-environ  rewrites its environ (method, protocol, Connection, path, new keys), then streams
  /not-sniffed     returns an iterable that also has read() and fileno() giving other bytes
  /validated       an echo app wrapped in wsgiref.validate.validator
  /idle            a tiny answer: the harness asks it to see that the server serves new requests

The callable behaves like a plain function of (environ, start_response) to a server that inspects
it: inspect.signature shows those two parameters, and other arguments raise TypeError (some
servers call an app with no arguments to find out whether it is a factory).
"""

import base64
import inspect
import itertools
import io
import json
import os
import re
import sys
import tempfile
import threading
import time
import warnings
import wsgiref.validate
from urllib.parse import parse_qsl

PROBE_DIR_KEY = "WSGISPEC_PROBE_DIR"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
# Environ keys whose values the /environ dump hides: some servers copy their process environment
# into environ, and the dump ends up in public CI artifacts. The harness uses the same pattern.
SECRET_KEY = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|AUTH|COOKIE", re.IGNORECASE)
REDACTED = "[redacted]"


class ProbeError(Exception):
    """Raised on purpose by scripted responses (never a bug in the probe)."""


# --- helpers --------------------------------------------------------------------------------


def b64(data):
    return base64.b64encode(data).decode("ascii")


def type_name(value):
    t = type(value)
    if t.__module__ == "builtins":
        return t.__qualname__
    return t.__module__ + "." + t.__qualname__


def error_text(exc):
    return "%s: %s" % (type_name(exc), exc)


def query(environ):
    """The query parameters as a list of pairs; percent-escapes decode as latin-1 so that any
    byte can be passed."""
    return parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True, encoding="latin-1")


def param(environ, name, default=""):
    for key, value in query(environ):
        if key == name:
            return value
    return default


def json_response(start_response, payload, status="200 OK", exc_info=None):
    body = json.dumps(payload).encode("ascii")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if exc_info is None:
        start_response(status, headers)
    else:
        start_response(status, headers, exc_info)
    return [body]


def probe_dir(environ):
    """The side-channel directory: the process environment's, else the WSGI environ's (mod_wsgi's
    SetEnv puts it only there)."""
    return os.environ.get(PROBE_DIR_KEY) or environ.get(PROBE_DIR_KEY)


class Recorder:
    """Appends one request's server-side observations to its token's file. Without a token or a
    probe directory it records nothing (the specs that need records skip in that case)."""

    def __init__(self, environ):
        directory = probe_dir(environ)
        token = param(environ, "token")
        self.path = None
        if directory and TOKEN_PATTERN.match(token):
            self.path = os.path.join(directory, token + ".jsonl")

    def __call__(self, event, **fields):
        if self.path is None:
            return
        fields.update(event=event, t=time.time(), pid=os.getpid())
        line = json.dumps(fields) + "\n"
        # One write of one line in append mode: lines from several processes never interleave.
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)


class RequestLog:
    """The begin and end of every application call, in <WSGISPEC_PROBE_DIR>/requests.jsonl. Each
    line is one write in append mode, so lines of several processes and threads never interleave."""

    FILE = "requests.jsonl"
    ids = itertools.count(1)

    def __init__(self, environ):
        directory = probe_dir(environ)
        self.path = os.path.join(directory, self.FILE) if directory else None
        self.id = "%d-%d" % (os.getpid(), next(self.ids))
        self.ended = False

    def write(self, **fields):
        if self.path is None:
            return
        fields.update(id=self.id, t=time.time())
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(fields) + "\n")
        except OSError:
            pass  # a side channel that cannot be written leaves the harness to wait for its bound

    def begin(self, environ):
        target = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        self.write(event="begin", method=environ.get("REQUEST_METHOD", ""), target=target[:300])

    def end(self, how):
        if not self.ended:
            self.ended = True
            self.write(event="end", how=how)


class Tracked:
    """Wraps a result that has close(): the request ends when the server closes the result, or
    drops it unclosed (CPython then deletes it at once). Every other attribute is the result's,
    so a server inspecting what it was given (read(), fileno(), ...) sees what the route returned."""

    def __init__(self, result, log):
        self.result = result
        self.iterator = None
        self.log = log

    def __getattr__(self, name):
        # Only for names Tracked lacks; vars() keeps a half-built instance from recursing.
        if "result" not in vars(self):
            raise AttributeError(name)
        return getattr(self.result, name)

    def __iter__(self):
        return self

    def __next__(self):
        # Once iteration has ended (exhausted, or raised) the application runs nothing more for
        # the request but close(): a server that never calls it is not busy with it.
        try:
            if self.iterator is None:
                self.iterator = iter(self.result)
            return next(self.iterator)
        except StopIteration:
            self.log.end("exhausted")
            raise
        except BaseException:
            self.log.end("iteration-raised")
            raise

    def close(self):
        try:
            self.result.close()
        finally:
            self.log.end("closed")

    def __del__(self):
        self.log.end("abandoned")


# --- /environ ---------------------------------------------------------------------------------


def describe(value):
    d = {"type": type_name(value)}
    if isinstance(value, str):
        d["is_str"] = True
        d["text"] = value
        try:
            d["latin1"] = b64(value.encode("latin-1"))
        except UnicodeEncodeError:
            d["latin1"] = None
    elif isinstance(value, (bool, int, float, tuple, list)) or value is None:
        try:
            d["json"] = json.loads(json.dumps(value))
        except (TypeError, ValueError):
            d["repr"] = repr(value)[:200]
    else:
        d["repr"] = repr(value)[:200]
        d["methods"] = sorted(
            name
            for name in ("read", "readline", "readlines", "__iter__", "write", "writelines", "flush", "close")
            if callable(getattr(value, name, None))
        )
    return d


def shown_environ(environ):
    """environ described for the dump, secret-looking str values replaced by REDACTED except for
    the keys the request names in reveal= (a case that checks such a key sends its own value)."""
    reveal = set(filter(None, param(environ, "reveal").split(",")))
    return {
        key: describe(REDACTED if isinstance(value, str) and SECRET_KEY.search(key) and key not in reveal else value)
        for key, value in environ.items()
    }


def environ_route(environ, start_response, called_by_keyword):
    return json_response(
        start_response,
        {
            "environ_type": type_name(environ),
            "called_by_keyword": called_by_keyword,
            "pid": os.getpid(),
            "probe_dir": probe_dir(environ),
            "probe_dir_writable": bool(probe_dir(environ)) and os.access(probe_dir(environ), os.W_OK),
            "environ": shown_environ(environ),
            "os_environ": {key: True for key in os.environ},
        },
    )


# --- /input ----------------------------------------------------------------------------------

DRAIN_LIMIT = 64 << 20


def input_op(stream, op):
    name, _, arg = op.partition(":")
    if name == "read":
        return [stream.read(int(arg))] if arg else [stream.read()]
    if name == "readline":
        return [stream.readline(int(arg))] if arg else [stream.readline()]
    if name == "readlines":
        return stream.readlines(int(arg)) if arg else stream.readlines()
    if name == "iter":
        return list(stream)
    if name == "next":
        # next() on iter(wsgi.input), N times: iteration without reading to end of stream
        lines, got, want = iter(stream), [], int(arg or 1)
        for _ in range(want):
            try:
                got.append(next(lines))
            except StopIteration:
                raise InputEnded("StopIteration after %d of %d lines (%r)" % (len(got), want, got)) from None
        return got
    if name == "drain":
        # read(N) until it returns an empty bytestring: how an app reads a body of unknown length
        pieces, total = [], 0
        while total < DRAIN_LIMIT:
            piece = stream.read(int(arg))
            pieces.append(piece)
            if not piece:
                break
            total += len(piece)
        return pieces
    raise ValueError("unknown input op %r" % op)


class InputEnded(Exception):
    """Iteration over wsgi.input ended before the body did; reported as the StopIteration it is."""


def input_route(environ, start_response):
    stream = environ["wsgi.input"]
    results = []
    for op in filter(None, param(environ, "ops").split(",")):
        try:
            values = input_op(stream, op)
        except InputEnded as exc:
            results.append({"op": op, "error": str(exc)})
            continue
        except Exception as exc:  # reported to the spec, which names the case
            results.append({"op": op, "error": error_text(exc)})
            continue
        results.append(
            {
                "op": op,
                "values": [
                    {"type": type_name(v), "data": b64(v) if isinstance(v, bytes) else None, "repr": repr(v)[:200]}
                    for v in values
                ],
            }
        )
    terminated = environ.get("wsgi.input_terminated")
    return json_response(
        start_response,
        {"input_terminated": None if terminated is None else describe(terminated), "results": results},
    )


# --- /errors ---------------------------------------------------------------------------------

UNICODE_SAMPLE = "wsgispec probe: caf\u00e9 \u20ac \u4e2d\u6587 \U0001f600\n"


def errors_route(environ, start_response):
    stream = environ["wsgi.errors"]
    calls = {
        "write": lambda: stream.write("wsgispec probe: wsgi.errors.write\n"),
        "writelines": lambda: stream.writelines(["wsgispec probe: writelines 1\n", "wsgispec probe: writelines 2\n"]),
        "flush": lambda: stream.flush(),
        "unicode": lambda: (stream.write(UNICODE_SAMPLE), stream.flush()),
    }
    results = {}
    for op in filter(None, param(environ, "ops").split(",")):
        try:
            calls[op]()
            results[op] = {"ok": True}
        except Exception as exc:
            results[op] = {"ok": False, "error": error_text(exc)}
    return json_response(start_response, results)


# --- /stream: scripted responses ----------------------------------------------------------------

BLOB_BASE = bytes(range(256)) * 257


def blob_piece(index, size):
    """Piece `index` of a large body: its 8-byte big-endian index, then bytes (j + index) % 256.
    The spec side generates the same bytes to check a large body arrived intact and in order."""
    start = index % 256
    return index.to_bytes(8, "big") + BLOB_BASE[start : start + size - 8]


def blob(total, piece):
    if not 8 <= piece <= 65536:
        raise ValueError("yield-blob piece size must be 8 to 65536 bytes, not %d" % piece)
    for index in range((total + piece - 1) // piece):
        yield blob_piece(index, piece)[: total - index * piece]


class Script:
    """One /stream request: its status, headers and step lists, and what it records."""

    def __init__(self, environ, start_response):
        self.start_response = start_response
        self.record = Recorder(environ)
        self.status = param(environ, "status", "200 OK")
        self.headers = []
        for key, value in query(environ):
            if key == "h":
                name, _, v = value.partition(":")
                self.headers.append((name.strip(), v.strip()))
        if not self.headers:
            self.headers = [("Content-Type", "application/octet-stream")]
        self.app_steps = [s for s in param(environ, "app").split(",") if s]
        self.iter_steps = [s for s in param(environ, "iter").split(",") if s]
        self.write = None

    def start(self):
        self.write = self.start_response(self.status, list(self.headers))

    def restart_with_exc_info(self):
        """Replace the response with an error one, as an application's error handler does."""
        try:
            raise ProbeError("deliberate failure before an error response")
        except ProbeError as original:
            try:
                self.start_response(
                    "500 Probe Replaced", [("Content-Type", "text/plain"), ("X-Probe-Replaced", "yes")], sys.exc_info()
                )
            except BaseException as raised:
                self.record("start_response-raised", error=error_text(raised), same=raised is original)
                raise
            self.record("start_response-returned")

    def run(self, steps, in_iterable):
        """Runs steps; yields the bytestrings the yield steps produce."""
        for step in steps:
            name, _, arg = step.partition(":")
            if name == "sleep":
                time.sleep(float(arg))
            elif name == "start":
                self.start()
            elif name == "restart-exc":
                self.restart_with_exc_info()
            elif name == "raise":
                self.record("raise")
                raise ProbeError("deliberate failure during iteration")
            elif name == "mark":
                # Records that the server ran the iterable up to here.
                self.record(arg)
            elif name in ("write", "write-hex"):
                if in_iterable:
                    raise ValueError("write steps belong in app=, not iter= (PEP 3333 forbids write() from the iterable)")
                try:
                    self.write(arg.encode("latin-1") if name == "write" else bytes.fromhex(arg))
                except BaseException as exc:
                    self.record("write-raised", error=error_text(exc))
                    raise
            elif name == "yield":
                yield arg.encode("latin-1")
            elif name == "yield-hex":
                yield bytes.fromhex(arg)
            elif name == "yield-empty":
                yield b""
            elif name == "yield-blob":
                total, _, piece = arg.partition(":")
                yield from blob(int(total), int(piece))
            elif name == "yield-until-disconnect":
                # Streams until the server stops iterating (the client went away) or time runs out.
                deadline = time.monotonic() + float(arg)
                while time.monotonic() < deadline:
                    yield b"x" * 65536
                    time.sleep(0.005)
                self.record("stream-ran-out")
            else:
                raise ValueError("unknown step %r" % step)


class ScriptedBody:
    """The iterable a /stream request returns: runs the iter steps lazily and records close()."""

    def __init__(self, script, lazy):
        self.script = script
        self.lazy = lazy
        self.steps = None

    def __iter__(self):
        return self

    def __next__(self):
        if self.steps is None:
            if self.lazy:
                self.script.start()
            self.steps = self.script.run(self.script.iter_steps, in_iterable=True)
        return next(self.steps)

    def close(self):
        self.script.record("close")
        if self.steps is not None:
            self.steps.close()


def stream_route(environ, start_response):
    script = Script(environ, start_response)
    lazy = param(environ, "lazy") == "1"
    if not lazy:
        script.start()
    for _ in script.run(script.app_steps, in_iterable=False):
        raise ValueError("yield steps belong in iter=, not app=")
    if param(environ, "kind") == "list":
        # A plain list: the server may take the Content-Length from its single item.
        return list(script.run(script.iter_steps, in_iterable=True))
    return ScriptedBody(script, lazy)


# --- /start-response: what start_response accepts ------------------------------------------------

BAD_STATUS = {
    "crlf": "200 OK\r\nX-Injected: yes",
    "lf": "200 OK\n",
    "int": 200,
    "bytes": b"200 OK",
    "no-code": "OK",
}

BAD_HEADERS = {
    "value-crlf": [("X-Probe", "a\r\nX-Injected: yes")],
    "value-int": [("X-Probe", 5)],
    "value-bytes": [("X-Probe", b"a")],
    "value-non-latin1": [("X-Probe", "\u20ac")],
    "name-colon": [("X-Probe:", "a")],
    "name-space": [("X Probe", "a")],
    "name-bytes": [(b"X-Probe", "a")],
    "not-list": (("X-Probe", "a"),),
    "not-pair": [("X-Probe", "a", "b")],
}


def start_response_route(environ, start_response):
    kind, _, variant = param(environ, "try").partition(":")
    if kind == "returns-write":
        write = start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"callable": callable(write), "type": type_name(write)}).encode("ascii")]
    if kind == "second-call":
        start_response("200 OK", [("Content-Type", "application/json")])
        try:
            start_response("299 Second Call", [("Content-Type", "application/json")])
        except Exception as exc:
            return [json.dumps({"raised": True, "error": error_text(exc)}).encode("ascii")]
        return [json.dumps({"raised": False}).encode("ascii")]
    if kind == "second-call-after-raise":
        # A first call the server should reject (a status that is not a str), then a valid call
        # without exc_info: PEP 3333 counts the first call as made, so the second is a fatal
        # error too.
        try:
            start_response(BAD_STATUS["int"], [("Content-Type", "application/json")])
        except Exception as exc:
            first = error_text(exc)
        else:
            try:
                raise ProbeError("the first call was accepted")
            except ProbeError:
                return json_response(start_response, {"first_raised": False}, exc_info=sys.exc_info())
        try:
            start_response("200 OK", [("Content-Type", "application/json")])
        except Exception as exc:
            answer = {"first_raised": True, "first_error": first, "raised": True, "error": error_text(exc)}
            return json_response(start_response, answer, exc_info=sys.exc_info())
        return [json.dumps({"first_raised": True, "first_error": first, "raised": False}).encode("ascii")]
    if kind == "status":
        status, headers = BAD_STATUS[variant], [("Content-Type", "application/json")]
    elif kind == "headers":
        status, headers = "200 OK", BAD_HEADERS[variant]
    elif kind == "header":
        name, _, value = variant.partition(":")
        status, headers = "200 OK", [("Content-Type", "application/json"), (name, value)]
    else:
        raise ValueError("unknown try=%r" % kind)
    try:
        start_response(status, headers)
    except Exception as exc:
        # PEP 3333: after a failed start_response, the next call must pass exc_info.
        return json_response(start_response, {"raised": True, "error": error_text(exc)}, exc_info=sys.exc_info())
    return [json.dumps({"raised": False}).encode("ascii")]


# --- /exception --------------------------------------------------------------------------------


def exception_route(environ, start_response):
    raise ProbeError("deliberate failure before start_response (the server should answer 500)")


# --- /file-wrapper -----------------------------------------------------------------------------


def file_content(size):
    """Bytes the spec side regenerates: (i*31 + i//256) % 256, distinct at every offset in 64 KiB."""
    return bytes((i * 31 + i // 256) % 256 for i in range(size))


class RecordingFile(io.FileIO):
    """A real file (it has fileno(), so servers may use sendfile) that records being closed."""

    record = None

    def close(self):
        if not self.closed and self.record is not None:
            self.record("file-closed")
        super().close()


class FileLike:
    """A file-like object with only read() and close(): no fileno(), so no sendfile."""

    def __init__(self, data, record):
        self.buffer = io.BytesIO(data)
        self.record = record

    def read(self, size=-1):
        return self.buffer.read(size)

    def close(self):
        self.record("file-closed")
        self.buffer.close()


def file_wrapper_route(environ, start_response):
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is None:
        start_response("501 Not Implemented", [("Content-Type", "text/plain"), ("X-Probe-No-File-Wrapper", "1")])
        return [b"this server provides no wsgi.file_wrapper"]
    record = Recorder(environ)
    size = int(param(environ, "size", "65536"))
    data = file_content(size)
    mode = param(environ, "mode", "real")
    if mode == "discarded":
        # A wrapper the application creates and then does not return must send nothing.
        wrapper(FileLike(b"WRONG: a discarded file_wrapper was transmitted", record), 8192)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"returned body"]
    if mode == "real":
        fd, path = tempfile.mkstemp(prefix="wsgispec-probe-")
        os.write(fd, data)
        os.unlink(path)
        f = RecordingFile(fd, "rb")
        f.record = record
        f.seek(int(param(environ, "seek", "0")))
    else:
        f = FileLike(data, record)
        f.read(int(param(environ, "seek", "0")))
    headers = [("Content-Type", "application/octet-stream")]
    if param(environ, "cl"):
        headers.append(("Content-Length", param(environ, "cl")))
    start_response("200 OK", headers)
    return wrapper(f, int(param(environ, "block", "8192")))


# --- /concurrency ------------------------------------------------------------------------------


def concurrency_route(environ, start_response):
    started = time.time()
    time.sleep(float(param(environ, "hold", "0.5")))
    return json_response(
        start_response,
        {
            "pid": os.getpid(),
            # The OS thread: greenlets (gevent's monkey-patched threading gives each its own
            # get_ident()) run interleaved on one thread, and are not what wsgi.multithread means.
            "thread": threading.get_native_id(),
            "start": started,
            "end": time.time(),
            "multithread": bool(environ.get("wsgi.multithread")),
            "multiprocess": bool(environ.get("wsgi.multiprocess")),
        },
    )


# --- /mutate-environ ---------------------------------------------------------------------------

MUTATED_BODY = [b"mutated ", b"environ ", b"body"]


def mutate_environ_route(environ, start_response):
    """Rewrites environ as the PEP allows an application to: a server that reads it back for
    the response's framing (HEAD, HTTP/1.0, Connection) or hands it to the next request shows."""
    environ["REQUEST_METHOD"] = "HEAD"
    environ["SERVER_PROTOCOL"] = "HTTP/1.0"
    environ["HTTP_CONNECTION"] = "close"
    environ["PATH_INFO"] = "/mutated"
    environ["HTTP_X_PROBE_LEAK"] = "leaked"
    environ["wsgispec_probe.leak"] = "leaked"
    environ.pop("QUERY_STRING", None)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ScriptedIterable(MUTATED_BODY, Recorder(environ))


class ScriptedIterable:
    """A plain iterable over fixed blocks that records close()."""

    def __init__(self, blocks, record):
        self.blocks, self.record = blocks, record

    def __iter__(self):
        return iter(self.blocks)

    def close(self):
        self.record("close")


# --- /not-sniffed ------------------------------------------------------------------------------

SNIFF_BODY = [b"iterated ", b"body"]
SNIFF_WRONG = b"WRONG: the server used read() or fileno() of the returned iterable"


class SniffBait(ScriptedIterable):
    """Iterates to SNIFF_BODY, but also has read() and fileno() (of a real file) that give other
    bytes: a server that takes it for a file (sendfile, read loops) sends those instead."""

    def __init__(self, record):
        super().__init__(SNIFF_BODY, record)
        self.file = tempfile.TemporaryFile()
        self.file.write(SNIFF_WRONG)
        self.file.seek(0)

    def read(self, size=-1):
        self.record("read-called")
        return SNIFF_WRONG

    def fileno(self):
        self.record("fileno-called")
        return self.file.fileno()

    def close(self):
        super().close()
        self.file.close()


def not_sniffed_route(environ, start_response):
    headers = [("Content-Type", "text/plain")]
    if param(environ, "cl"):
        headers.append(("Content-Length", str(sum(map(len, SNIFF_BODY)))))
    start_response("200 OK", headers)
    return SniffBait(Recorder(environ))


# --- /validated --------------------------------------------------------------------------------


def validated_echo(environ, start_response):
    """A well-behaved app for the validator: reads the body with read(size) only (the validator
    allows nothing else), logs a line, echoes the body."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.errors"].write("wsgispec probe: validated request\n")
    environ["wsgi.errors"].flush()
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
    return [body]


class ValidatedBody:
    """Passes the validator's iterator through, recording any error it raises while the server
    iterates or closes it."""

    def __init__(self, inner, record):
        self.inner = inner
        self.iterator = iter(inner)
        self.record = record

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self.iterator)
        except StopIteration:
            raise
        except BaseException as exc:
            self.record("validator-error", error=error_text(exc), phase="iteration")
            raise

    def close(self):
        try:
            self.inner.close()
        except BaseException as exc:
            self.record("validator-error", error=error_text(exc), phase="close")
            raise
        self.record("close")


def validated_route(environ, start_response):
    record = Recorder(environ)
    app = wsgiref.validate.validator(validated_echo)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", wsgiref.validate.WSGIWarning)
        try:
            result = app(environ, start_response)
        except AssertionError as exc:
            # The validator found the server's environ or start_response wrong before the app ran.
            record("validator-error", error=error_text(exc), phase="call")
            return json_response(start_response, {"validator_error": error_text(exc)}, status="500 Validator Error", exc_info=sys.exc_info())
    for w in caught:
        if issubclass(w.category, wsgiref.validate.WSGIWarning):
            record("validator-warning", warning=str(w.message))
    return ValidatedBody(result, record)


# --- /idle ------------------------------------------------------------------------------------


def idle_route(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return [b"idle"]


# --- dispatch --------------------------------------------------------------------------------

ROUTES = {
    "input": input_route,
    "errors": errors_route,
    "stream": stream_route,
    "start-response": start_response_route,
    "exception": exception_route,
    "file-wrapper": file_wrapper_route,
    "concurrency": concurrency_route,
    "mutate-environ": mutate_environ_route,
    "not-sniffed": not_sniffed_route,
    "validated": validated_route,
    "idle": idle_route,
}


SIGNATURE = inspect.Signature(
    [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in ("environ", "start_response")]
)


def application(*args, **kwargs):
    """The WSGI callable. It takes its arguments as *args and **kwargs so that it can tell whether
    the server passed environ and start_response positionally, as PEP 3333 requires; any other
    arguments raise TypeError, as they would for def application(environ, start_response)."""
    called_by_keyword = bool(kwargs)
    bound = SIGNATURE.bind(*args, **kwargs)  # TypeError, like a plain function's
    environ, start_response = bound.arguments["environ"], bound.arguments["start_response"]
    record = Recorder(environ)
    log = RequestLog(environ)
    log.begin(environ)
    try:
        result = route(environ, start_response, called_by_keyword)
    except BaseException as exc:
        record("app-raised", error=error_text(exc))
        log.end("raised")
        raise
    if not callable(getattr(result, "close", None)):
        # The server calls nothing of the application's after this (a list, say): it holds
        # everything the response needs.
        record("app-returned-without-close")
        log.end("returned")
        return result
    if route_name(environ) == "file-wrapper":
        # Left as the server's own wrapper, which it may recognise and send with sendfile.
        log.end("returned")
        return result
    return Tracked(result, log)


application.__signature__ = SIGNATURE


def route_name(environ):
    return environ.get("PATH_INFO", "").lstrip("/").split("/", 1)[0]


class ApplicationClass:
    """The probe as a class (PEP 3333's AppClass): calling it makes the instance that is the
    response iterable. The conformance harness starts a server with it (and with
    application_instance) to see that the server does not depend on the kind of callable."""

    def __init__(self, environ, start_response):
        self.result = application(environ, start_response)

    def __iter__(self):
        return iter(self.result)

    def close(self):
        if callable(getattr(self.result, "close", None)):
            self.result.close()


class CallableProbe:
    """The probe as an instance with __call__."""

    def __call__(self, environ, start_response):
        return application(environ, start_response)


application_instance = CallableProbe()


def route(environ, start_response, called_by_keyword):
    path = environ.get("PATH_INFO", "")
    name = route_name(environ)
    if name in ("", "environ"):
        return environ_route(environ, start_response, called_by_keyword)
    handler = ROUTES.get(name)
    if handler is None:
        return json_response(start_response, {"error": "no probe route %r" % path}, status="404 Not Found")
    return handler(environ, start_response)
