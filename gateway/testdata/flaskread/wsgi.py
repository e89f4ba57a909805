"""A small Flask app that reads one SQLite row per request: the "real app" the gateway's CPU per
request is compared on (issue 16), written for the test rather than taken from pyapps/.

The database is the file named by FLASKREAD_DB (default: flaskread.sqlite3 in the temp directory); it
is created with 100 rows on first use. GET /item/<n> returns row n as JSON.
"""
import os
import sqlite3
import tempfile
import threading

from flask import Flask, abort, jsonify

DB = os.environ.get("FLASKREAD_DB") or os.path.join(tempfile.gettempdir(), "flaskread.sqlite3")

application = Flask(__name__)


def _init():
    con = sqlite3.connect(DB, timeout=10)
    with con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
        con.executemany("INSERT OR IGNORE INTO item VALUES (?, ?, ?)",
                        [(i, "item %d" % i, i * 1.25) for i in range(1, 101)])
    con.close()


_init()


_local = threading.local()


def db():
    """The thread's own connection, opened on its first request: opening one per request would
    cost more than the rest of the request (about 0.4 ms, most of it WAL setup)."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = sqlite3.connect(DB, timeout=10)
    return con


@application.route("/item/<int:n>")
def item(n):
    row = db().execute("SELECT id, name, price FROM item WHERE id = ?", (n,)).fetchone()
    if row is None:
        abort(404)
    return jsonify(id=row[0], name=row[1], price=row[2])
