from fastapi import APIRouter, Depends, HTTPException, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import models, schemas
from ..database import get_db

router = APIRouter(prefix="/posts", tags=["posts"])


def get_post_or_404(db: Session, post_id: int) -> models.Post:
    post = db.get(models.Post, post_id)
    if post is None:
        raise HTTPException(status_code=404, detail=f"post {post_id} not found")
    return post


@router.get("", response_model=list[schemas.Post])
def list_posts(db: Session = Depends(get_db)):
    return db.scalars(select(models.Post).order_by(models.Post.id)).all()


@router.post("", response_model=schemas.Post, status_code=201)
def create_post(body: schemas.PostIn, db: Session = Depends(get_db)):
    post = models.Post(**body.dict())
    db.add(post)
    db.commit()
    return post


@router.get("/{post_id}", response_model=schemas.Post)
def read_post(post_id: int, db: Session = Depends(get_db)):
    return get_post_or_404(db, post_id)


@router.put("/{post_id}", response_model=schemas.Post)
def replace_post(post_id: int, body: schemas.PostIn, db: Session = Depends(get_db)):
    post = get_post_or_404(db, post_id)
    post.title, post.content = body.title, body.content
    db.commit()
    return post


@router.delete("/{post_id}", status_code=204, response_class=Response)
def delete_post(post_id: int, db: Session = Depends(get_db)):
    db.delete(get_post_or_404(db, post_id))
    db.commit()
