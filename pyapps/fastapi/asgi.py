"""ASGI entry: `app` is the FastAPI application (e.g. `uvicorn asgi:app` from this directory)."""

import os
import sys

_APP_DIR = os.path.dirname(os.path.abspath(__file__))
if _APP_DIR not in sys.path:
    sys.path.insert(0, _APP_DIR)

from fastapiapp.main import app  # noqa: E402

__all__ = ["app"]
