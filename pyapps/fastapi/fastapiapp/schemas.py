"""Request and response bodies. Strict types: pydantic 1 would otherwise turn 123 into "123" and
"5" into 5, where the API answers a wrongly typed field with 422."""

from pydantic import BaseModel, StrictInt, StrictStr


class PostIn(BaseModel):
    title: StrictStr
    content: StrictStr


class Post(PostIn):
    id: int

    class Config:
        orm_mode = True


class CommentIn(BaseModel):
    post_id: StrictInt
    content: StrictStr


class Comment(CommentIn):
    id: int

    class Config:
        orm_mode = True


class Table(BaseModel):
    name: str
    rows: int


class Info(BaseModel):
    framework: str
    framework_version: str
    python: str
    tables: list[Table]
