"""The blog's models, by subject: posts and their references (``posts``), readers'
comments (``comments``), the confirmation links already used (``links``), the old
addresses of an imported blog (``redirects``), and the rows derived from posts and
comments for search and the page cache (``derived``)."""

from .base import PageSourceQuerySet, rows_updated
from .comments import (
    Comment,
    CommentQuerySet,
    comments_window,
    discussion_page_query,
    is_visible,
)
from .derived import ContentVersion, SearchDocument
from .links import UsedConfirmationLink
from .posts import (
    DISCUSSED_ORDER,
    SLUG_MAX_LENGTH,
    Post,
    PostQuerySet,
    Reference,
    TaggedPost,
    reading_minutes,
)
from .redirects import Redirect

__all__ = [
    "DISCUSSED_ORDER",
    "SLUG_MAX_LENGTH",
    "Comment",
    "CommentQuerySet",
    "ContentVersion",
    "PageSourceQuerySet",
    "Post",
    "PostQuerySet",
    "Redirect",
    "Reference",
    "SearchDocument",
    "TaggedPost",
    "UsedConfirmationLink",
    "comments_window",
    "discussion_page_query",
    "is_visible",
    "reading_minutes",
    "rows_updated",
]
