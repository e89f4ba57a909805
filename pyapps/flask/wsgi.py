"""WSGI entry: `application` is the Flask app, served as `wsgi:application` from this directory."""

import os
import sys

_APP_DIR = os.path.dirname(os.path.abspath(__file__))
if _APP_DIR not in sys.path:
    sys.path.insert(0, _APP_DIR)

from flaskapp import create_app  # noqa: E402

application = create_app()
