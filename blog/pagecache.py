"""Whole-page caching for anonymous readers that is never stale.

Every cached page is stored under the current ``ContentVersion`` token. Whatever a
reader's page shows (posts, tags, references, comments, authors, the site) changes the
token in the same transaction as the change itself (blog.signals), so the next request,
in any process, looks for its page under a key nothing was stored under yet. Nothing is
ever purged: old entries simply expire.

Where the token is read: with a cache the processes share (Redis), from the cache, in
the same round trip as the page (``get_many``), the database staying its source of
truth (``_publish_token``); with each process's own local memory, from the database on
every request (one primary-key look-up, in plain SQL), the token they share being what
keeps them all fresh.

A page is stored under its address and its audience (``_audience``: anonymous readers;
signed-in readers; staff by what they may do), with the token it was built under. After
a change, one request per process (per cluster with Redis) builds each page again while
the others get the page as it was, for the time that takes (``_render_once``): no
stampede. Readers who just wrote something never get such a page (``FRESH_COOKIE``).

A cached page is the same for every reader of its audience, except for the forms' CSRF
token, which must be the reader's own, and a signed-in reader's name. Where a page may
be stored, the form's field is written by ``{% reader_csrf_token %}``
(blog.templatetags.pagecache_tags), and the name by ``{% reader_name %}``, with a
placeholder made for that one response (128 random bits, never sent to anyone): the page
is cut at those placeholders and nowhere else, and each reader's own (masked, so different
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
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, QueryDict
from django.http.request import split_domain_port
from django.middleware.csrf import CSRF_TOKEN_LENGTH, CsrfViewMiddleware, get_token
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.html import escape
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
# On a request whose page may be stored: the placeholders of its per-reader parts.
SLOTS_ATTRIBUTE = "pagecache_slots"
CSRF = "csrf"
NAME = "name"
# Part of every page's key: entries of an earlier format are never read.
ENTRY_FORMAT = 3
ANONYMOUS = "anonymous"
# The permissions pages show something for (staff links, moderation links), and how
# long what a user has of them is kept.
AUDIENCE_PERMISSIONS = ("blog.change_post", "blog.change_page", "django_comments.can_moderate")
AUDIENCE_SECONDS = 60
# The token's copy in a shared cache (Redis). It expires so that a writer that died
# between its commit and publishing the token cannot leave the old one for long.
TOKEN_KEY = "content-token"  # nosec B105 # a cache key, not a password
TOKEN_SECONDS = 10
# While one request builds a page again after a change, the others get the page as it
# was: for as long as that takes, or this long if the request never finishes.
BUILD_SECONDS = 5
# A reader's writes (a comment, an edit, a following): for this long after, their pages
# come from no cache that may be older than the write (nginx's, or an earlier page
# given out while the new one is built). More than the second nginx keeps a page.
FRESH_COOKIE = "blog_fresh"
FRESH_SECONDS = 3
# Between Django and nginx (tools/nginx.py): nginx's request for a page it will keep,
# and the response's header saying how to fill it (_front_response; one header, read
# and removed once by tools/front_csrf.lua for every response it sends).
FRONT_REQUEST_HEADER = "X-Front-Cache"
FRONT_CSRF_HEADER = "X-Front-Csrf"
FRONT_SECRET = "__secret__"  # nosec B105 # where nginx puts the reader's secret
# nginx keeps a page to the end of the second it was built in (its cache counts whole
# seconds), and its next copy is the page as it was until Django has built that one.
# Kept only when built this far into the second, a page changed at any moment is seen
# within (1 - this) s plus that build: within the second promised, the build under 200 ms.
FRONT_KEEP_AFTER = 0.2


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
        _publish_token()


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
    # Until the commit, readers read the token from the database, which shows them the
    # old one (and this transaction, the new one); at the commit the cache gets the new.
    _forget_token()
    if current is not None:
        block._pagecache_renewal = renewal = _Renewal(key)
        transaction.on_commit(renewal)
    else:
        _publish_token()


@functools.cache
def _token_sql() -> str:
    # Read on every request: plain SQL costs a tenth of the ORM's query building.
    meta, quote = ContentVersion._meta, connection.ops.quote_name
    columns = [quote(meta.get_field(name).column) for name in ("token", "next_change_at")]
    return (
        f"SELECT {', '.join(columns)} FROM {quote(meta.db_table)} "  # nosec B608 # quoted names from _meta; the id is a parameter
        f"WHERE {quote(meta.pk.column)} = %s"
    )


def _token_row(*, lock: bool = False) -> tuple[str, int | None] | None:
    sql = _token_sql() + (
        " FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [VERSION_PK])
        return cursor.fetchone()


def token_in_cache() -> bool:
    """Whether the token is read from the cache: only from one every process shares. A
    process's own memory would keep its token after another process changed it."""
    return not isinstance(caches["default"], LocMemCache | DummyCache)


def _forget_token() -> None:
    if token_in_cache():
        _cache_call("delete", TOKEN_KEY)


def _publish_token() -> None:
    """Put the committed token in the cache. Under the version row's lock (PostgreSQL):
    two writers committing together publish in the order they wrote, so the last token
    the cache gets is the database's, never an older one. A reader that read the old
    token before the commit only ever *adds* it (``_token``), which fails once this has
    run."""
    if not token_in_cache():
        return
    try:
        with transaction.atomic():
            row = _token_row(lock=True)
            if row is not None:
                _cache_call("set", TOKEN_KEY, tuple(row), TOKEN_SECONDS)
    except DatabaseError:
        # The write is committed whatever happens here: readers go to the database.
        logger.warning("Could not publish the page cache's token", exc_info=True)
        _forget_token()


def _token(cached: tuple[str, int | None] | None = None) -> str:
    """The token pages are cached under now: ``cached``, the cache's copy, when it has
    one; else one look-up by primary key (then kept in a shared cache)."""
    row = cached or _token_row()
    if row is None or (row[1] is not None and row[1] <= time.time()):
        # No row yet (a new or flushed database), or the clock has just published a
        # post or closed a discussion.
        invalidate()
        return _token()
    if cached is None and token_in_cache():
        _cache_call("add", TOKEN_KEY, tuple(row), TOKEN_SECONDS)
    return row[0]


def current_token() -> str:
    """The token pages are cached under now."""
    return _token(_cache_call("get", TOKEN_KEY) if token_in_cache() else None)


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
            setattr(request, SLOTS_ATTRIBUTE, None)
        response = view(request, *args, **kwargs)
        if canonical is not None:
            setattr(response, CACHEABLE_ATTRIBUTE, True)
        return response

    wrapped.__name__ = getattr(view, "__name__", "cacheable_view")
    wrapped.__doc__ = view.__doc__
    wrapped.__wrapped__ = view
    return wrapped


@dataclass
class _Slots:
    """Where a page that may be stored gets the placeholders of its per-reader parts:
    one per kind (CSRF, NAME), made for this one response, after everything in the page
    was written, and always replaced before the response leaves: no one can learn
    them, so nothing in a page can imitate them."""

    placeholders: dict[str, str] = field(default_factory=dict)

    def placeholder(self, kind: str) -> str:
        if kind not in self.placeholders:
            self.placeholders[kind] = f"pagecache-{kind}-{secrets.token_hex(16)}"
        return self.placeholders[kind]


def csrf_placeholder(request: HttpRequest | None) -> str | None:
    """The placeholder this response's CSRF fields carry instead of a token, or None
    when its page is not going to be stored (the field then carries the token itself)."""
    slots = getattr(request, SLOTS_ATTRIBUTE, None)
    if slots is None:
        return None
    if CSRF not in slots.placeholders:
        get_token(request)  # the reader's CSRF cookie comes with this response
    return slots.placeholder(CSRF)


def reader_name_placeholder(request: HttpRequest | None) -> str | None:
    """The placeholder this response carries instead of the signed-in reader's name, or
    None when its page is not going to be stored."""
    slots = getattr(request, SLOTS_ATTRIBUTE, None)
    return None if slots is None else slots.placeholder(NAME)


@dataclass(frozen=True)
class Entry:
    status: int
    headers: tuple[tuple[str, str], ...]
    parts: tuple[bytes, ...]  # the page, cut where each reader's own parts go
    kinds: tuple[str, ...]  # what goes in each cut (CSRF, NAME)
    etag: str
    token: str  # the content token it was built under

    @property
    def private(self) -> bool:
        """Carries a reader's CSRF token or name: no shared cache may keep it as sent."""
        return bool(self.kinds)


def _is_anonymous_reader(request: HttpRequest) -> bool:
    # By the cookies alone, before the session is read: a reader with a session (staff,
    # or anyone the site has stored something for) or with messages waiting is left to
    # SignedInPageCacheMiddleware.
    cookies = request.COOKIES
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


def _audience(request: HttpRequest) -> str:
    """Who a page is built for, as far as its content goes: anonymous readers, signed-in
    readers, or staff by what they may do (the templates' staff links, the comment
    list's moderation links, drafts shown to staff). Anything else that is the reader's
    own (the CSRF token, the name) is a per-reader part, filled in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    if user.is_superuser:  # every permission, and no query to say so
        return ":".join(["staff" if user.is_staff else "signed-in", *AUDIENCE_PERMISSIONS])
    # Reading a user's permissions takes two queries, as much as the rest of a page from
    # the cache: kept a minute, so a permission taken away shows in the pages that long.
    key = f"audience:{user.pk}:{int(user.is_staff)}:{int(user.is_active)}"
    audience = _cache_call("get", key)
    if audience is None:
        granted = [name for name in AUDIENCE_PERMISSIONS if user.has_perm(name)]
        audience = ":".join(["staff" if user.is_staff else "signed-in", *granted])
        _cache_call("set", key, audience, AUDIENCE_SECONDS)
    return audience


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


def _key(request: HttpRequest, audience: str) -> str | None:
    """The cache key of the request's page for ``audience``, or None when its address
    is not canonical."""
    if not _canonical_host(request):
        return None
    canonical = canonical_query(request.GET, CACHEABLE_PARAMETERS)
    if canonical is None or not canonical[1]:
        return None
    query = canonical[0]
    address = f"{request.scheme}://{request.path}{'?' if query else ''}{query}"
    return f"page:{ENTRY_FORMAT}:{audience}:{hashlib.sha256(address.encode()).hexdigest()}"


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


def _reader_part(request: HttpRequest, kind: str) -> bytes:
    if kind == CSRF:
        # Masked afresh each time (BREACH): a page with two forms (a post's comment form
        # and the footer's follow form) never carries one token twice.
        return get_token(request).encode()
    user = request.user
    return escape(user.get_full_name() or user.get_username()).encode()


def _fill(request: HttpRequest, parts: tuple[bytes, ...], kinds: tuple[str, ...]) -> bytes:
    """The page with the reader's own parts in its cuts."""
    values = (_reader_part(request, kind) for kind in kinds)
    return parts[0] + b"".join(value + part for value, part in zip(values, parts[1:], strict=True))


def _cut(
    request: HttpRequest, response: HttpResponse, slots: _Slots
) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    """The response's page cut at its placeholders, and what goes in each cut; the
    response itself gets the reader's own parts in their place, whether or not it is
    stored."""
    if not slots.placeholders:
        return ((b"",) if response.streaming else (response.content,)), ()
    # None of the reader's pages streams (one that did is never stored).
    content = b"".join(response.streaming_content) if response.streaming else response.content
    kind_of = {placeholder.encode(): kind for kind, placeholder in slots.placeholders.items()}
    pieces = re.split(b"(" + b"|".join(map(re.escape, kind_of)) + b")", content)
    parts, kinds = tuple(pieces[0::2]), tuple(kind_of[piece] for piece in pieces[1::2])
    filled = _fill(request, parts, kinds)
    if response.streaming:
        response.streaming_content = [filled]
    else:
        response.content = filled
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(filled))
    return parts, kinds


def _entry(
    response: HttpResponse, parts: tuple[bytes, ...], kinds: tuple[str, ...], token: str
) -> Entry:
    # The validator is the same for every reader, and in every worker.
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    digest.update(" ".join(kinds).encode())
    headers = tuple(
        (name, value)
        for name, value in response.items()
        if name.lower() not in ("content-length", "vary", "set-cookie", "etag", "cache-control")
    )
    return Entry(response.status_code, headers, parts, kinds, f'W/"{digest.hexdigest()}"', token)


def _revalidate_every_time(response: HttpResponse, entry: Entry) -> None:
    # Browsers keep the page and ask each time whether it changed (a 304 when not).
    response["ETag"] = entry.etag
    patch_cache_control(response, no_cache=True, max_age=0)
    if entry.private:
        patch_cache_control(response, private=True)
    else:
        patch_cache_control(response, public=True)


def _response(entry: Entry, content: bytes) -> HttpResponse:
    """``entry`` as a response, with ``content`` (the page, its cuts filled)."""
    response = HttpResponse(content, status=entry.status)
    for name, value in entry.headers:
        response[name] = value
    response["Content-Length"] = str(len(content))
    _revalidate_every_time(response, entry)
    return response


@functools.cache
def _csrf_cookie_template() -> str:
    """The CSRF cookie as the CSRF middleware sets it, with FRONT_SECRET for its value
    and no Expires (Max-Age says the same, and a cached header would date)."""
    response = HttpResponse()
    response.set_cookie(
        settings.CSRF_COOKIE_NAME,
        FRONT_SECRET,
        max_age=settings.CSRF_COOKIE_AGE,
        domain=settings.CSRF_COOKIE_DOMAIN,
        path=settings.CSRF_COOKIE_PATH,
        secure=settings.CSRF_COOKIE_SECURE,
        httponly=settings.CSRF_COOKIE_HTTPONLY,
        samesite=settings.CSRF_COOKIE_SAMESITE,
    )
    morsel = response.cookies[settings.CSRF_COOKIE_NAME]
    morsel["expires"] = ""
    return morsel.OutputString()


def _offsets(parts: tuple[bytes, ...], placeholder: str) -> list[int]:
    """Where each placeholder starts in ``placeholder.join(parts)``: nginx fills them
    there without searching the page, and passes the rest of it on untouched."""
    offsets, at = [], 0
    for part in parts[:-1]:
        at += len(part)
        offsets.append(at)
        at += len(placeholder)
    return offsets


def _front_response(entry: Entry, *, keep: bool = True) -> HttpResponse:
    """The page for the front server (nginx, tools/nginx.py) to keep and fill: the CSRF
    fields carry one placeholder, made for this response and as long as a masked token
    (so the length holds). FRONT_CSRF_HEADER says, space-separated: the placeholder,
    where each starts (comma-separated offsets), and the cookie to set when the reader
    has none. nginx puts a token masked afresh in each (BREACH), at those offsets, and
    never sends the placeholder on. It keeps the page until the end of this second, if no more
    than FRONT_KEEP_AFTER of it has gone; not at all unless ``keep`` (the page as it
    was, while it is built again)."""
    placeholder = secrets.token_hex(CSRF_TOKEN_LENGTH // 2)
    response = _response(entry, placeholder.encode().join(entry.parts))
    if entry.private:
        offsets = ",".join(map(str, _offsets(entry.parts, placeholder)))
        response[FRONT_CSRF_HEADER] = f"{placeholder} {offsets} {_csrf_cookie_template()}"
    now = time.time()
    if keep and now % 1 >= FRONT_KEEP_AFTER:
        response["X-Accel-Expires"] = f"@{int(now)}"
    return response


def _cache_call(method: str, *args) -> Any:
    """The cache is a help, never a requirement: if it fails, the page is built from
    the database (blog.faults.cachefaults)."""
    try:
        return cachefaults.call(method, *args, what="Page cache", log=logger)
    except cachefaults.CacheDown:
        return None


def _accepts_an_older_page(request: HttpRequest) -> bool:
    """Whether the reader may get a page as it was before the latest change while it is
    built again: not one who has just written something (FRESH_COOKIE)."""
    return FRESH_COOKIE not in request.COOKIES


class _PageCache:
    """What both page-cache middleware do with a request whose page may be stored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def serve(
        self, request: HttpRequest, key: str, token: str, entry: Entry | None
    ) -> HttpResponse:
        """The page: ``entry`` if it was built under ``token``. Else built again, once
        at a time: while one request builds it, the others get ``entry``, the page as
        it was, for that long (and no longer than BUILD_SECONDS)."""
        if entry is not None and entry.token == token:
            return self.hit(request, entry)
        if entry is None or not _accepts_an_older_page(request):
            return self.build(request, key, token)
        building = f"building:{key}"
        if _cache_call("add", building, 1, BUILD_SECONDS) is False:
            return self.hit(request, entry, current=False)
        try:
            return self.build(request, key, token)
        finally:
            _cache_call("delete", building)

    def build(self, request: HttpRequest, key: str, token: str) -> HttpResponse:
        slots = _Slots()
        setattr(request, SLOTS_ATTRIBUTE, slots)
        response = self.get_response(request)
        parts, kinds = _cut(request, response, slots)
        if not _storable(request, response):
            return response
        entry = _entry(response, parts, kinds, token)
        _cache_call("set", key, entry, settings.BLOG_PAGE_CACHE_SECONDS)
        if _for_the_front(request, entry):
            return _front_response(entry)
        _revalidate_every_time(response, entry)
        return get_conditional_response(request, etag=entry.etag, response=response)

    def hit(self, request: HttpRequest, entry: Entry, *, current: bool = True) -> HttpResponse:
        """``entry`` for this reader (a 304 when their copy is the same); ``current``:
        built under the current token, not the page as it was while it is built again."""
        response = get_conditional_response(request, etag=entry.etag)
        if response is not None:  # 304 Not Modified
            _revalidate_every_time(response, entry)
            return response
        return _response(entry, _fill(request, entry.parts, entry.kinds))


def _for_the_front(request: HttpRequest, entry: Entry) -> bool:
    """Whether nginx asked for the page to keep and fill itself (only ever for anonymous
    readers, whose only per-reader part is the CSRF token)."""
    return request.headers.get(FRONT_REQUEST_HEADER) == "1" and set(entry.kinds) <= {CSRF}


class PageCacheMiddleware(_PageCache):
    """Serve anonymous readers' pages from the cache, with 304s for unchanged ones.

    Placed right after WhiteNoise: a page from the cache skips the rest of the
    middleware, and pages are stored as the rest of it left them (with their
    X-Frame-Options, say). For a page with a form, the CSRF middleware's own hooks
    give each reader their cookie and token. Also marks a reader who has just written
    something (FRESH_COOKIE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = _key(request, ANONYMOUS) if _is_anonymous_reader(request) else None
        if key is None:
            request.content_token = current_token()
            response = self.get_response(request)
            # A write by a browser that reads the site (it has the CSRF cookie a form
            # needs); not a mail program's one-click unsubscribe, say, which gets none.
            if (
                request.method not in ("GET", "HEAD", "OPTIONS")
                and settings.CSRF_COOKIE_NAME in request.COOKIES
            ):
                _mark_fresh(response)
            return response
        if token_in_cache():  # the token and the page in one round trip
            found = _cache_call("get_many", [TOKEN_KEY, key]) or {}
            token, entry = _token(found.get(TOKEN_KEY)), found.get(key)
        else:
            token, entry = _token(), _cache_call("get", key)
        request.content_token = token
        return self.serve(request, key, token, entry)

    def hit(self, request: HttpRequest, entry: Entry, *, current: bool = True) -> HttpResponse:
        if _for_the_front(request, entry):
            return _front_response(entry, keep=current)
        if not entry.private:
            return super().hit(request, entry, current=current)
        self.csrf.process_request(request)
        return self.csrf.process_response(request, super().hit(request, entry, current=current))


class SignedInPageCacheMiddleware(_PageCache):
    """Serve readers with a session (signed-in readers, staff) their pages from the
    cache too, stored per audience (``_audience``) and filled with their own CSRF token
    and name. After the authentication middleware, which it needs, and before the
    X-Frame-Options one, whose header the stored pages keep."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            _is_anonymous_reader(request)  # PageCacheMiddleware's
            or request.method not in ("GET", "HEAD")
            or "messages" in request.COOKIES
        ):
            return self.get_response(request)
        key = _key(request, _audience(request))
        if key is None:
            return self.get_response(request)
        return self.serve(request, key, request.content_token, _cache_call("get", key))


def _mark_fresh(response: HttpResponse) -> None:
    """For FRESH_SECONDS after a write, the writer's pages come from no cache older than
    it: not nginx's (which keeps a page up to a second), nor one being built again."""
    response.set_cookie(
        FRESH_COOKIE,
        "1",
        max_age=FRESH_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
