"""Reports whether asyncio thinks an event loop runs in this (plain WSGI) request's thread."""
import asyncio


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [repr(asyncio._get_running_loop()).encode()]
