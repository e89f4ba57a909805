"""/interop and /info: what the harness asks before and after the contract suite."""

import platform

import flask
from flask import Blueprint

from .db import get_db

bp = Blueprint("meta", __name__)

MAX_TABLES = 10


@bp.get("/interop")
def interop():
    get_db().execute("SELECT count(*) FROM posts").fetchone()
    return {"status": "ok"}


@bp.get("/info")
def info():
    db = get_db()
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    tables = []
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        tables.append({"name": name, "rows": db.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]})
    tables.sort(key=lambda t: (-t["rows"], t["name"]))
    return {
        "framework": "flask",
        "framework_version": flask.__version__,
        "python": platform.python_version(),
        "tables": tables[:MAX_TABLES],
    }
