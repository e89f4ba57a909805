"""Misbehaving server processes for the harness's lifecycle tests.

usage: lifecycle.py MODE PORT
  exit          print a complaint and exit 3 at once
  never-listen  run without ever opening the port
  flood         write output as fast as possible, never listening
  ignore-term   ignore SIGTERM, fork a worker that ignores it too, and serve HTTP on PORT
  serve         serve HTTP on PORT
"""
import http.server
import os
import signal
import sys
import time


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(port):
    http.server.HTTPServer(("127.0.0.1", port), Hello).serve_forever()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "exit":
        print("lifecycle: refusing to start: bad configuration", file=sys.stderr)
        sys.exit(3)
    elif mode == "never-listen":
        print("lifecycle: started, not listening", flush=True)
        time.sleep(600)
    elif mode == "flood":
        line = b"flood " + b"x" * 1017 + b"\n"
        while True:
            os.write(1, line)
    elif mode == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if os.fork() == 0:  # the worker inherits SIG_IGN: only SIGKILL to the group ends it
            time.sleep(600)
            os._exit(0)
        serve(port)
    elif mode == "serve":
        serve(port)
    else:
        sys.exit("lifecycle: unknown mode " + mode)


main()
