from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .routers import comments, meta, posts

app = FastAPI(title="wsgispec FastAPI app")
app.include_router(meta.router)
app.include_router(posts.router)
app.include_router(comments.router)


class StripRootPath:
    """The ASGI spec has scope["path"] include scope["root_path"] (our WSGI adapter and current
    servers do so); Starlette 0.26 routes on scope["path"] as if it did not, so under a mount such
    as SCRIPT_NAME=/fastapi no route would match. Strip the prefix here; a server that already
    leaves it out (uvicorn 0.17 with --root-path) is unaffected."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        root = scope.get("root_path", "")
        if scope["type"] == "http" and root:
            path = scope["path"]
            if path == root or path.startswith(root + "/"):
                scope = dict(scope, path=path[len(root) :] or "/")
        await self.app(scope, receive, send)


app.add_middleware(StripRootPath)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException):
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError):
    errors = exc.errors()
    if any(e["type"] == "value_error.jsondecode" for e in errors):
        return JSONResponse({"error": f"invalid JSON: {errors[0]['msg']}"}, status_code=400)
    if all(e["loc"][0] == "path" for e in errors):
        # /posts/abc names no resource: 404, as in the Flask and Django apps.
        return JSONResponse({"error": "not found"}, status_code=404)
    message = "; ".join(f"{'.'.join(str(part) for part in e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in errors)
    return JSONResponse({"error": message, "detail": errors}, status_code=422)


@app.exception_handler(Exception)
async def server_error(request: Request, exc: Exception):
    # Starlette logs the traceback and re-raises after this response has been sent.
    return JSONResponse({"error": "internal server error"}, status_code=500)
