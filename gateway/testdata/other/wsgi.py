"""A second app whose entry module has the same name as the Flask one's (wsgi)."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"other wsgi.py"]
