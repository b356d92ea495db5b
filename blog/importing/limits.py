"""How long a field read from an export may be: as long as the column that will hold
it (read from the models), so that a field too long is refused by the reader, with its
place in the file, rather than cut short or failing halfway through the write."""

from __future__ import annotations

import functools

from django.conf import settings

from .records import ImportFileError

# The longest body kept, in Markdown; the export's HTML may be longer (markup goes).
BODY_MAX_LENGTH = 1_000_000
# Source ids are kept in a column of 255, with their "blogger:" or "wordpress:" prefix.
SOURCE_ID_MAX_LENGTH = 255


@functools.cache
def _columns() -> dict[str, int]:
    from django.contrib.auth import get_user_model
    from taggit.models import Tag

    from ..models import Comment, Post, Reference
    from ..models.redirects import OLD_PATH_MAX_LENGTH

    def length(model, name: str) -> int:
        return model._meta.get_field(name).max_length

    return {
        "title": length(Post, "title"),
        "slug": length(Post, "slug"),
        "tag": length(Tag, "name"),
        "name": length(Comment, "user_name"),
        "email": length(Comment, "user_email"),
        "url": length(Comment, "user_url"),
        "body": BODY_MAX_LENGTH,
        "path": OLD_PATH_MAX_LENGTH,
        "username": length(get_user_model(), "username"),
        "first_name": length(get_user_model(), "first_name"),
        "last_name": length(get_user_model(), "last_name"),
        "reference_url": length(Reference, "url"),
        "source_id": SOURCE_ID_MAX_LENGTH,
    }


def max_length(limit: str) -> int:
    """The most characters the site keeps of ``limit`` ("title", "comment", …). The
    comments' is a setting (django-comments', 3000 unless set), read each time."""
    if limit == "comment":
        return getattr(settings, "COMMENT_MAX_LENGTH", 3000)
    return _columns()[limit]


def check_length(value: str, limit: str | int, *, field: str, where: str) -> str:
    """``value``, or ImportFileError when it is longer than ``limit`` (a name for
    max_length, or a number) allows; ``where`` names the item and its place."""
    maximum = limit if isinstance(limit, int) else max_length(limit)
    if len(value) > maximum:
        raise ImportFileError(
            f"{where}: its {field} is {len(value):,} characters long; the site keeps "
            f"{maximum:,} at most. Shorten it on the old blog and export again."
        )
    return value
