"""Whole-page caching for anonymous readers that is never stale.

Every cached page is stored under the current ``ContentVersion`` token. Whatever a
reader's page shows (posts, tags, references, comments, authors, the site) changes the
token in the same transaction as the change itself (blog.signals), so the next request,
in any process, looks for its page under a key nothing was stored under yet. Nothing is
ever purged: old entries simply expire.

The token is read from the database on every request (one primary-key look-up, in
plain SQL). Each gunicorn worker may keep its own local-memory cache; the token they
share is what keeps them all fresh.

A cached page is the same for every anonymous reader, except for the comment form's
CSRF token, which must be the reader's own: it is stored as a placeholder and filled in
for each reader from their own CSRF cookie.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control

from .faults import cachefaults
from .models import ContentVersion, Post, comments_window

logger = logging.getLogger(__name__)

VERSION_PK = 1
# The only query parameters a reader's page reads. Any other makes the request uncached,
# so that made-up parameters cannot fill the cache with copies of one page.
CACHEABLE_PARAMETERS = frozenset({"page", "q"})
CSRF_FIELD = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
CSRF_PLACEHOLDER = b"\x00csrf-token\x00"
# What the view may mark its response with: stored for other anonymous readers.
CACHEABLE_ATTRIBUTE = "cacheable_for_readers"


# The version ------------------------------------------------------------------------


def _next_change_without_a_write() -> datetime.datetime | None:
    """When the published pages next change by the clock alone: a scheduled post's
    publication, or a post's comments closing (BLOG_COMMENTS_CLOSE_AFTER_DAYS)."""
    now = timezone.now()
    moments = [
        Post.objects.filter(status=Post.Status.PUBLISHED, published_at__gt=now)
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    ]
    window = comments_window()
    if window is not None:
        oldest_open = (
            Post.objects.published()
            .filter(allow_comments=True, published_at__gt=now - window)
            .order_by("published_at")
            .values_list("published_at", flat=True)
            .first()
        )
        moments.append(oldest_open + window if oldest_open else None)
    return min((m for m in moments if m is not None), default=None)


def _store_version(*, new_token: bool = True) -> None:
    """Write the version row: a new token (unless only the next change moved) and the
    moment the pages next change by the clock alone."""
    next_change = _next_change_without_a_write()
    values = {
        "changed_at": timezone.now(),
        "next_change_at": int(next_change.timestamp()) if next_change else None,
    }
    token = {"token": secrets.token_hex(16)}
    # No savepoint of its own: a failure here fails the caller's whole write.
    with transaction.atomic(savepoint=False):
        updated = ContentVersion.objects.filter(pk=VERSION_PK).update(
            **values, **(token if new_token else {})
        )
        if not updated:
            ContentVersion.objects.create(pk=VERSION_PK, **values, **token)


class _Renewal:
    """The token renewal of the transaction in progress, as an on-commit callback: it
    is in ``run_on_commit`` while its renewal is pending in the transaction
    (a rollback, of the whole or of the savepoint it was made in, drops both)."""

    def __init__(self, transaction_key: tuple) -> None:
        self.transaction_key = transaction_key
        self.more_writes = False

    def pending(self, db, transaction_key: tuple) -> bool:
        return transaction_key == self.transaction_key and any(
            callback is self for _, callback, _ in db.run_on_commit
        )

    def __call__(self) -> None:
        # Writes after the renewal, in its transaction, may have scheduled or moved a
        # post: the moment of the next change by the clock alone is read again.
        if self.more_writes:
            _store_version(new_token=False)


def _transaction(db) -> tuple[transaction.Atomic, tuple] | None:
    """The atomic block that opened the transaction in progress (the outermost one a
    test case did not open), and what tells this transaction from an earlier one the
    same block opened (a decorator's block is entered again and again): its savepoint,
    which a test case's transaction has and a real one has not."""
    offset = len(db.savepoint_ids) - len(db.atomic_blocks)
    for index, block in enumerate(db.atomic_blocks):
        if not block._from_testcase:
            sid = db.savepoint_ids[index + offset] if index + offset >= 0 else None
            return block, (id(block), sid)
    return None


def invalidate() -> None:
    """A new token: every page cached so far is out of reach. Call it in the transaction
    that makes the change, so that no request can see the new token with the old data.

    At most once per transaction, whatever was written: one new token makes every page
    cached before it unreachable, so a second in the same transaction would only cost
    another write (a post saved with its references and tags, a restore, a bulk
    moderation)."""
    db = transaction.get_connection()
    current = _transaction(db)
    if current is not None:
        block, key = current
        renewal = getattr(block, "_pagecache_renewal", None)
        if renewal is not None and renewal.pending(db, key):
            renewal.more_writes = True
            return
    _store_version()
    if current is not None:
        block._pagecache_renewal = renewal = _Renewal(key)
        transaction.on_commit(renewal)


@functools.cache
def _token_sql() -> str:
    # Read on every request: plain SQL costs a tenth of the ORM's query building.
    meta, quote = ContentVersion._meta, connection.ops.quote_name
    columns = [quote(meta.get_field(name).column) for name in ("token", "next_change_at")]
    return (
        f"SELECT {', '.join(columns)} FROM {quote(meta.db_table)} "  # nosec B608 # quoted names from _meta; the id is a parameter
        f"WHERE {quote(meta.pk.column)} = %s"
    )


def current_token() -> str:
    """The token pages are cached under now: one look-up by primary key."""
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(), [VERSION_PK])
        row = cursor.fetchone()
    if row is None or (row[1] is not None and row[1] <= time.time()):
        # No row yet (a new or flushed database), or the clock has just published a
        # post or closed a discussion.
        invalidate()
        return current_token()
    return row[0]


# Cached fragments -------------------------------------------------------------------


def cached_fragment(request: HttpRequest | None, name: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept under the current token: what many pages repeat (the
    sidebar, a discussion's comments) is computed once per change, for readers the page
    cache serves and for those it does not. Without a request (an e-mail), computed
    each time."""
    token = getattr(request, "content_token", None)
    if token is None:
        return compute()
    key = f"fragment:{token}:{name}"
    value = _cache_call("get", key)
    if value is None:
        value = compute()
        _cache_call("set", key, value, settings.BLOG_PAGE_CACHE_SECONDS)
    return value


# Pages ------------------------------------------------------------------------------


def cacheable_for_readers(view: Callable) -> Callable:
    """Mark a view's successful responses as the same for every anonymous reader."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        setattr(response, CACHEABLE_ATTRIBUTE, True)
        return response

    wrapped.__name__ = getattr(view, "__name__", "cacheable_view")
    wrapped.__doc__ = view.__doc__
    wrapped.__wrapped__ = view
    return wrapped


@dataclass(frozen=True)
class Entry:
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes  # with the CSRF placeholder
    etag: str
    private: bool  # carries a reader's CSRF token: no shared cache may keep it


def _is_anonymous_reader(request: HttpRequest) -> bool:
    # By the cookies alone, before the session is read: a reader with a session (staff,
    # or anyone the site has stored something for) or with messages waiting is served
    # afresh. Every cookie the site sets but the CSRF one is one of these.
    cookies = request.COOKIES
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
        and set(request.GET).issubset(CACHEABLE_PARAMETERS)
    )


def _key(request: HttpRequest, token: str) -> str:
    address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return f"page:{token}:{hashlib.sha256(address.encode()).hexdigest()}"


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    if not getattr(response, CACHEABLE_ATTRIBUTE, False):
        return False
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    # The CSRF middleware's cookie is each reader's own and is not stored; any other
    # (a session, messages) means the page was made for this reader alone.
    if set(response.cookies) - {settings.CSRF_COOKIE_NAME}:
        return False
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    cache_control = response.get("Cache-Control", "")
    return not any(word in cache_control for word in ("private", "no-store", "no-cache"))


def _entry(response: HttpResponse) -> Entry:
    content, replaced = CSRF_FIELD.subn(rb"\1" + CSRF_PLACEHOLDER + rb"\2", response.content)
    digest = hashlib.blake2b(content, digest_size=16).hexdigest()
    headers = tuple(
        (name, value)
        for name, value in response.items()
        if name.lower() not in ("content-length", "vary", "set-cookie", "etag", "cache-control")
    )
    return Entry(response.status_code, headers, content, f'W/"{digest}"', bool(replaced))


def _revalidate_every_time(response: HttpResponse, entry: Entry) -> None:
    # Browsers keep the page and ask each time whether it changed (a 304 when not).
    response["ETag"] = entry.etag
    patch_cache_control(response, no_cache=True, max_age=0)
    if entry.private:
        patch_cache_control(response, private=True)
    else:
        patch_cache_control(response, public=True)


def _response(request: HttpRequest, entry: Entry) -> HttpResponse:
    content = entry.content
    if entry.private:
        content = content.replace(CSRF_PLACEHOLDER, get_token(request).encode())
    response = HttpResponse(content, status=entry.status)
    for name, value in entry.headers:
        response[name] = value
    response["Content-Length"] = str(len(content))
    _revalidate_every_time(response, entry)
    return response


def _cache_call(method: str, *args) -> Any:
    """The cache is a help, never a requirement: if it fails, the page is built from
    the database (blog.faults.cachefaults)."""
    try:
        return cachefaults.call(method, *args, what="Page cache", log=logger)
    except cachefaults.CacheDown:
        return None


class PageCacheMiddleware:
    """Serve anonymous readers' pages from the cache, with 304s for unchanged ones.

    Placed right after WhiteNoise: a page from the cache skips the rest of the
    middleware, and pages are stored as the rest of it left them (with their
    X-Frame-Options, say). For a page with a form, the CSRF middleware's own hooks
    give each reader their cookie and token."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request.content_token = current_token()
        if not _is_anonymous_reader(request):
            return self.get_response(request)
        key = _key(request, token)
        entry = _cache_call("get", key)
        if entry is None:
            response = self.get_response(request)
            if not _storable(request, response):
                return response
            entry = _entry(response)
            _cache_call("set", key, entry, settings.BLOG_PAGE_CACHE_SECONDS)
            _revalidate_every_time(response, entry)
            return get_conditional_response(request, etag=entry.etag, response=response)
        response = get_conditional_response(request, etag=entry.etag)
        if response is not None:  # 304 Not Modified
            _revalidate_every_time(response, entry)
            return response
        if not entry.private:
            return _response(request, entry)
        self.csrf.process_request(request)
        return self.csrf.process_response(request, _response(request, entry))
