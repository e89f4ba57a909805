from flask import Blueprint, abort

from .db import get_db
from .jsonapi import json_body, no_content

bp = Blueprint("posts", __name__, url_prefix="/posts")

POST_FIELDS = {"title": str, "content": str}


@bp.get("")
def list_posts():
    return [dict(row) for row in get_db().execute("SELECT id, title, content FROM posts ORDER BY id")]


@bp.post("")
def create_post():
    post = json_body(POST_FIELDS)
    row = get_db().execute(
        "INSERT INTO posts (title, content) VALUES (:title, :content) RETURNING id, title, content", post
    ).fetchone()
    return dict(row), 201


@bp.get("/<int:post_id>")
def read_post(post_id):
    row = get_db().execute("SELECT id, title, content FROM posts WHERE id = ?", (post_id,)).fetchone()
    if row is None:
        abort(404, f"post {post_id} not found")
    return dict(row)


@bp.put("/<int:post_id>")
def replace_post(post_id):
    post = json_body(POST_FIELDS)
    row = get_db().execute(
        "UPDATE posts SET title = :title, content = :content WHERE id = :id RETURNING id, title, content",
        {**post, "id": post_id},
    ).fetchone()
    if row is None:
        abort(404, f"post {post_id} not found")
    return dict(row)


@bp.delete("/<int:post_id>")
def delete_post(post_id):
    # The post's comments go with it: ON DELETE CASCADE.
    if get_db().execute("DELETE FROM posts WHERE id = ?", (post_id,)).rowcount == 0:
        abort(404, f"post {post_id} not found")
    return no_content()
