"""JSON at the edges: request bodies are parsed and checked here, every error answers JSON
{"error": "..."} (never one of Flask's HTML error pages), and a 204 answers nothing at all."""

import json

from flask import current_app, request
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, UnprocessableEntity


def json_body(fields):
    """The request's JSON object, checked to hold each of `fields` ({name: type}) with exactly that
    type: invalid JSON is 400, a missing or wrongly typed field 422."""
    # Parsed here rather than by request.get_json(), whose 400 hides the reason outside debug mode.
    try:
        data = json.loads(request.get_data())
    except ValueError as exc:  # also UnicodeDecodeError
        raise BadRequest(f"invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UnprocessableEntity(f"the body must be a JSON object, not {type(data).__name__}")
    for name, kind in fields.items():
        if name not in data:
            raise UnprocessableEntity(f"{name}: field required")
        value = data[name]
        # bool is an int subclass in Python, never an id in JSON.
        if not isinstance(value, kind) or isinstance(value, bool):
            raise UnprocessableEntity(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    return {name: data[name] for name in fields}


def no_content():
    """The 204 answer of a DELETE: no body, so no Content-Type either (Flask adds text/html)."""
    response = current_app.response_class(status=204)
    del response.headers["Content-Type"]
    return response


def http_error(exc):
    response = exc.get_response()  # keeps the status and headers such as Allow on a 405
    response.data = json.dumps({"error": exc.description}, ensure_ascii=False)
    response.content_type = "application/json"
    return response


def server_error(exc):
    # Flask has logged the traceback to wsgi.errors already.
    return {"error": "internal server error"}, 500


def init_app(app):
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(InternalServerError, server_error)
