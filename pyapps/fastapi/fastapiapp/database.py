"""The SQLite engine: the file WSGISPEC_DB names, shared by every worker process."""

import os

from sqlalchemy import create_engine, event
from sqlalchemy.orm import declarative_base, sessionmaker

# How long a writer waits for another process's write lock before failing (SQLite's busy timeout).
BUSY_TIMEOUT_S = 30


def database_path():
    path = os.environ.get("WSGISPEC_DB")
    if not path:
        raise RuntimeError("WSGISPEC_DB is not set: it names the SQLite file this app uses (create it with initdb.py)")
    return path


engine = create_engine(
    f"sqlite:///{database_path()}",
    # FastAPI runs plain `def` endpoints in a thread pool: a session may be opened in one thread
    # and closed in another.
    connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
)


@event.listens_for(engine, "connect")
def _enforce_foreign_keys(dbapi_connection, connection_record):
    # SQLite enforces foreign keys (and ON DELETE CASCADE) only when each connection asks for it.
    dbapi_connection.execute("PRAGMA foreign_keys = ON")


# expire_on_commit=False: a created or updated row is returned as is, without reloading it.
SessionLocal = sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)

Base = declarative_base()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
