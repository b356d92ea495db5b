"""Old addresses that keep working: a request for an address of the blog's old home
(Blogger, WordPress) is answered with a 301 to where the item now lives, from the
``Redirect`` table the importers fill and staff edit (blog.models.redirects).

As django.contrib.redirects' RedirectFallbackMiddleware, a fallback: the table is read
only for a GET or HEAD the site itself answered with 404, so an old address can never
hide a page of the site (WordPress's permalinks, /2014/04/15/slug/, look like the site's
own), and every other request pays no query. One exception: WordPress's ``/?p=12``
(and its other item parameters) is the home page's address, which answers 200, so
``/`` is looked up before the view, and only when the query names one of them.

What is looked up is the decoded path (request.path), the query left out (Blogger's
``?m=1``, a tracker's ``?utm_…``), except the parameters that name the item
(``QUERY_KEYS``), tried first; and the path with its trailing slash toggled, so that
"/tag/ofsted" and "/tag/ofsted/" both lead on. The old query is dropped: nothing of it
means anything here (a row's new address may carry a query of its own).

Blogger's ``?showComment=<ms>`` (the comment's publication time, in milliseconds since
the epoch) leads to that comment on its page of the post's discussion, or to the post
when no comment readers can see was written at that millisecond.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import NoReverseMatch, Resolver404, resolve

from .models import Comment, Post, Redirect
from .models.redirects import is_local_path

logger = logging.getLogger(__name__)

# Query parameters that name the item on the old blog, in the order they are tried:
# WordPress's post, page, category, tag, author and feed by query ("/?p=12",
# "/?feed=rss2"), and Blogger's feed format ("/feeds/posts/default?alt=rss").
QUERY_KEYS = ("p", "page_id", "cat", "tag", "author", "feed", "alt")
SHOW_COMMENT = "showComment"
# Milliseconds since 1970 have 13 digits until the year 2286; more is no comment's time.
SHOW_COMMENT_MAX_DIGITS = 14
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
MILLISECOND = datetime.timedelta(milliseconds=1)
# Browsers keep a 301 for as long as they please unless told otherwise: a row staff
# correct reaches readers who followed the old one within a day.
REDIRECT_MAX_AGE = 24 * 60 * 60
REDIRECTED_METHODS = ("GET", "HEAD")


def keyed_paths(request: HttpRequest) -> list[str]:
    """The old addresses with the query parameter that names the item ("/?p=12"), in
    the order of QUERY_KEYS; none when the query is empty (no parsing at all)."""
    if not request.META.get("QUERY_STRING"):
        return []
    query = request.GET
    return [f"{request.path}?{key}={query[key]}" for key in QUERY_KEYS if key in query]


def fallback_paths(request: HttpRequest) -> list[str]:
    """What a 404 is looked up by, the most exact first: the path with a parameter
    naming the item, the path, and the path with its trailing slash toggled."""
    path = request.path
    toggled = path.removesuffix("/") if path.endswith("/") else f"{path}/"
    return [*keyed_paths(request), path, *([toggled] if toggled else [])]


def find_redirect(paths: list[str]) -> Redirect | None:
    """The row of the first of ``paths`` that has one: one query, its post or tag
    with it. A path holding NUL is no row's (PostgreSQL refuses the character in a
    query, which would answer a 500 for a 404)."""
    paths = [path for path in paths if "\x00" not in path]
    if not paths:
        return None
    rows = {
        row.old_path: row
        for row in Redirect.objects.select_related("post", "tag").filter(old_path__in=paths)
    }
    return next((rows[path] for path in paths if path in rows), None)


def comment_at(post: Post, value: str) -> Comment | None:
    """The comment on ``post`` readers can see that was published at the millisecond
    ``value`` (Blogger's showComment), or None."""
    if not value.isascii() or not value.isdigit() or len(value) > SHOW_COMMENT_MAX_DIGITS:
        return None
    moment = EPOCH + int(value) * MILLISECOND
    comment = (
        Comment.objects.visible()
        .for_post(post)
        .filter(submit_date__gte=moment, submit_date__lt=moment + MILLISECOND)
        .order_by("pk")
        .first()
    )
    if comment is not None:
        comment.content_object = post  # its address starts with the post's: no look-up
    return comment


def target_of(row: Redirect, show_comment: str = "") -> str | None:
    """Where ``row`` sends a reader (to the comment published at ``show_comment`` on
    its post, where there is one), or None when it must not: a post readers cannot see
    (a draft, a scheduled one: its address would tell its slug), or an address off the
    site (the model's clean() refuses one; a row written by other means might not have
    been through it)."""
    if row.post_id is not None:
        if not row.post.is_public:
            return None
        comment = comment_at(row.post, show_comment) if show_comment else None
        return comment.get_absolute_url() if comment else row.post.get_absolute_url()
    try:
        target = row.target_path()
    except NoReverseMatch:  # a tag whose slug no address can carry: the 404 stands
        logger.warning("Old address %r leads to a tag with no address", row.old_path)
        return None
    if not is_local_path(target):
        logger.warning("Old address %r leads off the site (%r): not followed", row.old_path, target)
        return None
    return target


def redirect_to(target: str) -> HttpResponse:
    response = HttpResponsePermanentRedirect(target)
    response["Cache-Control"] = f"max-age={REDIRECT_MAX_AGE}"
    return response


def _slash_only_makes_a_page_address(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether APPEND_SLASH answered only because any one word with a slash is a
    standalone page's address (``/<slug>/``, blog.urls): an old address ("/feed") is
    then looked up first, so that it leads on in one step, not by way of a 404."""
    if response.status_code != 301 or request.path.endswith("/"):
        return False
    try:
        return resolve(request.path + "/").view_name == "blog:page-detail"
    except Resolver404:
        return False


class OldAddressMiddleware:
    """Old addresses answered with a 301 (see the module's docstring).

    Placed before the page cache (blog.pagecache.PageCacheMiddleware), so that it sees
    every response, a page the cache served included (it stores only 200s today, but a
    404 it came to keep would still lead on): what it costs a page that is not a 404 is
    a comparison of the status and of the path, no query. After CommonMiddleware in the
    response's way out, so an address APPEND_SLASH can mend (a path of the site missing
    its slash) is mended first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in REDIRECTED_METHODS:
            return self.get_response(request)
        if request.path == "/":
            # The home page answers 200 whatever its query: WordPress's "/?p=12" is
            # looked up first, and only when a parameter naming an item is there.
            response = self._follow(request, keyed_paths(request))
            if response is not None:
                return response
        response = self.get_response(request)
        if response.status_code != 404 and not _slash_only_makes_a_page_address(request, response):
            return response
        return self._follow(request, fallback_paths(request)) or response

    def _follow(self, request: HttpRequest, paths: list[str]) -> HttpResponse | None:
        row = find_redirect(paths)
        if row is None:
            return None
        show_comment = request.GET.get(SHOW_COMMENT, "") if request.META.get("QUERY_STRING") else ""
        target = target_of(row, show_comment)
        return redirect_to(target) if target is not None else None
