"""Following the blog by e-mail, and stopping: what the views (and staff's commands)
do to the ``Follower`` rows, each in one transaction.

Double opt-in: a request to follow writes an unconfirmed row and e-mails a link to
confirm it (blog.following.confirmation); nothing else is ever sent to the row until
its link's button is pressed (``confirm``). A request that is not confirmed within
``links.CONFIRM_MAX_AGE`` is forgotten (``forget_unconfirmed``, hourly).

No one can make the site mail an address over and over: at most one confirmation per
following (an address and a tag) and ``BLOG_FOLLOW_CONFIRMATIONS_PER_ADDRESS`` per
address in ``BLOG_FOLLOW_CONFIRMATION_PERIOD``, whoever asks. They are counted from the
rows themselves: a row's ``created_at`` is when its latest confirmation was asked for,
and only its reader can delete a row within the period (their link does; an
unconfirmed row is forgotten after a week, far longer than the period), so no one else
can reset the count.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from taggit.models import Tag

from ..models import Follower, OutgoingMail
from .addresses import spellings
from .confirmation import send_confirmation
from .links import CONFIRM_MAX_AGE

logger = logging.getLogger(__name__)


def ask_to_follow(email: str, tag: Tag | None, frequency: str) -> bool:
    """A reader asks for new posts (with ``tag``, or all of them when None) at ``email``
    (normalised: blog.following.addresses). Whether a confirmation e-mail was queued:
    not for a following already confirmed, nor past the limits. The reader is told the
    same whatever the answer, so that no one learns who follows."""
    with transaction.atomic():
        existing = Follower.objects.select_for_update().filter(email=email, tag=tag).first()
        if existing is not None and existing.is_confirmed:
            # Nothing new: not another e-mail, and not the frequency either (anyone may
            # type an address; only its reader may change their following, by the link
            # in each e-mail).
            return False
        if not may_send_confirmation(email, existing):
            return False
        now = timezone.now()
        if existing is None:
            try:
                with transaction.atomic():
                    follower = Follower.objects.create(
                        email=email, tag=tag, frequency=frequency, created_at=now
                    )
            except IntegrityError:
                # The same request twice at once: the other one sends the e-mail.
                return False
        else:
            # Asked again: the new e-mail says what is asked now, and its link works for
            # a week from now, so the row is kept that long too.
            existing.frequency, existing.created_at = frequency, now
            Follower.objects.filter(pk=existing.pk).update(frequency=frequency, created_at=now)
            follower = existing
        send_confirmation(follower)
    return True


def may_send_confirmation(email: str, following: Follower | None) -> bool:
    """Whether another confirmation may go to ``email`` (for ``following``, when it
    exists) now: one query."""
    since = timezone.now() - datetime.timedelta(seconds=settings.BLOG_FOLLOW_CONFIRMATION_PERIOD)
    if following is not None and following.created_at >= since:
        return False
    recent = Follower.objects.filter(email=email, created_at__gte=since).count()
    return recent < settings.BLOG_FOLLOW_CONFIRMATIONS_PER_ADDRESS


def confirm(follower: Follower) -> bool:
    """The reader pressed their confirmation link's button: the following starts.
    Whether it was confirmed now (False: it already was, or has gone)."""
    with transaction.atomic():
        confirmed = Follower.objects.filter(pk=follower.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        if confirmed and follower.frequency == Follower.Frequency.WEEKLY:
            schedule_digest()
    return bool(confirmed)


def change_frequency(follower: Follower, frequency: str) -> None:
    """Each new post, or the weekly digest: only from the link in the reader's e-mail."""
    with transaction.atomic():
        Follower.objects.filter(pk=follower.pk).update(frequency=frequency)
        follower.frequency = frequency
        if follower.is_confirmed and frequency == Follower.Frequency.WEEKLY:
            schedule_digest()


def unfollow(follower: Follower) -> bool:
    """Stop a following: the row goes, and with it everything kept about it. E-mails of
    a mailing still waiting for it lose their follower and are not sent (blog.outbox).
    Whether there was anything to stop."""
    with transaction.atomic():
        deleted, _ = Follower.objects.filter(pk=follower.pk).delete()
    return bool(deleted)


def others_of(follower: Follower) -> int:
    """How many other followings the address of ``follower`` has."""
    return Follower.objects.filter(email=follower.email).exclude(pk=follower.pk).count()


def unfollow_address(email: str) -> int:
    """Stop every following of ``email``: no more e-mail from the blog to it."""
    with transaction.atomic():
        deleted, _ = Follower.objects.filter(email=email).delete()
    return deleted


def schedule_digest() -> None:
    """Make sure the weekly digest will go out, now that someone wants it."""
    # blog.following.mailing is another part of this work (the mailings of new posts
    # and digests): until it is there, there is no digest to schedule.
    try:
        from .mailing import ensure_digest_scheduled
    except ImportError:
        logger.info("No weekly digest to schedule: blog.following.mailing is not there.")
        return
    ensure_digest_scheduled()


# Housekeeping and erasure -----------------------------------------------------------


def forget_unconfirmed(now: datetime.datetime | None = None) -> int:
    """Delete the requests to follow not confirmed within ``CONFIRM_MAX_AGE`` (their
    links no longer work), and the confirmation e-mails older than that, sent or not
    (each holds an address and a link that no longer works). The number of requests."""
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=CONFIRM_MAX_AGE)
    with transaction.atomic():
        _, forgotten = Follower.objects.filter(
            confirmed_at__isnull=True, created_at__lt=cutoff
        ).delete()
        OutgoingMail.objects.filter(
            kind=OutgoingMail.Kind.FOLLOW_CONFIRMATION, created_at__lt=cutoff
        ).delete()
    return forgotten.get(Follower._meta.label, 0)


def followings_of(email: str):
    """Every following of the address ``email``, however staff typed it."""
    return Follower.objects.filter(email__in=spellings(email)).select_related("tag")


def mail_to(email: str):
    """Every e-mail in the outbox to ``email`` (any kind: confirmations, follow-ups,
    mailings), in any case."""
    query = Q()
    for spelling in spellings(email):
        query |= Q(to__iexact=spelling)
    return OutgoingMail.objects.filter(query) if query else OutgoingMail.objects.none()


def erase_address(email: str) -> tuple[int, int]:
    """Delete every following of ``email`` and every e-mail to it in the outbox, sent
    or waiting: (followings, e-mails)."""
    with transaction.atomic():
        _, followings = followings_of(email).delete()
        _, mails = mail_to(email).delete()
    return followings.get(Follower._meta.label, 0), mails.get(OutgoingMail._meta.label, 0)
