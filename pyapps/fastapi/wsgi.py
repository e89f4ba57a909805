"""WSGI entry: `application` is the FastAPI app run through wsgispec's ASGI-to-WSGI adapter
(../asgi/wsgispec_asgi.py), so any WSGI server serves it as `wsgi:application` from this directory."""

import os
import sys

_APP_DIR = os.path.dirname(os.path.abspath(__file__))
for _path in (_APP_DIR, os.path.join(os.path.dirname(_APP_DIR), "asgi")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from fastapiapp.main import app  # noqa: E402
from wsgispec_asgi import ASGIAdapter  # noqa: E402

application = ASGIAdapter(app)
