"""The wsgispec bench app: one WSGI callable with a route per benchmark scenario.

Every response carries Content-Length: a server that is not told the length may keep the
connection open without framing the body (uWSGI's --http11-socket does), which stalls a
keep-alive client. The bytes must stay identical to what the reference server in bench/scenario.go
answers, so that every server moves the same payload.

Routes:
  /hello   13 bytes of text
  /json    a small JSON object, serialised per request
  /echo    POST: the request body echoed back (the bench sends 4 KiB)
  /stream  1 MiB as sixteen 64 KiB chunks from a generator
  /write   64 KiB through the write callable, in sixteen 4 KiB writes
"""

import json

HELLO = b"Hello, World!"
STREAM_CHUNK = b"x" * (64 * 1024)
STREAM_CHUNKS = 16
WRITE_CHUNK = b"w" * (4 * 1024)
WRITE_CHUNKS = 16


def _hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))])
    return [HELLO]


def _json(environ, start_response):
    body = json.dumps({"message": "Hello, World!"}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _echo(environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
    return [body]


def _stream_chunks():
    for _ in range(STREAM_CHUNKS):
        yield STREAM_CHUNK


def _stream(environ, start_response):
    length = len(STREAM_CHUNK) * STREAM_CHUNKS
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(length))])
    return _stream_chunks()


def _write(environ, start_response):
    length = len(WRITE_CHUNK) * WRITE_CHUNKS
    write = start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(length))])
    for _ in range(WRITE_CHUNKS):
        write(WRITE_CHUNK)
    return []


ROUTES = {"/hello": _hello, "/json": _json, "/echo": _echo, "/stream": _stream, "/write": _write}

NOT_FOUND = b"not found"


def application(environ, start_response):
    route = ROUTES.get(environ.get("PATH_INFO", ""))
    if route is None:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(NOT_FOUND)))])
        return [NOT_FOUND]
    return route(environ, start_response)
