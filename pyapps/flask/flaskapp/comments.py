import sqlite3

from flask import Blueprint, abort, request

from .db import get_db
from .jsonapi import json_body, no_content

bp = Blueprint("comments", __name__, url_prefix="/comments")

COMMENT_FIELDS = {"post_id": int, "content": str}


def write_comment(sql, params):
    """Runs an INSERT or UPDATE ... RETURNING; the foreign key rejects a post_id naming no post,
    which is an unprocessable request (422), not a missing resource."""
    try:
        return get_db().execute(sql, params).fetchone()
    except sqlite3.IntegrityError:
        abort(422, f"post_id {params['post_id']}: no such post")


@bp.get("")
def list_comments():
    post_id = request.args.get("post_id")
    if post_id is None:
        rows = get_db().execute("SELECT id, post_id, content FROM comments ORDER BY id")
    else:
        if not post_id.lstrip("-").isdigit():
            abort(422, f"post_id: expected an integer, got {post_id!r}")
        rows = get_db().execute("SELECT id, post_id, content FROM comments WHERE post_id = ? ORDER BY id", (int(post_id),))
    return [dict(row) for row in rows]


@bp.post("")
def create_comment():
    comment = json_body(COMMENT_FIELDS)
    row = write_comment(
        "INSERT INTO comments (post_id, content) VALUES (:post_id, :content) RETURNING id, post_id, content", comment
    )
    return dict(row), 201


@bp.get("/<int:comment_id>")
def read_comment(comment_id):
    row = get_db().execute("SELECT id, post_id, content FROM comments WHERE id = ?", (comment_id,)).fetchone()
    if row is None:
        abort(404, f"comment {comment_id} not found")
    return dict(row)


@bp.put("/<int:comment_id>")
def replace_comment(comment_id):
    comment = json_body(COMMENT_FIELDS)
    row = write_comment(
        "UPDATE comments SET post_id = :post_id, content = :content WHERE id = :id RETURNING id, post_id, content",
        {**comment, "id": comment_id},
    )
    if row is None:
        abort(404, f"comment {comment_id} not found")
    return dict(row)


@bp.delete("/<int:comment_id>")
def delete_comment(comment_id):
    if get_db().execute("DELETE FROM comments WHERE id = ?", (comment_id,)).rowcount == 0:
        abort(404, f"comment {comment_id} not found")
    return no_content()
