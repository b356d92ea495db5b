"""Confirmation links once used: a link publishes its comment at most once, ever.

``publish_comment`` records the link (``record``) in the transaction that saves the
comment; the unique digest makes two follows of one link at once publish once (the
second's insert fails, and its whole transaction with it). The record outlives the
comment: a link followed after a moderator deleted, removed or erased its comment finds
it and publishes nothing. Records are kept as long as the link could still work, then
forgotten (``forget_expired``, on each confirmation).
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import UsedConfirmationLink
from . import links


class LinkAlreadyUsed(Exception):
    """The confirmation link has published its comment already."""

    def __init__(self, record: UsedConfirmationLink | None) -> None:
        super().__init__("This confirmation link has been used.")
        self.record = record


def digest(key: str) -> str:
    """What is kept of a link's key. The key is canonical (its signature covers every
    other character, and is compared whole), so one link has one digest."""
    return hashlib.sha256(key.encode()).hexdigest()


def used(key: str) -> UsedConfirmationLink | None:
    """The record of ``key``'s use, or None while it has not published anything."""
    return UsedConfirmationLink.objects.filter(digest=digest(key)).first()


def record(key: str, comment_pk: int) -> None:
    """Note that ``key`` published the comment ``comment_pk``, in the caller's
    transaction. Raises LinkAlreadyUsed when another request recorded it first."""
    try:
        # A savepoint: the failed insert must not break the caller's transaction before
        # it has rolled back on its own terms.
        with transaction.atomic():
            UsedConfirmationLink.objects.create(
                digest=digest(key), used_at=timezone.now(), comment_pk=comment_pk
            )
    except IntegrityError:
        raise LinkAlreadyUsed(used(key)) from None
    forget_expired()


def forget_expired() -> int:
    """Forget the links used longer ago than a link works: each was made before it was
    used, so it has expired and publishes nothing however often it is followed."""
    deleted, _ = UsedConfirmationLink.objects.filter(
        used_at__lt=timezone.now() - links.max_age()
    ).delete()
    return deleted
