"""The wsgispec posts/comments API in FastAPI's idiom: pydantic schemas, SQLAlchemy models and a
database session per request as a dependency. ASGI; served on WSGI servers through wsgispec's
ASGI-to-WSGI adapter (see ../wsgi.py)."""
