from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("markdownx/", include("blog.editor")),
    path("comments/", include("blog.comment_urls")),
    path("", include("blog.urls")),
]

if settings.DEBUG:
    # Editor uploads in development; production serves MEDIA_ROOT from the web server.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
