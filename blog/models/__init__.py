"""The blog's models, by subject: posts and their references (``posts``), readers'
comments (``comments``), standalone pages (``pages``), authors' profiles (``authors``),
uploaded images (``media``), shareable previews (``previews``), the confirmation links
already used (``links``), e-mail waiting to be sent and readers following by e-mail
(``mail``), the old addresses of an imported blog (``redirects``), and
the rows derived from posts and comments for search and the page cache (``derived``)."""

from .authors import Author
from .base import PageSourceQuerySet, rows_updated
from .comments import (
    Comment,
    CommentQuerySet,
    comments_window,
    discussion_page_query,
    is_visible,
)
from .derived import ContentVersion, PageSearchDocument, SearchDocument
from .links import UsedConfirmationLink
from .mail import Follower, Mailing, OutgoingMail
from .media import Image, Rendition
from .pages import Page, PageQuerySet
from .posts import (
    DISCUSSED_ORDER,
    SLUG_MAX_LENGTH,
    Post,
    PostQuerySet,
    Reference,
    TaggedPost,
    reading_minutes,
)
from .previews import PreviewLink
from .redirects import Redirect

__all__ = [
    "DISCUSSED_ORDER",
    "SLUG_MAX_LENGTH",
    "Author",
    "Comment",
    "CommentQuerySet",
    "ContentVersion",
    "Follower",
    "Image",
    "Mailing",
    "OutgoingMail",
    "Page",
    "PageQuerySet",
    "PageSearchDocument",
    "PageSourceQuerySet",
    "Post",
    "PostQuerySet",
    "PreviewLink",
    "Redirect",
    "Reference",
    "Rendition",
    "SearchDocument",
    "TaggedPost",
    "UsedConfirmationLink",
    "comments_window",
    "discussion_page_query",
    "is_visible",
    "reading_minutes",
    "rows_updated",
]
