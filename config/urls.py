from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from blog.pagecache import cacheable_for_readers as cached
from blog.robots import robots_txt
from blog.sitemaps import sitemaps

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("markdownx/", include("blog.editor")),
    path("comments/", include("blog.discussion.urls")),
    path("sitemap.xml", cached(sitemap), {"sitemaps": sitemaps}, name="sitemap"),
    path("robots.txt", cached(robots_txt), name="robots"),
    path("", include("blog.urls")),
]

# A database fault is a 503 ("try again shortly"), not a 500: see blog.faults.dbfaults.
handler500 = "blog.faults.dbfaults.server_error"

if settings.DEBUG:
    # Editor uploads in development; production serves MEDIA_ROOT from the web server.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
