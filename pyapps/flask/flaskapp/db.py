"""SQLite access: one connection per request in `g`, closed when the request ends."""

import os
import sqlite3
from importlib import resources

from flask import current_app, g

# How long a writer waits for another process's write lock before failing (SQLite's busy timeout).
BUSY_TIMEOUT_S = 30


def database_path():
    path = os.environ.get("WSGISPEC_DB")
    if not path:
        raise RuntimeError("WSGISPEC_DB is not set: it names the SQLite file this app uses (create it with initdb.py)")
    return path


def connect(path):
    # Autocommit (isolation_level=None): every write here is a single statement, so each is its own
    # transaction and takes the write lock at once, waiting up to the busy timeout for it.
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    connection.row_factory = sqlite3.Row
    # SQLite enforces foreign keys (and ON DELETE CASCADE) only when each connection asks for it.
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def get_db():
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(exc=None):
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


def init_db(path):
    """Creates the schema if missing (idempotent) and switches the file to WAL, a property of the
    database file that then holds for every connection."""
    connection = connect(path)
    try:
        connection.executescript(resources.files(__package__).joinpath("schema.sql").read_text())
        connection.execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()


def init_app(app):
    app.teardown_appcontext(close_db)
