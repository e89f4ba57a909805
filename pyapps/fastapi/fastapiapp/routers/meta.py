"""/interop and /info: what the harness asks before and after the contract suite."""

import platform

import fastapi
from fastapi import APIRouter, Depends
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .. import models, schemas
from ..database import get_db

router = APIRouter(tags=["meta"])

MAX_TABLES = 10


@router.get("/interop")
def interop(db: Session = Depends(get_db)):
    db.execute(select(func.count()).select_from(models.Post)).scalar_one()
    return {"status": "ok"}


@router.get("/info", response_model=schemas.Info)
def info(db: Session = Depends(get_db)):
    names = db.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")).all()
    tables = []
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        tables.append({"name": name, "rows": db.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one()})
    tables.sort(key=lambda t: (-t["rows"], t["name"]))
    return {
        "framework": "fastapi",
        "framework_version": fastapi.__version__,
        "python": platform.python_version(),
        "tables": tables[:MAX_TABLES],
    }
