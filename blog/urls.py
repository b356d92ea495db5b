from django.urls import path, register_converter

from . import converters, feeds, previews, views
from .following.placeholder import placeholder as _placeholder
from .pagecache import PAGED, SEARCHED
from .pagecache import cacheable_for_readers as cached

register_converter(converters.FourDigitYearConverter, "yyyy")
register_converter(converters.TwoDigitConverter, "mmdd")
register_converter(converters.UnicodeSlugConverter, "tagslug")

app_name = "blog"

# Every page here is the same for all anonymous readers: blog.pagecache keeps them, at
# their canonical address (PAGED: the page reads ?page=, the page of its list or of its
# discussion; SEARCHED: ?q= too).
urlpatterns = [
    path("", cached(views.PostIndexView.as_view(), PAGED), name="post-index"),
    path("<yyyy:year>/", cached(views.PostYearArchiveView.as_view()), name="archive-year"),
    path(
        "<yyyy:year>/<mmdd:month>/",
        cached(views.PostMonthArchiveView.as_view(), PAGED),
        name="archive-month",
    ),
    path(
        "<yyyy:year>/<mmdd:month>/<mmdd:day>/",
        cached(views.PostDayArchiveView.as_view(), PAGED),
        name="archive-day",
    ),
    path(
        "<yyyy:year>/<mmdd:month>/<mmdd:day>/<slug:slug>/",
        cached(views.PostDetailView.as_view(), PAGED),
        name="post-detail",
    ),
    path("tags/", cached(views.TagListView.as_view()), name="tag-list"),
    path("tags/<tagslug:slug>/", cached(views.TagDetailView.as_view(), PAGED), name="tag-detail"),
    path("tags/<tagslug:slug>/feed/", cached(feeds.TagFeed()), name="tag-feed"),
    path(
        "authors/<slug:slug>/",
        cached(views.AuthorDetailView.as_view(), PAGED),
        name="author-detail",
    ),
    path("authors/<slug:slug>/feed/", cached(feeds.AuthorFeed()), name="author-feed"),
    path("feeds/atom/", cached(feeds.PostAtomFeed()), name="feed-atom"),
    path("feeds/rss/", cached(feeds.PostFeed()), name="feed-rss"),
    path("feeds/comments/", cached(feeds.CommentFeed()), name="feed-comments"),
    path("discussions/", cached(views.DiscussionListView.as_view(), PAGED), name="discussions"),
    path("references/", cached(views.ReferenceListView.as_view(), PAGED), name="references"),
    path("search/", cached(views.SearchView.as_view(), SEARCHED), name="search"),
    path("privacy/", cached(views.PrivacyView.as_view()), name="privacy"),
    # Never cached: a shared preview of an unpublished post (blog.previews).
    path("preview/<str:token>/", previews.preview, name="preview"),
    # PLACEHOLDER, to be replaced by the follow branch (blog.following.placeholder).
    path("follow/confirm/<str:token>/", _placeholder, name="follow-confirm"),
    path("unfollow/<str:token>/", _placeholder, name="unfollow"),
    # Last: a page's slug never takes one of the addresses above (blog.pageslugs).
    path("<slug:slug>/", cached(views.PageDetailView.as_view()), name="page-detail"),
]
