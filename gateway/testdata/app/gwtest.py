"""The gateway's own test app: one route per behaviour gateway_test.go checks over a socket.

What cannot be seen from the client (close() calls, exceptions caught inside the app) is written to
files in the directory named by the GWTEST_DIR environment variable.
"""
import ctypes
import json
import os
import sys
import threading
import time

RECORD_DIR = os.environ.get("GWTEST_DIR", "")


def record(name, text):
    with open(os.path.join(RECORD_DIR, name), "a") as f:
        f.write(text + "\n")


class Closing:
    """An iterable that records each close() call under the request's token."""

    def __init__(self, token, chunks, fail_at=None, delay=0):
        self.token, self.chunks, self.fail_at, self.delay = token, chunks, fail_at, delay

    def __iter__(self):
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("failing while iterating, as asked")
            if i and self.delay:
                time.sleep(self.delay)
            yield chunk

    def close(self):
        record("close-" + self.token, "closed")


def as_json(start_response, obj, status="200 OK"):
    body = json.dumps(obj).encode()
    start_response(status, [("Content-Type", "application/json")])
    return [body]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    qs = environ["QUERY_STRING"]
    if path == "/environ":
        return as_json(start_response, {
            "type": type(environ).__name__,
            "str_keys": all(type(k) is str for k in environ),
            "cgi": {k: v for k, v in environ.items() if not k.startswith("wsgi.")},
            "cgi_types": sorted({type(v).__name__ for k, v in environ.items() if not k.startswith("wsgi.")}),
            "wsgi": {k: repr(v) for k, v in environ.items() if k.startswith("wsgi.") and k not in ("wsgi.input", "wsgi.errors", "wsgi.file_wrapper")},
            "has_file_wrapper": callable(environ.get("wsgi.file_wrapper")),
        })
    if path == "/path":  # latin-1 round trip, reported as code points
        return as_json(start_response, {"script": [ord(c) for c in environ["SCRIPT_NAME"]],
                                        "path": [ord(c) for c in environ["PATH_INFO"]],
                                        "header": [ord(c) for c in environ.get("HTTP_X_BYTES", "")]})
    if path.startswith("/path/"):
        return as_json(start_response, {"path": [ord(c) for c in environ["PATH_INFO"]]})
    if path == "/input":
        inp = environ["wsgi.input"]
        out = {}
        if qs == "read-n":
            out["parts"] = [inp.read(3).decode(), inp.read(4).decode(), inp.read(100).decode(), inp.read(5).decode()]
        elif qs == "read-all":
            out["parts"] = [inp.read().decode(), inp.read().decode()]
        elif qs == "readline":
            out["parts"] = [inp.readline().decode(), inp.readline(2).decode(), inp.readline().decode(), inp.readline().decode()]
        elif qs == "readlines":
            out["parts"] = [l.decode() for l in inp.readlines()]
        elif qs == "iter":
            out["parts"] = [l.decode() for l in inp]
        out["content_length"] = environ.get("CONTENT_LENGTH")
        out["terminated"] = environ.get("wsgi.input_terminated")
        return as_json(start_response, out)
    if path == "/echo":
        data = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [data]
    if path == "/errors":
        err = environ["wsgi.errors"]
        err.write("errors-write ünïcødé ✓\n")
        err.writelines(["errors-line-1\n", "errors-line-2\n"])
        err.flush()
        return as_json(start_response, {"ok": True})
    if path == "/start-response":
        if qs == "returns-write":
            w = start_response("200 OK", [])
            return [b"callable" if callable(w) else b"not callable"]
        if qs == "twice":
            start_response("200 OK", [])
            try:
                start_response("200 OK", [])
            except Exception as e:
                return [type(e).__name__.encode()]
            return [b"no error"]
        bad = {
            "bad-status": ("200", []),
            "status-bytes": (b"200 OK", []),
            "header-crlf": ("200 OK", [("X-Bad", "a\r\nInjected: yes")]),
            "hop-by-hop": ("200 OK", [("Connection", "close")]),
            "headers-tuple": ("200 OK", (("X-A", "b"),)),
        }[qs]
        start_response(*bad)
        return [b"should not be sent"]
    if path == "/lazy":  # start_response called inside the generator
        def gen():
            start_response("200 OK", [("Content-Type", "text/plain"), ("X-Lazy", "yes")])
            yield b"lazy body"
        return gen()
    if path == "/deferred":
        def gen():
            start_response("200 OK", [("X-Deferred", "yes")])
            yield b""
            time.sleep(1.0)
            yield b""
            yield b"late"
        return gen()
    if path == "/empty":
        start_response("204 No Content", [])
        return []
    if path == "/exc-before":
        try:
            start_response("200 OK", [("X-Discarded", "yes")])
            raise ValueError("replace me")
        except ValueError:
            start_response("500 Replaced", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"replaced"]
    if path == "/exc-after":
        def gen():
            start_response("200 OK", [("Content-Type", "text/plain")])
            yield b"partial;"
            try:
                raise ValueError("too late")
            except ValueError:
                start_response("500 Error", [], sys.exc_info())
            yield b"never"
        return gen()
    if path == "/write":
        w = start_response("200 OK", [("Content-Type", "text/plain")])
        w(b"written;")
        time.sleep(1.0)
        return [b"yielded"]
    if path == "/close":
        token = environ["HTTP_X_TOKEN"]
        start_response("200 OK", [])
        if qs == "normal":
            return Closing(token, [b"a", b"b"])
        if qs == "raise":
            return Closing(token, [b"a", b"b"], fail_at=1)
        if qs == "disconnect":
            return Closing(token, [b"x" * 65536] * 200, delay=0.01)
    if path == "/length":
        if qs == "honoured":
            start_response("200 OK", [("Content-Length", "5")])
            return Closing("unused", [b"12", b"345"])
        if qs == "exceeded":
            start_response("200 OK", [("Content-Length", "5")])
            return iter([b"1234", b"5678"])
        if qs == "single":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"single item"]
        if qs == "generator":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return iter([b"gen", b"erated"])
    if path == "/file":
        f = open(os.path.join(os.path.dirname(__file__), "payload.bin"), "rb")
        f.seek(int(qs or 0))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](f, 4096)
    if path == "/sleep":
        time.sleep(float(qs))
        start_response("200 OK", [])
        return [b"slept"]
    if path == "/spin":  # runs in Python for qs seconds unless the gateway stops it
        deadline = time.monotonic() + float(qs)
        try:
            while time.monotonic() < deadline:
                time.sleep(0.02)
        except BaseException as e:
            record("spin", type(e).__name__)
            raise
        start_response("200 OK", [])
        return [b"spun"]
    if path == "/big":
        start_response("200 OK", [])
        return iter([b"y" * 65536] * int(qs))
    if path == "/timerslack":  # the timer slack of the request's thread and of a thread it starts
        def slack():
            return ctypes.CDLL(None).prctl(30, 0, 0, 0, 0)  # PR_GET_TIMERSLACK: this thread's
        started = []
        t = threading.Thread(target=lambda: started.append(slack()))
        t.start()
        t.join()
        return as_json(start_response, {"request": slack(), "started": started[0]})
    if path == "/pid":  # with a query: first says it runs (record "sleeping"), then sleeps qs seconds
        if qs:
            record("sleeping", str(os.getpid()))
            time.sleep(float(qs))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(os.getpid()).encode()]
    if path == "/exit":  # the worker dies mid-request
        os._exit(1)
    if path == "/segv":  # a crash in C code
        ctypes.string_at(0)
    if path == "/raise":
        raise RuntimeError("the app failed")
    if path == "/returns-none":
        start_response("200 OK", [])
        return None
    if path == "/yields-str":
        start_response("200 OK", [])
        return ["text, not bytes"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no route " + path.encode("latin-1")]


def hello(environ, start_response):
    """The benchmark app: the smallest complete response."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"Hello, world!"]
