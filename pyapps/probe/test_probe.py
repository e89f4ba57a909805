"""Unit tests of the probe's own logic that no server is needed for (python3 -m unittest)."""

import io
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import probe  # noqa: E402


def environ_dump(environ):
    got = {}

    def start_response(status, headers, exc_info=None):
        got["status"] = status

    body = b"".join(probe.application(environ, start_response))
    return got["status"], json.loads(body)["environ"]


class EnvironDumpHidesSecrets(unittest.TestCase):
    def environ(self, query=""):
        return {
            "REQUEST_METHOD": "GET", "PATH_INFO": "/environ", "QUERY_STRING": query,
            "SERVER_NAME": "x", "SERVER_PORT": "1", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
            "CI_JOB_TOKEN": "tok-3f9a7c", "HTTP_COOKIE": "session=abc", "AWS_SECRET_ACCESS_KEY": "s3cr3t",
            "HTTP_X_PROBE_CUSTOM": "kept",
        }

    def test_secret_looking_values_are_hidden(self):
        status, env = environ_dump(self.environ())
        self.assertEqual(status, "200 OK")
        for key in ("CI_JOB_TOKEN", "HTTP_COOKIE", "AWS_SECRET_ACCESS_KEY"):
            self.assertEqual(env[key]["text"], probe.REDACTED, key)
        self.assertEqual(env["HTTP_X_PROBE_CUSTOM"]["text"], "kept")
        self.assertNotIn("tok-3f9a7c", json.dumps(env))

    def test_reveal_shows_the_keys_a_case_tests(self):
        _, env = environ_dump(self.environ("reveal=HTTP_COOKIE"))
        self.assertEqual(env["HTTP_COOKIE"]["text"], "session=abc")
        self.assertEqual(env["CI_JOB_TOKEN"]["text"], probe.REDACTED)


if __name__ == "__main__":
    unittest.main()
