"""What the site remembers about the e-mailed links once they have been used."""

from __future__ import annotations

from django.db import models


class UsedConfirmationLink(models.Model):
    """A confirmation link that has published its comment: followed again, it publishes
    nothing, whatever became of the comment since (deleted, removed, erased).

    The comment's row cannot be the record: a moderator may delete it, and erasure
    (blog.operations.privacy) blanks the name and address the link would be matched
    by. So the link itself is remembered, as the SHA-256 of its key. The key ends with
    an HMAC under SECRET_KEY, so the digest tells nothing about the reader: nobody can
    test a guessed address or text against it without the key. Rows are forgotten once
    the link itself has expired (blog.discussion.usedlinks.forget_expired)."""

    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(db_index=True)
    # The comment it published, while it lasts: not a foreign key, so that deleting a
    # comment leaves this row (and costs its delete no extra query).
    comment_pk = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"Confirmation link {self.digest[:12]}…, used {self.used_at:%Y-%m-%d %H:%M}"
