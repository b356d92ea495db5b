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
CSRF token, which must be the reader's own. Where a page may be stored, the form's field
is written by ``{% reader_csrf_token %}`` (blog.templatetags.pagecache_tags) with a
placeholder made for that one response (128 random bits, never sent to anyone): the page
is cut at that placeholder and nowhere else, and each reader's own (masked, so different
every time) token is put in the cuts. Nothing a reader or writer can put in a page is
ever rewritten, whatever it looks like: the entry holds the cut page, so any worker
fills it, whichever stored it.

Only canonical addresses are stored (``canonical_query``, ``_canonical_host``): the
parameters the page reads (``page`` where it has pages, as a plain number past the
first; ``q`` on search), on the site's own host. Another spelling of a page number
(``02``, ``+2``, `` 2``) is sent on to the canonical address with a 301; anything else
(a parameter the page does not read, ``page=1``, ``page=last``, another port) is built
afresh and never stored, so no one can fill the cache, or push real pages out of it,
with copies of one page.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, QueryDict
from django.http.request import split_domain_port
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import escape_leading_slashes, urlencode

from .faults import cachefaults
from .models import ContentVersion, Post, comments_window

logger = logging.getLogger(__name__)

VERSION_PK = 1
# The query parameters readers' pages read: which page of a list or of a discussion, and
# a search's words. A page reading none of them is stored without a query only.
PAGE = "page"
SEARCH = "q"
PAGED = frozenset({PAGE})
SEARCHED = frozenset({PAGE, SEARCH})
CACHEABLE_PARAMETERS = SEARCHED
# What the view may mark its response with: stored for other anonymous readers.
CACHEABLE_ATTRIBUTE = "cacheable_for_readers"
# On a request whose page may be stored: the placeholder its CSRF fields were given.
CSRF_SLOT_ATTRIBUTE = "pagecache_csrf_slot"
# Part of every page's key: entries of an earlier format are never read.
ENTRY_FORMAT = 2


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


def _page_number(value: str) -> int | None:
    """The page Django's paginators read ``value`` as (ListView, and the discussion's
    Paginator.page): empty is the first, and int() also reads "01", "+1", " 1", "1_0"
    and other scripts' digits. None for what is not a page number ("last", "0", "x")."""
    if not value:
        return 1
    try:
        number = int(value)
    except ValueError:  # also a number too long to read
        return None
    return number if number >= 1 else None


def canonical_query(query: QueryDict, reads: frozenset[str]) -> tuple[str, bool] | None:
    """The canonical query string of a page that reads the parameters ``reads``, and
    whether ``query`` spells it so (if not, the reader is sent on to it: "01", "+2",
    " 2", "1_0", other scripts' digits). None when ``query`` names a parameter the page
    does not read, names one twice, gives a page that is not a number, the first page
    by number ("1", empty) or an empty search: such an address is built afresh and never
    stored.

    Canonical: ``page`` as a plain number past the first (page 1 is the address
    without it), ``q`` not empty, in a fixed order and encoding."""
    values: dict[str, str] = {}
    exact = True
    for name, given in query.lists():
        if name not in reads or len(given) != 1:
            return None
        [value] = given
        if name == PAGE:
            number = _page_number(value)
            if number is None or value in ("", "1"):
                # Not a number, or the first page as the site used to link it: built
                # afresh, so that old links keep working without a redirect.
                return None
            exact = exact and value == str(number)
            if number > 1:
                values[name] = str(number)
        elif value:
            values[name] = value
        else:  # an empty search: the form alone, built afresh
            return None
    return urlencode(sorted(values.items())), exact


def cacheable_for_readers(view: Callable, reads: frozenset[str] = frozenset()) -> Callable:
    """Mark a view's successful responses as the same for every anonymous reader, at
    its canonical address: ``reads`` names the query parameters it reads (PAGED,
    SEARCHED). Another spelling of a canonical address is sent on to it (301); an
    address with anything else in its query is served, but never stored."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        canonical = None
        if request.method in ("GET", "HEAD"):
            canonical = canonical_query(request.GET, reads)
            path = escape_leading_slashes(request.path)
            if canonical is not None and not canonical[1] and path == request.path:
                query = canonical[0]
                return HttpResponsePermanentRedirect(f"{path}?{query}" if query else path)
        if canonical is None:
            # Not going to be stored: its CSRF fields carry the token itself.
            setattr(request, CSRF_SLOT_ATTRIBUTE, None)
        response = view(request, *args, **kwargs)
        if canonical is not None:
            setattr(response, CACHEABLE_ATTRIBUTE, True)
        return response

    wrapped.__name__ = getattr(view, "__name__", "cacheable_view")
    wrapped.__doc__ = view.__doc__
    wrapped.__wrapped__ = view
    return wrapped


@dataclass
class _CsrfSlot:
    """Where a page that may be stored gets its CSRF fields' placeholder."""

    placeholder: str | None = None


def csrf_placeholder(request: HttpRequest | None) -> str | None:
    """The placeholder this response's CSRF fields carry instead of a token, or None
    when its page is not going to be stored (the field then carries the token itself).

    Made for this one response, after everything in the page was written, and always
    replaced before the response leaves (PageCacheMiddleware): no one can learn it,
    so nothing in a page can imitate it."""
    slot = getattr(request, CSRF_SLOT_ATTRIBUTE, None)
    if slot is None:
        return None
    if slot.placeholder is None:
        get_token(request)  # the reader's CSRF cookie comes with this response
        slot.placeholder = f"pagecache-csrf-{secrets.token_hex(16)}"
    return slot.placeholder


@dataclass(frozen=True)
class Entry:
    status: int
    headers: tuple[tuple[str, str], ...]
    parts: tuple[bytes, ...]  # the page, cut where each reader's CSRF token goes
    etag: str

    @property
    def private(self) -> bool:
        """Carries a reader's CSRF token: no shared cache may keep it."""
        return len(self.parts) > 1


def _is_anonymous_reader(request: HttpRequest) -> bool:
    # By the cookies alone, before the session is read: a reader with a session (staff,
    # or anyone the site has stored something for) or with messages waiting is served
    # afresh. Every cookie the site sets but the CSRF one is one of these.
    cookies = request.COOKIES
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


def _canonical_host(request: HttpRequest) -> bool:
    """Whether the request names the site as it is configured: SITE_DOMAIN, or a name
    ALLOWED_HOSTS gives in full (not a pattern), on SITE_DOMAIN's port, the scheme's
    own or none (a proxy may drop it). Pages never depend on the host (every absolute
    address is built from settings), so all of these share one entry; any other port
    is built afresh and never stored."""
    domain, port = split_domain_port(request.get_host())
    site_domain, site_port = split_domain_port(settings.SITE_DOMAIN)
    names = {site_domain} | {
        name.lower().removesuffix(".")
        for name in settings.ALLOWED_HOSTS
        if name != "*" and not name.startswith(".")
    }
    return domain in names and port in {"", site_port, "443" if request.is_secure() else "80"}


def _key(request: HttpRequest, token: str) -> str | None:
    """The cache key of the request's page, or None when its address is not canonical."""
    if not _canonical_host(request):
        return None
    canonical = canonical_query(request.GET, CACHEABLE_PARAMETERS)
    if canonical is None or not canonical[1]:
        return None
    query = canonical[0]
    address = f"{request.scheme}://{request.path}{'?' if query else ''}{query}"
    return f"page:{ENTRY_FORMAT}:{token}:{hashlib.sha256(address.encode()).hexdigest()}"


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


def _fill(request: HttpRequest, parts: tuple[bytes, ...]) -> bytes:
    """The page with the reader's own CSRF token in its cuts, masked afresh in each
    (BREACH): a page with two forms (a post's comment form and the footer's follow form)
    never carries one token twice, as ``{% csrf_token %}`` would not."""
    if len(parts) == 1:
        return parts[0]
    tokens = (get_token(request).encode() for _ in parts[1:])
    return parts[0] + b"".join(token + part for token, part in zip(tokens, parts[1:], strict=True))


def _cut(request: HttpRequest, response: HttpResponse, slot: _CsrfSlot) -> tuple[bytes, ...]:
    """The response's page cut at its CSRF placeholder, which the response itself
    gets the reader's token in place of, whether or not it is stored."""
    if slot.placeholder is None:
        return (b"",) if response.streaming else (response.content,)
    if response.streaming:  # none of the reader's pages streams; never stored
        content = b"".join(response.streaming_content)
        parts = tuple(content.split(slot.placeholder.encode()))
        response.streaming_content = [_fill(request, parts)]
        return parts
    parts = tuple(response.content.split(slot.placeholder.encode()))
    response.content = _fill(request, parts)
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    return parts


def _entry(response: HttpResponse, parts: tuple[bytes, ...]) -> Entry:
    # The validator is the same for every reader, and in every worker.
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    headers = tuple(
        (name, value)
        for name, value in response.items()
        if name.lower() not in ("content-length", "vary", "set-cookie", "etag", "cache-control")
    )
    return Entry(response.status_code, headers, parts, f'W/"{digest.hexdigest()}"')


def _revalidate_every_time(response: HttpResponse, entry: Entry) -> None:
    # Browsers keep the page and ask each time whether it changed (a 304 when not).
    response["ETag"] = entry.etag
    patch_cache_control(response, no_cache=True, max_age=0)
    if entry.private:
        patch_cache_control(response, private=True)
    else:
        patch_cache_control(response, public=True)


def _response(request: HttpRequest, entry: Entry) -> HttpResponse:
    content = _fill(request, entry.parts)
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
        key = _key(request, token) if _is_anonymous_reader(request) else None
        if key is None:
            return self.get_response(request)
        entry = _cache_call("get", key)
        if entry is None:
            slot = _CsrfSlot()
            setattr(request, CSRF_SLOT_ATTRIBUTE, slot)
            response = self.get_response(request)
            parts = _cut(request, response, slot)
            if not _storable(request, response):
                return response
            entry = _entry(response, parts)
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
