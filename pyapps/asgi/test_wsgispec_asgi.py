"""Unit tests for the ASGI-to-WSGI adapter. Run: /usr/bin/python3 -m unittest discover -s pyapps/asgi"""

import asyncio
import http.client
import importlib.util
import io
import os
import threading
import unittest
import warnings
import wsgiref.simple_server
import wsgiref.util
import wsgiref.validate

from wsgispec_asgi import ASGIAdapter


def make_environ(method="GET", path="/", body=b"", **extra):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra)
    wsgiref.util.setup_testing_defaults(environ)
    return environ


class StartResponse:
    """Records start_response calls the way a server would (exc_info replaces status and headers)."""

    def __init__(self):
        self.calls = []

    def __call__(self, status, headers, exc_info=None):
        self.calls.append((status, headers, exc_info))
        return lambda data: None

    @property
    def status(self):
        return self.calls[-1][0]

    @property
    def headers(self):
        return self.calls[-1][1]


def call(adapter, environ):
    start = StartResponse()
    body = adapter(environ, start)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return start, data


async def read_body(receive):
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            return messages


def http_only(app):
    """Wraps a test app so that it does not support lifespan (it raises on that scope)."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            raise RuntimeError("http only")
        await app(scope, receive, send)

    return wrapped


def respond(status=200, body=b"ok", headers=((b"content-type", b"text/plain"),)):
    @http_only
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body})

    return app


class RecordingInput:
    """A wsgi.input that logs each read(size) (only that form, as wsgiref.validate allows)."""

    def __init__(self, data, log):
        self.data = io.BytesIO(data)
        self.log = log

    def read(self, size):
        chunk = self.data.read(size)
        self.log.append(("read", size, len(chunk)))
        return chunk


class ScopeTest(unittest.TestCase):
    def capture_scope(self, **environ_items):
        seen = {}

        @http_only
        async def app(scope, receive, send):
            seen.update(scope)
            await respond()(scope, receive, send)  # raises on the lifespan scope: no lifespan

        environ = make_environ(**environ_items)
        call(ASGIAdapter(app), environ)
        return seen

    def test_request_line_and_paths(self):
        # PATH_INFO as a server gives it: "/café ☕" percent-decoded, its UTF-8 bytes as latin-1.
        path_info = "/posts/café ☕".encode("utf-8").decode("latin-1")
        scope = self.capture_scope(
            method="PUT",
            path=path_info,
            SCRIPT_NAME="/fastapi",
            QUERY_STRING="a=1&b=%20",
            SERVER_PROTOCOL="HTTP/1.0",
        )
        self.assertEqual(scope["type"], "http")
        self.assertEqual(scope["asgi"], {"version": "3.0", "spec_version": "2.3"})
        self.assertEqual(scope["http_version"], "1.0")
        self.assertEqual(scope["method"], "PUT")
        self.assertEqual(scope["scheme"], "http")
        self.assertEqual(scope["root_path"], "/fastapi")
        self.assertEqual(scope["path"], "/fastapi/posts/café ☕")
        self.assertEqual(scope["raw_path"], "/fastapi/posts/café ☕".encode("utf-8"))
        self.assertEqual(scope["query_string"], b"a=1&b=%20")

    def test_headers_client_server(self):
        scope = self.capture_scope(
            method="POST",
            body=b"{}",
            CONTENT_TYPE="application/json",
            HTTP_X_MULTI="a, b",
            HTTP_USER_AGENT="tester",
            REMOTE_ADDR="127.0.0.9",
            REMOTE_PORT="5555",
            SERVER_NAME="example.test",
            SERVER_PORT="8080",
        )
        headers = dict(scope["headers"])
        self.assertEqual(headers[b"content-type"], b"application/json")
        self.assertEqual(headers[b"content-length"], b"2")
        self.assertEqual(headers[b"x-multi"], b"a, b")
        self.assertEqual(headers[b"user-agent"], b"tester")
        for name, value in scope["headers"]:
            self.assertIsInstance(name, bytes)
            self.assertEqual(name, name.lower())
            self.assertIsInstance(value, bytes)
        self.assertEqual(scope["client"], ("127.0.0.9", 5555))
        self.assertEqual(scope["server"], ("example.test", 8080))

    def test_http2_and_https(self):
        scope = self.capture_scope(SERVER_PROTOCOL="HTTP/2.0", **{"wsgi.url_scheme": "https"})
        self.assertEqual(scope["http_version"], "2")
        self.assertEqual(scope["scheme"], "https")


class RequestBodyTest(unittest.TestCase):
    def test_body_streams_in_chunks_as_the_app_reads(self):
        log = []
        data = bytes(range(256)) * 40  # 10240 bytes

        @http_only
        async def app(scope, receive, send):
            while True:
                message = await receive()
                log.append(("message", len(message["body"]), message["more_body"]))
                if not message["more_body"]:
                    break
            await respond()(scope, receive, send)

        environ = make_environ(method="POST", body=data)
        environ["wsgi.input"] = RecordingInput(data, log)
        start, _ = call(ASGIAdapter(app, chunk_size=4096), environ)
        self.assertEqual(start.status, "200 OK")
        self.assertEqual(
            log,
            [
                ("read", 4096, 4096),
                ("message", 4096, True),
                ("read", 4096, 4096),
                ("message", 4096, True),
                ("read", 2048, 2048),
                ("message", 2048, False),
            ],
            "each chunk must be read only when the app asks for it, never past CONTENT_LENGTH",
        )

    def test_no_content_length_reads_nothing(self):
        log = []
        messages = []

        @http_only
        async def app(scope, receive, send):
            messages.extend(await read_body(receive))
            await respond()(scope, receive, send)

        environ = make_environ(method="POST")
        environ["wsgi.input"] = RecordingInput(b"must not be read", log)
        call(ASGIAdapter(app), environ)
        self.assertEqual(log, [])
        self.assertEqual(messages, [{"type": "http.request", "body": b"", "more_body": False}])

    def test_terminated_input_reads_to_eof(self):
        messages = []

        @http_only
        async def app(scope, receive, send):
            messages.extend(await read_body(receive))
            await respond()(scope, receive, send)

        environ = make_environ(method="POST", **{"wsgi.input_terminated": True})
        environ["wsgi.input"] = io.BytesIO(b"x" * 10)
        call(ASGIAdapter(app, chunk_size=4), environ)
        self.assertEqual(b"".join(m["body"] for m in messages), b"x" * 10)
        self.assertFalse(messages[-1]["more_body"])

    def test_truncated_body_is_a_disconnect(self):
        messages = []

        @http_only
        async def app(scope, receive, send):
            messages.extend(await read_body(receive))
            await respond()(scope, receive, send)

        environ = make_environ(method="POST", body=b"12345")
        environ["wsgi.input"] = io.BytesIO(b"12")  # the client sent 2 of 5 bytes, then left
        call(ASGIAdapter(app), environ)
        self.assertEqual([m["type"] for m in messages], ["http.request", "http.disconnect"])

    def test_disconnect_waits_for_the_response(self):
        order = []

        @http_only
        async def app(scope, receive, send):
            await read_body(receive)

            async def listen():
                message = await receive()
                order.append(message["type"])

            listener = asyncio.ensure_future(listen())
            await asyncio.sleep(0.05)
            order.append("sending")
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"done"})
            await listener

        call(ASGIAdapter(app), make_environ(method="POST", body=b"x"))
        self.assertEqual(order, ["sending", "http.disconnect"])


class ResponseTest(unittest.TestCase):
    def test_status_and_headers(self):
        app = respond(
            status=201,
            body=b"made",
            headers=[(b"content-type", b"text/plain"), (b"x-name", "caf\xe9".encode("latin-1")), (b"connection", b"close")],
        )
        start, body = call(ASGIAdapter(app), make_environ())
        self.assertEqual(start.status, "201 Created")
        self.assertEqual(start.headers, [("content-type", "text/plain"), ("x-name", "caf\xe9")], "hop-by-hop headers are dropped")
        self.assertEqual(body, b"made")

    def test_unknown_status_has_a_reason(self):
        start, _ = call(ASGIAdapter(respond(status=599)), make_environ())
        self.assertEqual(start.status, "599 Unknown")

    def test_body_chunks_stream_as_sent(self):
        release = threading.Event()
        sent = []

        @http_only
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"first", "more_body": True})
            sent.append("first")
            # Only continue once the test has seen the first chunk: a buffering adapter deadlocks here.
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 5)
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            await send({"type": "http.response.body", "body": b"second"})
            sent.append("second")

        start = StartResponse()
        body = ASGIAdapter(app)(make_environ(), start)
        iterator = iter(body)
        self.assertEqual(next(iterator), b"first")
        self.assertNotIn("second", sent)
        release.set()
        self.assertEqual(list(iterator), [b"second"], "empty chunks are not yielded")
        body.close()
        self.assertEqual(sent, ["first", "second"])

    def test_background_work_finishes_before_close_returns(self):
        done = []

        @http_only
        async def app(scope, receive, send):
            await respond()(scope, receive, send)
            await asyncio.sleep(0.05)
            done.append("background")

        _, body = call(ASGIAdapter(app), make_environ())
        self.assertEqual(body, b"ok")
        self.assertEqual(done, ["background"])


class ErrorTest(unittest.TestCase):
    def test_exception_before_start_is_500(self):
        @http_only
        async def app(scope, receive, send):
            raise ValueError("boom before start")

        environ = make_environ()
        start, body = call(ASGIAdapter(app), environ)
        self.assertEqual(start.status, "500 Internal Server Error")
        self.assertEqual(body, b"Internal Server Error")
        self.assertIn("boom before start", environ["wsgi.errors"].getvalue())

    def test_exception_after_start_before_body_is_500_with_exc_info(self):
        @http_only
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise ValueError("boom after start")

        environ = make_environ()
        start, body = call(ASGIAdapter(app), environ)
        self.assertEqual([c[0] for c in start.calls], ["200 OK", "500 Internal Server Error"])
        self.assertIsInstance(start.calls[1][2][1], ValueError)
        self.assertEqual(body, b"Internal Server Error")

    def test_exception_after_body_propagates(self):
        @http_only
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"part", "more_body": True})
            raise ValueError("boom mid-body")

        body = ASGIAdapter(app)(make_environ(), StartResponse())
        iterator = iter(body)
        self.assertEqual(next(iterator), b"part")
        with self.assertRaisesRegex(ValueError, "boom mid-body"):
            next(iterator)
        body.close()

    def test_returning_without_response_is_500(self):
        @http_only
        async def app(scope, receive, send):
            return None

        environ = make_environ()
        start, _ = call(ASGIAdapter(app), environ)
        self.assertEqual(start.status, "500 Internal Server Error")
        self.assertIn("without sending http.response.start", environ["wsgi.errors"].getvalue())

    def test_bad_header_type_is_500(self):
        start, _ = call(ASGIAdapter(respond(headers=[("content-type", "text/plain")])), make_environ())
        self.assertEqual(start.status, "500 Internal Server Error")

    def test_close_before_end_cancels_the_app(self):
        events = []

        @http_only
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            try:
                while True:
                    await send({"type": "http.response.body", "body": b"tick", "more_body": True})
            except asyncio.CancelledError:
                events.append("cancelled")
                raise

        body = ASGIAdapter(app)(make_environ(), StartResponse())
        self.assertEqual(next(iter(body)), b"tick")
        body.close()  # the server's reaction to a client that went away
        self.assertEqual(events, ["cancelled"])

    def test_failing_start_response_cancels_the_app(self):
        events = []

        @http_only
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            try:
                await send({"type": "http.response.body", "body": b"never taken", "more_body": True})
            except asyncio.CancelledError:
                events.append("cancelled")
                raise

        def start_response(status, headers, exc_info=None):
            raise AssertionError("server rejects the headers")

        with self.assertRaises(AssertionError):
            ASGIAdapter(app)(make_environ(), start_response)
        self.assertEqual(events, ["cancelled"])


class LifespanApp:
    """An ASGI app with lifespan support that records the events it sees."""

    def __init__(self, fail_startup=None, fail_shutdown=None):
        self.events = []
        self.fail_startup = fail_startup
        self.fail_shutdown = fail_shutdown

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            message = await receive()
            self.events.append(message["type"])
            if self.fail_startup:
                await send({"type": "lifespan.startup.failed", "message": self.fail_startup})
                return
            scope["state"]["db"] = "connected"
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            self.events.append(message["type"])
            if self.fail_shutdown:
                await send({"type": "lifespan.shutdown.failed", "message": self.fail_shutdown})
            else:
                await send({"type": "lifespan.shutdown.complete"})
            return
        self.events.append("request:" + scope["state"].get("db", "-"))
        await respond()(scope, receive, send)


class LifespanTest(unittest.TestCase):
    def test_startup_and_shutdown_are_idempotent(self):
        app = LifespanApp()
        adapter = ASGIAdapter(app)
        adapter.startup()
        adapter.startup()
        call(adapter, make_environ())
        adapter.shutdown()
        adapter.shutdown()
        self.assertEqual(app.events, ["lifespan.startup", "request:connected", "lifespan.shutdown"])

    def test_first_request_starts_the_app(self):
        app = LifespanApp()
        adapter = ASGIAdapter(app)
        call(adapter, make_environ())
        self.assertEqual(app.events, ["lifespan.startup", "request:connected"])
        adapter.shutdown()

    def test_startup_failure_raises_with_the_message(self):
        adapter = ASGIAdapter(LifespanApp(fail_startup="no database"))
        with self.assertRaisesRegex(RuntimeError, "no database"):
            adapter.startup()
        with self.assertRaisesRegex(RuntimeError, "no database"):
            adapter(make_environ(), StartResponse())

    def test_shutdown_failure_raises_with_the_message(self):
        adapter = ASGIAdapter(LifespanApp(fail_shutdown="flush failed"))
        adapter.startup()
        with self.assertRaisesRegex(RuntimeError, "flush failed"):
            adapter.shutdown()

    def test_app_without_lifespan_is_served(self):
        adapter = ASGIAdapter(respond(body=b"no lifespan"))  # raises on the lifespan scope
        adapter.startup()
        start, body = call(adapter, make_environ())
        self.assertEqual((start.status, body), ("200 OK", b"no lifespan"))
        adapter.shutdown()

    def test_shutdown_ends_every_thread_and_later_requests_fail(self):
        @http_only
        async def app(scope, receive, send):
            # Work in the loop's default executor, as Starlette's run_in_threadpool does in anyio's.
            await asyncio.get_running_loop().run_in_executor(None, sum, [1, 2])
            await respond()(scope, receive, send)

        before = set(threading.enumerate())
        adapter = ASGIAdapter(app)
        call(adapter, make_environ())
        self.assertGreater(len(set(threading.enumerate()) - before), 0)
        adapter.shutdown()
        self.assertEqual(set(threading.enumerate()) - before, set(), "threads left after shutdown()")
        with self.assertRaisesRegex(RuntimeError, "shut down"):
            adapter(make_environ(), StartResponse())
        adapter.shutdown()

    def test_shutdown_cancels_requests_still_running(self):
        started = threading.Event()
        events = []

        @http_only
        async def app(scope, receive, send):
            started.set()
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                events.append("cancelled")
                raise

        adapter = ASGIAdapter(app)
        answers = []
        worker = threading.Thread(target=lambda: answers.append(call(adapter, make_environ())[0].status))
        worker.start()
        self.assertTrue(started.wait(5))
        adapter.shutdown()
        worker.join(5)
        self.assertEqual((events, answers), (["cancelled"], ["500 Internal Server Error"]))

    @unittest.skipUnless(importlib.util.find_spec("anyio"), "needs anyio")
    def test_anyio_worker_threads_serve_many_requests(self):
        import anyio.to_thread

        workers = set()

        @http_only
        async def app(scope, receive, send):
            workers.add(await anyio.to_thread.run_sync(threading.get_ident))
            await respond()(scope, receive, send)

        adapter = ASGIAdapter(app)
        for _ in range(3):
            call(adapter, make_environ())
        adapter.shutdown()
        self.assertEqual(len(workers), 1, "anyio started a worker thread per request")

    def test_startup_timeout(self):
        async def app(scope, receive, send):
            await receive()
            await asyncio.sleep(60)

        adapter = ASGIAdapter(app, startup_timeout=0.1)
        with self.assertRaisesRegex(RuntimeError, "did not complete"):
            adapter.startup()

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_forked_child_gets_its_own_loop_and_startup(self):
        app = LifespanApp()
        adapter = ASGIAdapter(app)
        adapter.startup()
        pid = os.fork()
        if pid == 0:  # child: the parent's loop thread does not exist here
            code = 1
            try:
                start, body = call(adapter, make_environ())
                if body == b"ok" and app.events[-2:] == ["lifespan.startup", "request:connected"]:
                    code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, "request in a forked child failed")
        adapter.shutdown()


class ValidatorServerTest(unittest.TestCase):
    """The adapter under wsgiref.validate on a real wsgiref server: no validator error or warning,
    request body and response body both streamed."""

    def setUp(self):
        self.failures = []

        @http_only
        async def app(scope, receive, send):
            total = 0
            for message in await read_body(receive):
                total += len(message.get("body", b""))
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            for part in (b"received ", str(total).encode(), b" bytes"):
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})

        validated = wsgiref.validate.validator(ASGIAdapter(app, chunk_size=1000))
        failures = self.failures

        def guarded(environ, start_response):
            try:
                return _Closing(validated(environ, start_response), failures)
            except BaseException as exc:
                failures.append(exc)
                raise

        # The validator reports some problems as WSGIWarning: make them errors, in every thread.
        self.warnings = warnings.catch_warnings()
        self.warnings.__enter__()
        warnings.simplefilter("error", wsgiref.validate.WSGIWarning)

        class QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.server = wsgiref.simple_server.make_server("127.0.0.1", 0, guarded, handler_class=QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.warnings.__exit__(None, None, None)

    def test_post_under_validator(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.server_port, timeout=10)
        conn.request("POST", "/upload", body=b"z" * 4500, headers={"Content-Type": "application/octet-stream"})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        self.assertEqual(self.failures, [])
        self.assertEqual(response.status, 200)
        self.assertEqual(data, b"received 4500 bytes")


class _Closing:
    """Iterates a validated body and records any validator failure raised while iterating or closing."""

    def __init__(self, body, failures):
        self.body = body
        self.failures = failures

    def __iter__(self):
        try:
            yield from self.body
        except BaseException as exc:
            self.failures.append(exc)
            raise

    def close(self):
        try:
            self.body.close()
        except BaseException as exc:
            self.failures.append(exc)
            raise


if __name__ == "__main__":
    unittest.main()
