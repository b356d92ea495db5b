from django.urls import path, register_converter

from . import converters, feeds, views

register_converter(converters.FourDigitYearConverter, "yyyy")
register_converter(converters.TwoDigitConverter, "mmdd")
register_converter(converters.UnicodeSlugConverter, "tagslug")

app_name = "blog"

urlpatterns = [
    path("", views.PostIndexView.as_view(), name="post-index"),
    path("<yyyy:year>/", views.PostYearArchiveView.as_view(), name="archive-year"),
    path("<yyyy:year>/<mmdd:month>/", views.PostMonthArchiveView.as_view(), name="archive-month"),
    path(
        "<yyyy:year>/<mmdd:month>/<mmdd:day>/",
        views.PostDayArchiveView.as_view(),
        name="archive-day",
    ),
    path(
        "<yyyy:year>/<mmdd:month>/<mmdd:day>/<slug:slug>/",
        views.PostDetailView.as_view(),
        name="post-detail",
    ),
    path("tags/", views.TagListView.as_view(), name="tag-list"),
    path("tags/<tagslug:slug>/", views.TagDetailView.as_view(), name="tag-detail"),
    path("tags/<tagslug:slug>/feed/", feeds.TagFeed(), name="tag-feed"),
    path("feeds/atom/", feeds.PostAtomFeed(), name="feed-atom"),
    path("feeds/rss/", feeds.PostFeed(), name="feed-rss"),
    path("feeds/comments/", feeds.CommentFeed(), name="feed-comments"),
    path("discussions/", views.DiscussionListView.as_view(), name="discussions"),
    path("references/", views.ReferenceListView.as_view(), name="references"),
    path("search/", views.SearchView.as_view(), name="search"),
]
