"""Creates the schema in the SQLite file WSGISPEC_DB names (idempotent) and switches it to WAL, so
that several worker processes can read while one writes. Run from this directory before the server."""

from sqlalchemy import text

from fastapiapp import models  # noqa: F401 - registers the tables with Base.metadata
from fastapiapp.database import Base, engine

Base.metadata.create_all(engine)
with engine.connect() as connection:
    # WAL is a property of the database file: set once here, it holds for every later connection.
    connection.execute(text("PRAGMA journal_mode = WAL"))
