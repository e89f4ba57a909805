"""A minimal WSGI app for the adapter tests: it answers every request and shows that the harness's
environment variables reach the server process."""
import os


def application(environ, start_response):
    body = ("hello from %s; HELLO_ENV=%s\n" % (
        environ.get("SERVER_SOFTWARE", "an unnamed server"), os.environ.get("HELLO_ENV", ""))).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
