from django.urls import include, path

urlpatterns = [path("", include("blog.urls"))]

handler400 = "blog.views.bad_request"
handler404 = "blog.views.not_found"
handler500 = "blog.views.server_error"
