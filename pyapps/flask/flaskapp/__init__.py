"""The wsgispec posts/comments API in Flask's idiom: an application factory, one blueprint per
resource and sqlite3 with a connection per request (as in Flask's own tutorial)."""

from flask import Flask

from . import db, jsonapi
from .comments import bp as comments_bp
from .meta import bp as meta_bp
from .posts import bp as posts_bp


def create_app():
    app = Flask(__name__)
    app.config["DATABASE"] = db.database_path()
    # Keep non-ASCII titles readable in responses (UTF-8, not \u escapes).
    app.json.ensure_ascii = False
    db.init_app(app)
    jsonapi.init_app(app)
    app.register_blueprint(meta_bp)
    app.register_blueprint(posts_bp)
    app.register_blueprint(comments_bp)
    return app
