"""Creates the schema in the SQLite file WSGISPEC_DB names (idempotent) and switches it to WAL, so
that several worker processes can read while one writes. Run from this directory before the server."""

from flaskapp import db

db.init_db(db.database_path())
