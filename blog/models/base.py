"""What every model a reader's page shows from has in common."""

from __future__ import annotations

from collections.abc import Callable

from django.db import models, transaction
from django.dispatch import Signal

# Sent by an UPDATE of many rows (which sends no post_save), inside its transaction, so
# that the cached pages showing them are renewed with it (blog.signals).
rows_updated = Signal()


def free_slug(base: str, taken: Callable[[str], bool]) -> str:
    """``base`` if it is free, else ``base-2``, ``base-3``…: the one rule that tells a
    post, a page or an author from a namesake."""
    slug, n = base, 2
    while taken(slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


class PageSourceQuerySet(models.QuerySet):
    """Rows readers' pages show. A bulk update announces itself (``rows_updated``), in
    the same transaction: Django sends no signal of its own for one."""

    def update(self, **kwargs) -> int:
        with transaction.atomic(using=self.db):
            count = super().update(**kwargs)
            if count:
                rows_updated.send(sender=self.model, queryset=self)
        return count
