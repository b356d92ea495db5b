"""What every model a reader's page shows from has in common."""

from __future__ import annotations

from django.db import models, transaction
from django.dispatch import Signal

# Sent by an UPDATE of many rows (which sends no post_save), inside its transaction, so
# that the cached pages showing them are renewed with it (blog.signals).
rows_updated = Signal()


class PageSourceQuerySet(models.QuerySet):
    """Rows readers' pages show. A bulk update announces itself (``rows_updated``), in
    the same transaction: Django sends no signal of its own for one."""

    def update(self, **kwargs) -> int:
        with transaction.atomic(using=self.db):
            count = super().update(**kwargs)
            if count:
                rows_updated.send(sender=self.model, queryset=self)
        return count
