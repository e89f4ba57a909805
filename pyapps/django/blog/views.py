"""The API's views: JSON in and out, every error JSON {"error": "..."}."""

import json
import platform

import django
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.views import View

from .models import Comment, Post

MAX_TABLES = 10


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def error(status, message):
    return JsonResponse({"error": message}, status=status, json_dumps_params={"ensure_ascii": False})


def ok(data, status=200):
    # safe=False: lists are answers too.
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def no_content():
    """The 204 answer of a DELETE: no body, so no Content-Type either (Django adds text/html)."""
    response = HttpResponse(status=204)
    del response["Content-Type"]
    return response


def get_or_404(model, pk):
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist:
        raise Http404(f"{model._meta.model_name} {pk} not found") from None


class JsonView(View):
    """Turns ApiError and unsupported methods into JSON answers, and reads JSON bodies."""

    # The fields a POST or PUT body must hold, with their exact JSON types.
    fields = {}

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except ApiError as exc:
            return error(exc.status, str(exc))

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = error(405, f"method {request.method} not allowed")
        response["Allow"] = ", ".join(self._allowed_methods())
        return response

    def body(self):
        try:
            data = json.loads(self.request.body)
        except ValueError as exc:  # also UnicodeDecodeError
            raise ApiError(400, f"invalid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ApiError(422, f"the body must be a JSON object, not {type(data).__name__}")
        for name, kind in self.fields.items():
            if name not in data:
                raise ApiError(422, f"{name}: field required")
            # bool is an int subclass in Python, never an id in JSON.
            if not isinstance(data[name], kind) or isinstance(data[name], bool):
                raise ApiError(422, f"{name}: expected {kind.__name__}, got {type(data[name]).__name__}")
        return {name: data[name] for name in self.fields}


class Interop(JsonView):
    def get(self, request):
        Post.objects.count()
        return ok({"status": "ok"})


class Info(JsonView):
    def get(self, request):
        tables = []
        with connection.cursor() as cursor:
            for name in connection.introspection.table_names(cursor):
                cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(name)}")
                tables.append({"name": name, "rows": cursor.fetchone()[0]})
        tables.sort(key=lambda t: (-t["rows"], t["name"]))
        return ok(
            {
                "framework": "django",
                "framework_version": django.get_version(),
                "python": platform.python_version(),
                "tables": tables[:MAX_TABLES],
            }
        )


class PostCollection(JsonView):
    fields = {"title": str, "content": str}

    def get(self, request):
        return ok([post.as_json() for post in Post.objects.all()])

    def post(self, request):
        return ok(Post.objects.create(**self.body()).as_json(), status=201)


class PostDetail(JsonView):
    fields = PostCollection.fields

    def get(self, request, post_id):
        return ok(get_or_404(Post, post_id).as_json())

    def put(self, request, post_id):
        body = self.body()  # read first, as the Flask and FastAPI apps do: a bad body wins over a 404
        post = get_or_404(Post, post_id)
        for name, value in body.items():
            setattr(post, name, value)
        post.save()
        return ok(post.as_json())

    def delete(self, request, post_id):
        get_or_404(Post, post_id).delete()  # its comments too: on_delete=CASCADE
        return no_content()


def require_post(post_id):
    # A well-formed body naming a post that does not exist: the request is unprocessable, not a 404.
    if not Post.objects.filter(pk=post_id).exists():
        raise ApiError(422, f"post_id {post_id}: no such post")


class CommentCollection(JsonView):
    fields = {"post_id": int, "content": str}

    def get(self, request):
        comments = Comment.objects.all()
        post_id = request.GET.get("post_id")
        if post_id is not None:
            try:
                comments = comments.filter(post_id=int(post_id))
            except ValueError:
                raise ApiError(422, f"post_id: expected an integer, got {post_id!r}") from None
        return ok([comment.as_json() for comment in comments])

    def post(self, request):
        body = self.body()
        require_post(body["post_id"])
        return ok(Comment.objects.create(**body).as_json(), status=201)


class CommentDetail(JsonView):
    fields = CommentCollection.fields

    def get(self, request, comment_id):
        return ok(get_or_404(Comment, comment_id).as_json())

    def put(self, request, comment_id):
        body = self.body()
        comment = get_or_404(Comment, comment_id)
        require_post(body["post_id"])
        comment.post_id, comment.content = body["post_id"], body["content"]
        comment.save()
        return ok(comment.as_json())

    def delete(self, request, comment_id):
        get_or_404(Comment, comment_id).delete()
        return no_content()


# Error handlers named in djangoproject.urls: Django's own are HTML pages.


def bad_request(request, exception):
    return error(400, str(exception) or "bad request")


def not_found(request, exception):
    # Django's resolver raises Http404 with a dict describing the unmatched path; show the path.
    message = exception.args[0] if exception.args and isinstance(exception.args[0], str) else f"{request.path} not found"
    return error(404, message)


def server_error(request):
    return error(500, "internal server error")
