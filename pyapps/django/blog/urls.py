from django.urls import path

from . import views

urlpatterns = [
    path("interop", views.Interop.as_view()),
    path("info", views.Info.as_view()),
    path("posts", views.PostCollection.as_view()),
    path("posts/<int:post_id>", views.PostDetail.as_view()),
    path("comments", views.CommentCollection.as_view()),
    path("comments/<int:comment_id>", views.CommentDetail.as_view()),
]
