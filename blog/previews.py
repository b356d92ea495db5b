"""Previews to share: a signed link that lets anyone holding it read a draft or a
scheduled post before it is published, until it expires or staff revoke it.

The token carries the link's id, signed (django.core.signing, salt "blog.previews")
with the moment the link was made as its timestamp, so the same link always has the
same token and its age is counted from its making. A link is honoured only while
both say so: the signature is no older than the link's lifetime (``max_age``) and the
row is neither past ``expires_at`` nor revoked. The row is what staff change; the
signature is what no one can forge or stretch.

The page (``preview``) is never cached anywhere (never_cache, and it is not one of
blog.pagecache's pages), never indexed (``noindex, nofollow`` in a header and in the
head), carries no canonical address and no discussion, and is in no feed, sitemap or
search: those list published posts only.
"""

from __future__ import annotations

import datetime
import logging

from django.core import signing
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .models import Post, PreviewLink
from .sites import absolute_url
from .sources import attach_other_citations

logger = logging.getLogger(__name__)

SALT = "blog.previews"
# What staff may choose in the admin, as (form value, label, lifetime).
DURATIONS: dict[str, tuple[str, datetime.timedelta]] = {
    "1h": ("1 hour", datetime.timedelta(hours=1)),
    "1d": ("1 day", datetime.timedelta(days=1)),
    "7d": ("7 days", datetime.timedelta(days=7)),
    "30d": ("30 days", datetime.timedelta(days=30)),
}
LONGEST = max(lifetime for _, lifetime in DURATIONS.values())
ROBOTS = "noindex, nofollow"


class PreviewError(Exception):
    """Why a preview link cannot be made or shown, in words for the person holding it."""

    status = 404


class BadToken(PreviewError):
    status = 404


class LinkExpired(PreviewError):
    status = 410


class LinkRevoked(PreviewError):
    status = 410


class PostPublished(PreviewError):
    """The post is live: the link leads to it (a redirect, not an error page)."""

    def __init__(self, post: Post) -> None:
        super().__init__("This post is published.")
        self.post = post


class _LinkSigner(signing.TimestampSigner):
    """Signs with the link's own moment of making rather than the clock's: one token
    per link, whenever the admin shows it, and max_age counted from the making."""

    def __init__(self, made_at: datetime.datetime | None = None) -> None:
        super().__init__(salt=SALT)
        self.made_at = made_at

    def timestamp(self) -> str:
        if self.made_at is None:
            return super().timestamp()
        return signing.b62_encode(int(self.made_at.timestamp()))


def is_previewable(post: Post) -> bool:
    """A draft or a scheduled post: a live one needs no preview."""
    return post.pk is not None and not post.is_public


def create_link(post: Post, user, duration: datetime.timedelta) -> PreviewLink:
    """A new link to ``post`` valid for ``duration`` from now (at most LONGEST)."""
    if not is_previewable(post):
        raise PreviewError("Previews are for drafts and scheduled posts; this post is live.")
    if not datetime.timedelta(0) < duration <= LONGEST:
        raise PreviewError(f"A preview link lasts at most {LONGEST.days} days.")
    # Whole seconds: the signature's timestamp has no finer grain.
    now = timezone.now().replace(microsecond=0)
    link = PreviewLink.objects.create(
        post=post, created_by=user, created_at=now, expires_at=now + duration
    )
    logger.info("Preview link %s of post %s made by %s", link.pk, post.pk, user)
    return link


def _lifetime(link: PreviewLink) -> int:
    return int((link.expires_at - link.created_at).total_seconds())


def token_for(link: PreviewLink) -> str:
    """The link's token: its id and lifetime, signed with the moment it was made."""
    payload = {"link": link.pk, "seconds": _lifetime(link)}
    return _LinkSigner(link.created_at).sign_object(payload, compress=False)


def url_for(link: PreviewLink) -> str:
    """The link's full address, on the site's own domain, to send to a reader."""
    return absolute_url(reverse("blog:preview", args=[token_for(link)]))


def _read(token: str) -> tuple[int, int]:
    """The link id and lifetime in seconds the token was signed with."""
    try:
        payload = _LinkSigner().unsign_object(token)
    except signing.BadSignature as error:
        raise BadToken("This preview link is not valid.") from error
    if not isinstance(payload, dict):
        raise BadToken("This preview link is not valid.")
    link_id, seconds = payload.get("link"), payload.get("seconds")
    if not (isinstance(link_id, int) and isinstance(seconds, int)):
        raise BadToken("This preview link is not valid.")
    return link_id, seconds


def link_for_token(token: str) -> PreviewLink:
    """The link ``token`` stands for, with its post (author, tags, references) loaded,
    or the reason it cannot be shown: BadToken, LinkExpired, LinkRevoked,
    PostPublished."""
    link_id, seconds = _read(token)
    link = (
        PreviewLink.objects.select_related("post", "post__author__author_profile")
        .prefetch_related("post__tags", "post__references")
        .filter(pk=link_id)
        .first()
    )
    if link is None:  # the post, and its links with it, were deleted
        raise BadToken("This preview link is not valid.")
    if link.post.is_public:
        # Published since: whoever holds a genuine link, even an old one, may read it
        # where everyone can.
        raise PostPublished(link.post)
    if link.revoked_at is not None:
        raise LinkRevoked("This preview link has been withdrawn.")
    try:
        # The lifetime it was given out with: changing the row cannot stretch it.
        _LinkSigner().unsign_object(token, max_age=seconds)
    except signing.SignatureExpired as error:
        raise LinkExpired("This preview link has expired.") from error
    if link.expires_at <= timezone.now():
        raise LinkExpired("This preview link has expired.")
    return link


def revoke(link: PreviewLink, user) -> None:
    """Withdraw the link at once (kept, with when, for the admin's record)."""
    with transaction.atomic():
        PreviewLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    link.refresh_from_db(fields=["revoked_at"])
    logger.info("Preview link %s of post %s revoked by %s", link.pk, link.post_id, user)


# The page -----------------------------------------------------------------------------


def _no_robots(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = ROBOTS
    return response


@never_cache
@require_safe
def preview(request: HttpRequest, token: str) -> HttpResponse:
    """The post as readers will see it, marked as a preview, without its discussion.

    Not wrapped in blog.pagecache.cacheable_for_readers: never stored for others."""
    try:
        link = link_for_token(token)
    except PostPublished as published:
        return _no_robots(redirect(published.post.get_absolute_url()))
    except (LinkExpired, LinkRevoked) as error:
        response = TemplateResponse(
            request, "blog/preview_gone.html", {"message": str(error)}, status=error.status
        )
        return _no_robots(response)
    except BadToken as error:
        raise Http404(str(error)) from error
    post = link.post
    references = post.references_with_backlinks()
    attach_other_citations(post, references)
    context = {"post": post, "object": post, "references": references, "preview_link": link}
    return _no_robots(TemplateResponse(request, "blog/post_detail.html", context))
