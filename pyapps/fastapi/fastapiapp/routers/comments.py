from typing import Optional

from fastapi import APIRouter, Depends, HTTPException, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import models, schemas
from ..database import get_db

router = APIRouter(prefix="/comments", tags=["comments"])


def get_comment_or_404(db: Session, comment_id: int) -> models.Comment:
    comment = db.get(models.Comment, comment_id)
    if comment is None:
        raise HTTPException(status_code=404, detail=f"comment {comment_id} not found")
    return comment


def require_post(db: Session, post_id: int) -> None:
    # A well-formed body naming a post that does not exist: the request is unprocessable, not a 404.
    if db.get(models.Post, post_id) is None:
        raise HTTPException(status_code=422, detail=f"post_id {post_id}: no such post")


@router.get("", response_model=list[schemas.Comment])
def list_comments(post_id: Optional[int] = None, db: Session = Depends(get_db)):
    query = select(models.Comment).order_by(models.Comment.id)
    if post_id is not None:
        query = query.where(models.Comment.post_id == post_id)
    return db.scalars(query).all()


@router.post("", response_model=schemas.Comment, status_code=201)
def create_comment(body: schemas.CommentIn, db: Session = Depends(get_db)):
    require_post(db, body.post_id)
    comment = models.Comment(**body.dict())
    db.add(comment)
    db.commit()
    return comment


@router.get("/{comment_id}", response_model=schemas.Comment)
def read_comment(comment_id: int, db: Session = Depends(get_db)):
    return get_comment_or_404(db, comment_id)


@router.put("/{comment_id}", response_model=schemas.Comment)
def replace_comment(comment_id: int, body: schemas.CommentIn, db: Session = Depends(get_db)):
    comment = get_comment_or_404(db, comment_id)
    require_post(db, body.post_id)
    comment.post_id, comment.content = body.post_id, body.content
    db.commit()
    return comment


@router.delete("/{comment_id}", status_code=204, response_class=Response)
def delete_comment(comment_id: int, db: Session = Depends(get_db)):
    db.delete(get_comment_or_404(db, comment_id))
    db.commit()
