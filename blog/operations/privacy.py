"""What the site keeps about commenters, for how long, and how it is erased.

- ``erase_commenter``: a person's name, e-mail address, website, IP address and words
  go from every comment they wrote; each comment stays as a notice, so that the replies
  to it keep their place in the thread.
- ``erase_person``: the same, and every following by e-mail of their address, with the
  e-mails to it in the outbox (blog.following.subscriptions.erase_address).
- ``purge_comment_ips``: IP addresses go from comments older than a date. With
  ``settings.BLOG_COMMENT_IP_RETENTION_DAYS`` set, ``IpRetentionMiddleware`` does it
  without anyone running a command (see there why a middleware).
- Requests to follow by e-mail never confirmed go a week after they were made, by the
  same hourly purge (``settings.BLOG_FORGET_UNCONFIRMED_FOLLOWERS``).

The page that tells readers all this, with its figures read from the same settings, is
blog.views.PrivacyView.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_comments.models import Comment as BaseComment
from django_comments_xtd.models import XtdComment

from ..following.subscriptions import erase_address, forget_unconfirmed
from ..models import Comment, CommentQuerySet

logger = logging.getLogger(__name__)

# What an erased comment shows in place of its author and words.
ERASED_NAME = "Former reader"
ERASED_TEXT = "This comment was removed at its author’s request."

# How often each server process looks for IP addresses past their time.
PURGE_INTERVAL_SECONDS = 60 * 60


# Erasing a commenter ----------------------------------------------------------------


def normalised_email(email: str) -> str:
    """``email`` stripped, or ValidationError when it is not an e-mail address."""
    email = email.strip()
    validate_email(email)
    return email


def commenter_comments(email: str) -> CommentQuerySet:
    """Every comment by the person with ``email``, in any case: those they gave it on,
    and those posted while signed in to an account with that address (a comment keeps
    the address its account had then, which may since have changed)."""
    email = normalised_email(email)
    return Comment.objects.filter(Q(user_email__iexact=email) | Q(user__email__iexact=email))


def erase_commenter(email: str) -> int:
    """Erase the person with ``email`` from every comment they wrote; the number of
    comments. Raises ValidationError for what is not an e-mail address.

    The comments stay, each with a neutral name and a notice for its text, so the
    threads keep their shape (thread, parent, level, order untouched). The link to a
    staff account goes too: django-comments would otherwise show the account's name.
    No more follow-up e-mails; no longer a highlighted answer (it answers nothing now).
    The admin's history names a comment by its author and opening words: its entries
    for these comments are renamed. One transaction, through the Comment queryset, so
    every cached page showing them goes with it (blog.pagecache).
    """
    with transaction.atomic():
        ids = list(commenter_comments(email).values_list("pk", flat=True))
        if not ids:
            return 0
        Comment.objects.filter(pk__in=ids).update(
            user=None,
            user_name=ERASED_NAME,
            user_email="",
            user_url="",
            ip_address=None,
            comment=ERASED_TEXT,
            followup=False,
            is_highlighted=False,
        )
        erased_repr = str(Comment(user_name=ERASED_NAME, comment=ERASED_TEXT))
        admin_history(ids).update(object_repr=erased_repr[:200])
    return len(ids)


@dataclass(frozen=True)
class Erased:
    comments: int
    followings: int
    emails: int


def erase_person(email: str) -> Erased:
    """Erase the person with ``email`` from everything the site keeps about them: their
    comments (erase_commenter), their followings by e-mail and the e-mails to them in the
    outbox, sent or waiting. One transaction. Raises ValidationError for what is not an
    e-mail address."""
    with transaction.atomic():
        comments = erase_commenter(email)
        followings, emails = erase_address(normalised_email(email))
    return Erased(comments, followings, emails)


def admin_history(comment_ids: list[int]):
    """The admin's log entries about these comments (under any of the three models a
    comment is made of)."""
    models = ContentType.objects.get_for_models(Comment, XtdComment, BaseComment).values()
    return LogEntry.objects.filter(
        content_type__in=list(models), object_id__in=[str(pk) for pk in comment_ids]
    )


# IP addresses -----------------------------------------------------------------------


def retention_days() -> int | None:
    return settings.BLOG_COMMENT_IP_RETENTION_DAYS


def purge_comment_ips(older_than: datetime.datetime) -> int:
    """Forget the IP address of every comment submitted before ``older_than``; the
    number of comments that had one.

    One UPDATE of django-comments' own table, where the address and the date are, by
    its index of submit dates. No reader's page shows an address, so the page cache is
    left alone: a new token would only throw every cached page away for nothing."""
    with transaction.atomic():
        return BaseComment.objects.filter(
            submit_date__lt=older_than, ip_address__isnull=False
        ).update(ip_address=None)


def purge_expired_ips(days: int | None = None) -> int:
    """Forget the addresses older than ``days`` (by default the retention setting;
    None: keep them)."""
    days = retention_days() if days is None else days
    if days is None:
        return 0
    return purge_comment_ips(timezone.now() - datetime.timedelta(days=days))


# When the next purge is due in this process, on the monotonic clock (no wall-clock
# jump, nor a test travelling in time, moves it). 0: at the first request.
_next_purge_at = 0.0


def purge_when_due() -> None:
    """At most once an hour in this process: forget the IP addresses past their time
    (purge_expired_ips), and the requests to follow by e-mail never confirmed
    (blog.following.subscriptions.forget_unconfirmed)."""
    global _next_purge_at
    ips = retention_days() is not None
    followers = settings.BLOG_FORGET_UNCONFIRMED_FOLLOWERS
    if not (ips or followers):
        return
    now = monotonic()
    if now < _next_purge_at:
        return
    _next_purge_at = now + PURGE_INTERVAL_SECONDS
    # Housekeeping never costs a reader their page: the next hour tries again.
    if ips:
        try:
            purge_expired_ips()
        except DatabaseError:
            logger.warning("Could not forget old comments' IP addresses.", exc_info=True)
    if followers:
        try:
            forget_unconfirmed()
        except DatabaseError:
            logger.warning("Could not forget unconfirmed followers.", exc_info=True)


class IpRetentionMiddleware:
    """Keep IP addresses no longer than ``BLOG_COMMENT_IP_RETENTION_DAYS``, and
    unconfirmed requests to follow no longer than a week, with no cron and no task
    queue: each server process, on its first request and then at most once an hour,
    forgets what is past its time.

    On every request, not on comment posts only: on a quiet blog the last comments'
    addresses would otherwise outlive the promise for as long as nobody comments. The
    cost is one comparison with the clock per request, and per process an indexed
    UPDATE an hour that usually changes nothing. Placed before the page cache, so that
    requests it serves count too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        purge_when_due()
        return self.get_response(request)
