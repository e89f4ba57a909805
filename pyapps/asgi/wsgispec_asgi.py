"""Run an ASGI 3 application under a WSGI server (PEP 3333). Standard library only.

    from wsgispec_asgi import ASGIAdapter
    application = ASGIAdapter(asgi_app)

Each adapter owns one asyncio event loop, running in a daemon thread. A WSGI call starts the app's
coroutine on that loop and then stays in the server's thread, answering the app through a queue:
it reads request-body chunks from ``wsgi.input`` when the app awaits ``receive()``, calls
``start_response`` at ``http.response.start`` and yields each ``http.response.body`` chunk as the
app sends it. All WSGI-side I/O therefore happens in the thread the server called us in, which
servers whose ``wsgi.input`` or ``start_response`` are not thread-safe (gevent, embedded gateways)
require.

Lifespan: ``startup()`` starts the loop and runs the app's ``lifespan.startup`` handshake (a
server embedding the adapter calls it when it loads the app; otherwise the first request does);
``shutdown()`` runs ``lifespan.shutdown`` and ends the loop's thread (registered with ``atexit`` by
``startup()``). After ``os.fork()`` the child gets a fresh loop and runs its own startup, since
threads do not survive a fork (uWSGI imports the app in its master and forks workers).
"""

import asyncio
import atexit
import http
import logging
import os
import queue
import threading
import traceback
import weakref

__all__ = ["ASGIAdapter"]

log = logging.getLogger("wsgispec.asgi")

# Request body chunk size: the most the adapter reads from wsgi.input per http.request message.
CHUNK_SIZE = 64 * 1024

# PEP 3333 forbids applications to send hop-by-hop headers; the WSGI server owns the connection.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade"}
)

ERROR_STATUS = "500 Internal Server Error"
ERROR_BODY = b"Internal Server Error"
ERROR_HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(ERROR_BODY)))]

# The WSGI side's answers to a request for a body chunk, besides (chunk, more_body).
BODY_EXHAUSTED = "exhausted"  # the whole body was delivered already
CLIENT_GONE = "client gone"  # wsgi.input failed or ended early: the client went away

# Lifespan phases.
NEW, RUNNING, UNSUPPORTED, FAILED, STOPPED = "new", "running", "unsupported", "failed", "stopped"

_adapters = weakref.WeakSet()

# In a forked child the parent's loop threads do not exist. Their loops and pending tasks stay
# referenced here, never to run, so that asyncio does not report each of them as destroyed.
_left_by_fork = []


def _reset_adapters_after_fork():
    for adapter in list(_adapters):
        _left_by_fork.append((adapter._loop, adapter._lifespan))
        adapter._reset()


os.register_at_fork(after_in_child=_reset_adapters_after_fork)


def _resolve(future, value):
    """Completes a loop-side future from the loop thread unless the app's task was cancelled."""
    if not future.done():
        future.set_result(value)


class ASGIAdapter:
    """A WSGI application that runs the ASGI 3 application ``app``."""

    def __init__(self, app, *, chunk_size=CHUNK_SIZE, startup_timeout=60.0, shutdown_timeout=10.0):
        self.app = app
        self.chunk_size = chunk_size
        self.startup_timeout = startup_timeout
        # Also bounds how long close() waits for a cancelled request task to end.
        self.shutdown_timeout = shutdown_timeout
        self._reset()
        _adapters.add(self)

    def _reset(self):
        # Also run in a forked child: the parent's loop thread and any lock it held are gone there.
        self._lock = threading.Lock()
        self._loop = None  # a _LoopThread once started
        self._phase = NEW
        self._failure = None
        self._lifespan = None
        self._state = {}

    def __call__(self, environ, start_response):
        self.startup()
        return _Exchange(self, environ, start_response).respond()

    def startup(self):
        """Starts the event loop and sends lifespan.startup, waiting for the app's answer. Idempotent.

        Raises RuntimeError with the app's message when it answers lifespan.startup.failed (and on
        every later call, so a failed app never serves), and after shutdown(). An app that raises
        on the lifespan scope before receiving anything does not support lifespan: it is served
        without it.
        """
        with self._lock:
            if self._phase == FAILED:
                raise RuntimeError(self._failure)
            if self._phase == STOPPED:
                raise RuntimeError("the ASGI app has been shut down")
            if self._phase != NEW:
                return
            self._loop = _LoopThread()
            loop = self._loop.loop
            session = _Lifespan(self, loop)
            pending = asyncio.run_coroutine_threadsafe(session.start(), loop)
            try:
                outcome, detail = pending.result(self.startup_timeout)
            except TimeoutError:
                loop.call_soon_threadsafe(session.cancel)
                outcome, detail = FAILED, f"ASGI lifespan startup did not complete within {self.startup_timeout:g} s"
            if outcome == FAILED:
                self._phase, self._failure = FAILED, detail
                raise RuntimeError(detail)
            self._phase = outcome
            if outcome == RUNNING:
                self._lifespan = session
                atexit.register(self._shutdown_at_exit)

    def shutdown(self):
        """Sends lifespan.shutdown and waits for the answer, then cancels whatever still runs on the
        loop and ends the loop's thread, each within shutdown_timeout. Idempotent; requests after it
        fail. Leaves no thread behind, so that an embedding server can end the interpreter.

        Raises RuntimeError when the app answers lifespan.shutdown.failed, raises, or times out.
        """
        with self._lock:
            phase, self._phase = self._phase, STOPPED
            failure = None
            if phase == RUNNING:
                session, self._lifespan = self._lifespan, None
                pending = asyncio.run_coroutine_threadsafe(session.stop(), self._loop.loop)
                try:
                    failure = pending.result(self.shutdown_timeout)
                except TimeoutError:
                    self._loop.loop.call_soon_threadsafe(session.cancel)
                    failure = f"ASGI lifespan shutdown did not complete within {self.shutdown_timeout:g} s"
            if self._loop is not None:
                self._loop.stop(self.shutdown_timeout)
                self._loop = None
            if failure is not None:
                raise RuntimeError(failure)

    def _shutdown_at_exit(self):
        try:
            self.shutdown()
        except RuntimeError as exc:
            log.error("%s", exc)


class _LoopThread:
    """An event loop running in a daemon thread until stop()."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self._finish = self.loop.create_future()
        self._root = None
        self.thread = threading.Thread(target=self._run, name="wsgispec-asgi-loop", daemon=True)
        self.thread.start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        # run_until_complete() of a task lasting the loop's life, rather than run_forever(): anyio
        # (Starlette's thread pool for plain `def` endpoints) takes that task as the root of all
        # tasks and keeps its worker threads until it ends; otherwise each request's task is its
        # own root, and each request starts a worker thread and stops it at the end.
        self.loop.run_until_complete(self._serve())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    async def _serve(self):
        self._root = asyncio.current_task()
        await self._finish

    def stop(self, timeout):
        """Cancels every task still running, ends the loop and waits for its thread to end."""
        asyncio.run_coroutine_threadsafe(self._wind_down(timeout), self.loop)
        self.thread.join(timeout + 1)

    async def _wind_down(self, timeout):
        running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and t is not self._root]
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=timeout)
        self._finish.set_result(None)


class _Lifespan:
    """One lifespan session: the app's coroutine for the lifespan scope and its two handshakes.
    Its coroutines run on the adapter's loop."""

    def __init__(self, adapter, loop):
        self.adapter = adapter
        self.loop = loop
        self.scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": adapter._state}
        self.inbox = None
        self.task = None
        self.received = False  # the app awaited receive() at least once
        self.startup_reply = None
        self.shutdown_reply = None

    async def start(self):
        """Returns (RUNNING | UNSUPPORTED | FAILED, failure message or None)."""
        self.inbox = asyncio.Queue()
        self.startup_reply = self.loop.create_future()
        self.shutdown_reply = self.loop.create_future()
        self.inbox.put_nowait({"type": "lifespan.startup"})
        self.task = self.loop.create_task(self.adapter.app(self.scope, self.receive, self.send))
        await asyncio.wait([self.startup_reply, self.task], return_when=asyncio.FIRST_COMPLETED)
        if self.startup_reply.done():
            failure = self.startup_reply.result()
            return (FAILED, f"ASGI lifespan startup failed: {failure}") if failure is not None else (RUNNING, None)
        if self.task.cancelled():  # by startup() on its timeout, which reports that
            return FAILED, "ASGI lifespan startup was cancelled"
        error = self.task.exception()
        if not self.received:
            log.info("ASGI app does not support lifespan (%r); serving without it", error)
        else:
            # The ASGI spec: an app that raises while handling lifespan.startup is served without
            # lifespan events. Say so loudly, since its startup work may not have happened.
            log.error("ASGI app ended its lifespan during startup; serving without lifespan", exc_info=error)
        return UNSUPPORTED, None

    async def stop(self):
        """Returns None when the app completed its shutdown, else the failure message."""
        self.inbox.put_nowait({"type": "lifespan.shutdown"})
        await asyncio.wait([self.shutdown_reply, self.task], return_when=asyncio.FIRST_COMPLETED)
        if self.shutdown_reply.done():
            failure = self.shutdown_reply.result()
            return None if failure is None else f"ASGI lifespan shutdown failed: {failure}"
        if not self.task.cancelled() and self.task.exception() is not None:
            return f"ASGI lifespan shutdown failed: {self.task.exception()!r}"
        return None  # the app returned: nothing left to shut down

    def cancel(self):
        if self.task is not None:
            self.task.cancel()

    async def receive(self):
        self.received = True
        return await self.inbox.get()

    async def send(self, message):
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            _resolve(self.startup_reply, None)
        elif kind == "lifespan.startup.failed":
            _resolve(self.startup_reply, message.get("message", ""))
        elif kind == "lifespan.shutdown.complete":
            _resolve(self.shutdown_reply, None)
        elif kind == "lifespan.shutdown.failed":
            _resolve(self.shutdown_reply, message.get("message", ""))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} for a lifespan scope")


def _latin1_bytes(text):
    # PEP 3333: environ strings are native str holding bytes as latin-1 code points.
    return text.encode("latin-1")


def http_scope(environ, state):
    """The ASGI HTTP connection scope for a WSGI request, per the ASGI spec's WSGI-compatibility
    mapping: root_path is SCRIPT_NAME and path includes it (SCRIPT_NAME + PATH_INFO)."""
    raw_path = _latin1_bytes(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
    headers = []
    for key, value in environ.items():
        # Some servers also pass the body headers as HTTP_CONTENT_*; they are added from the CGI keys.
        if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            headers.append((_latin1_bytes(key[5:].replace("_", "-").lower()), _latin1_bytes(value)))
    for key, name in (("CONTENT_TYPE", b"content-type"), ("CONTENT_LENGTH", b"content-length")):
        if environ.get(key):
            headers.append((name, _latin1_bytes(environ[key])))
    protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1").upper().partition("/")[2]
    http_version = {"1.0": "1.0", "1.1": "1.1", "2": "2", "2.0": "2", "3": "3", "3.0": "3"}.get(protocol, "1.1")
    port = environ.get("SERVER_PORT", "")
    client = None
    if environ.get("REMOTE_ADDR"):
        remote_port = str(environ.get("REMOTE_PORT", ""))  # werkzeug gives an int
        client = (environ["REMOTE_ADDR"], int(remote_port) if remote_port.isdigit() else 0)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": http_version,
        "method": environ["REQUEST_METHOD"].upper(),
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": raw_path.decode("utf-8", "replace"),
        "raw_path": raw_path,
        "query_string": _latin1_bytes(environ.get("QUERY_STRING", "")),
        "root_path": raw_path[: len(environ.get("SCRIPT_NAME", ""))].decode("utf-8", "replace"),
        "headers": headers,
        "client": client,
        "server": (environ.get("SERVER_NAME", ""), int(port) if port.isdigit() else None),
        "state": dict(state),
    }


def wsgi_status(code):
    code = int(code)
    if not 100 <= code <= 999:
        raise RuntimeError(f"ASGI app sent status {code}, not a 3-digit HTTP status")
    try:
        reason = http.HTTPStatus(code).phrase
    except ValueError:
        reason = "Unknown"
    return f"{code} {reason}"


def wsgi_headers(headers):
    result = []
    for name, value in headers:
        if not isinstance(name, (bytes, bytearray)) or not isinstance(value, (bytes, bytearray)):
            raise RuntimeError(f"ASGI app sent header {name!r}: {value!r}; names and values must be bytes")
        name = bytes(name).decode("latin-1")
        if name.lower() not in HOP_BY_HOP:
            result.append((name, bytes(value).decode("latin-1")))
    return result


def request_body_length(environ):
    """How much of wsgi.input is the body: CONTENT_LENGTH, else everything up to EOF when the server
    says the input is terminated (chunked requests), else nothing (PEP 3333: an application must
    not read past CONTENT_LENGTH). None means up to EOF."""
    declared = environ.get("CONTENT_LENGTH", "")
    if declared.strip().isdigit():
        return int(declared)
    return None if environ.get("wsgi.input_terminated") else 0


class _Exchange:
    """One WSGI request served by the ASGI app.

    Attributes are owned by one side each: the loop side (receive, send, run_app) and the WSGI side
    (respond, read_body_chunk, ResponseBody); they meet only through the events queue (loop → WSGI
    thread) and futures the WSGI side resolves with call_soon_threadsafe.
    """

    def __init__(self, adapter, environ, start_response):
        self.adapter = adapter
        self.loop = adapter._loop.loop
        self.environ = environ
        self.start_response = start_response
        self.scope = http_scope(environ, adapter._state)
        self.events = queue.SimpleQueue()
        # Loop side.
        self.task = None
        self.request_complete = False
        self.response_started = False
        self.response_complete = False
        self.finished = asyncio.Event()  # response complete or client gone: receive() says disconnect
        # WSGI side.
        self.input = environ["wsgi.input"]
        self.remaining = request_body_length(environ)
        self.input_exhausted = False
        self.body_ended = False
        self.body_yielded = False
        self.app_done = False

    # --- loop side ---------------------------------------------------------------------------------

    def start_task(self):
        self.task = self.loop.create_task(self.run_app())

    def client_gone(self):
        self.finished.set()
        self.task.cancel()

    async def run_app(self):
        try:
            await self.adapter.app(self.scope, self.receive, self.send)
        except BaseException as exc:  # noqa: B036 - delivered to the WSGI thread, which decides
            self.events.put(("done", exc))
        else:
            self.events.put(("done", None))
        finally:
            self.finished.set()

    async def receive(self):
        if not self.request_complete and not self.finished.is_set():
            reply = self.loop.create_future()
            self.events.put(("read", reply))
            answer = await reply
            if answer == CLIENT_GONE:
                self.finished.set()
            elif answer != BODY_EXHAUSTED:
                chunk, more = answer
                self.request_complete = not more
                return {"type": "http.request", "body": chunk, "more_body": more}
        # ASGI: http.disconnect comes once the response is sent or the client has gone; until then
        # receive() waits (Starlette's StreamingResponse listens for it while it streams).
        await self.finished.wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        kind = message["type"]
        if kind == "http.response.start":
            if self.response_started:
                raise RuntimeError("ASGI app sent http.response.start twice")
            status = wsgi_status(message["status"])
            headers = wsgi_headers(message.get("headers", ()))
            self.response_started = True
            self.events.put(("start", status, headers))
        elif kind == "http.response.body":
            if not self.response_started:
                raise RuntimeError("ASGI app sent http.response.body before http.response.start")
            if self.response_complete:
                raise RuntimeError("ASGI app sent http.response.body after its last body message")
            body = message.get("body", b"")
            if not isinstance(body, (bytes, bytearray, memoryview)):
                raise RuntimeError(f"ASGI app sent a body of type {type(body).__name__}, not bytes")
            if self.finished.is_set():
                return  # the client has gone: ASGI spec 2.3 makes sending a no-op
            more = bool(message.get("more_body", False))
            self.response_complete = not more
            taken = self.loop.create_future()
            self.events.put(("body", bytes(body), more, taken))
            # Flow control: the app runs at most one chunk ahead of the server's writes.
            await taken
            if not more:
                self.finished.set()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} for an http scope")

    # --- WSGI side ---------------------------------------------------------------------------------

    def respond(self):
        """Runs the app until it starts its response; returns the WSGI body iterable."""
        self.loop.call_soon_threadsafe(self.start_task)
        try:
            while True:
                event = self.events.get()
                if event[0] == "read":
                    self.read_body_chunk(event[1])
                elif event[0] == "start":
                    self.start_response(event[1], event[2])
                    return ResponseBody(self)
                else:  # done: the app ended without starting a response
                    self.app_done = True
                    error = event[1] or RuntimeError("ASGI app returned without sending http.response.start")
                    self.log_exception(error)
                    self.start_response(ERROR_STATUS, list(ERROR_HEADERS), (type(error), error, error.__traceback__))
                    return [ERROR_BODY]
        except BaseException:
            self.abandon()
            raise

    def read_body_chunk(self, reply):
        if self.input_exhausted:
            answer = BODY_EXHAUSTED
        else:
            size = self.adapter.chunk_size if self.remaining is None else min(self.adapter.chunk_size, self.remaining)
            try:
                chunk = self.input.read(size) if size else b""
            except Exception as exc:  # noqa: BLE001 - each server raises its own error for a lost client
                self.environ["wsgi.errors"].write(f"wsgispec_asgi: reading the request body failed: {exc!r}\n")
                chunk = None
            if chunk is None or (size and not chunk and self.remaining is not None):
                self.input_exhausted = True
                answer = CLIENT_GONE
            else:
                if self.remaining is None:
                    more = bool(chunk)
                else:
                    self.remaining -= len(chunk)
                    more = self.remaining > 0
                self.input_exhausted = not more
                answer = (chunk, more)
        self.loop.call_soon_threadsafe(_resolve, reply, answer)

    def log_exception(self, error):
        errors = self.environ["wsgi.errors"]
        errors.write("".join(traceback.format_exception(type(error), error, error.__traceback__)))
        errors.flush()

    def abandon(self):
        """The response will not be completed: cancel the app and wait for it to end."""
        if not self.app_done:
            self.loop.call_soon_threadsafe(self.client_gone)
            self.wait_for_app(self.adapter.shutdown_timeout)

    def wait_for_app(self, timeout):
        """Serves the app's remaining events until it ends (background work after the response, or
        unwinding from cancellation). timeout None waits as long as the app runs."""
        while not self.app_done:
            try:
                event = self.events.get(timeout=timeout)
            except queue.Empty:
                self.environ["wsgi.errors"].write(f"wsgispec_asgi: the ASGI app did not end within {timeout:g} s of being cancelled\n")
                return
            if event[0] == "read":
                self.read_body_chunk(event[1])
            elif event[0] == "body":
                self.loop.call_soon_threadsafe(_resolve, event[3], None)
            elif event[0] == "done":
                self.app_done = True
                if event[1] is not None and not isinstance(event[1], asyncio.CancelledError):
                    self.log_exception(event[1])


class ResponseBody:
    """The WSGI iterable: yields the app's body chunks as it sends them."""

    def __init__(self, exchange):
        self.exchange = exchange
        self.closed = False

    def __iter__(self):
        return self

    def __next__(self):
        ex = self.exchange
        while not ex.body_ended:
            event = ex.events.get()
            kind = event[0]
            if kind == "read":
                ex.read_body_chunk(event[1])
            elif kind == "body":
                _, data, more, taken = event
                ex.loop.call_soon_threadsafe(_resolve, taken, None)
                ex.body_ended = not more
                if data:
                    ex.body_yielded = True
                    return data
            elif kind == "done":
                ex.app_done = ex.body_ended = True
                error = event[1]
                if error is None:
                    ex.environ["wsgi.errors"].write("wsgispec_asgi: the ASGI app returned before its last http.response.body\n")
                elif ex.body_yielded:
                    raise error  # part of the body is out: only the server can abort the response
                else:
                    # Nothing sent yet: PEP 3333 lets exc_info replace the status and headers.
                    ex.log_exception(error)
                    ex.start_response(ERROR_STATUS, list(ERROR_HEADERS), (type(error), error, error.__traceback__))
                    return ERROR_BODY
        raise StopIteration

    def close(self):
        if self.closed:
            return
        self.closed = True
        ex = self.exchange
        if not ex.body_ended:
            ex.abandon()  # the server stopped early: the client went away or the server failed
        else:
            ex.wait_for_app(None)
