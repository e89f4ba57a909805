"""A minimal WSGI app for the adapter tests: it answers every request and shows which of the
harness's environment variables reach the server process."""
import os


def application(environ, start_response):
    body = ("hello from %s; HELLO_ENV=%s; PASSED=%s; DROPPED=%s\n" % (
        environ.get("SERVER_SOFTWARE", "an unnamed server"), os.environ.get("HELLO_ENV", ""),
        os.environ.get("WSGISPEC_TEST_PASSED", ""), os.environ.get("WSGISPEC_TEST_DROPPED", ""))).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
