"""What an importer reads from an export, before anything is written: plain records,
the same whichever blog they came from.

A reader of one export format (``blogger``, ``wordpress``) turns the file into a
stream of these records, in the order the file holds them, without a whole-file tree
in memory. The writer (``load``) takes the stream and writes it through the site's one
write path. Neither knows the other's details: the readers know XML and their blog's
habits, the writer knows the site's models.

Ids (``source_id``) are the export's own, prefixed with the kind of blog they came
from (``blogger:tag:blogger.com,1999:blog-1.post-2``, ``wordpress:https://example.org/:post:12``)
so that two blogs' ids cannot meet. They are kept on the rows written, and are how a
second import of the same blog finds what the first wrote.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import json
from dataclasses import asdict, dataclass


class ImportFileError(Exception):
    """An export that cannot be imported: not XML, not this kind of export, truncated,
    hostile (entities, a DTD), or with a field too long. Nothing has been written; the
    message says what and where, for the person importing."""


class Kind(enum.StrEnum):
    """What an old address leads to."""

    POST = "post"
    PAGE = "page"
    TAG = "tag"
    FEED = "feed"  # the posts' feed
    COMMENTS_FEED = "comments-feed"
    AUTHOR = "author"
    HOME = "home"


class PostStatus(enum.StrEnum):
    PUBLISHED = "published"  # published_at in the future: scheduled
    DRAFT = "draft"


class CommentStatus(enum.StrEnum):
    APPROVED = "approved"  # published
    PENDING = "pending"  # held for moderation
    SPAM = "spam"  # left out, counted
    TRASH = "trash"  # left out, counted


@dataclass(frozen=True)
class Position:
    """Where in the file a record was read, for messages: the n-th item (entry or
    item element, from 1) and the line it starts on, where the parser knows it."""

    item: int
    line: int | None = None

    def __str__(self) -> str:
        where = f"item {self.item}"
        return f"{where}, line {self.line}" if self.line else where


@dataclass(frozen=True)
class SourceBlog:
    """The blog the export is of: the first record of every stream."""

    platform: str  # "blogger" or "wordpress"
    title: str
    # The blog's old address ("https://example.blogspot.com/"), whose paths become
    # redirects; empty when the export does not say.
    base_url: str


@dataclass(frozen=True)
class SourceAuthor:
    """A person who wrote posts (or, on Blogger, comments as the blog's author)."""

    # The export's id for the author (login, profile address), as SourcePost.author_key.
    key: str
    username: str  # a login name for the account made for them (the writer makes it unique)
    display_name: str  # as readers saw it; split into first and last name on the account
    email: str = ""


@dataclass(frozen=True)
class OldAddress:
    """A path on the old blog that should now lead here (a 301). ``path`` starts with
    "/" and carries a query only where the query names the item ("/?p=12"); the
    writer turns ``kind`` and ``target`` into the new address."""

    path: str
    kind: Kind
    # For TAG: the tag's name; for AUTHOR: the author's key; for POST and PAGE, the
    # record's own source_id (filled by the writer when empty); otherwise empty.
    target: str = ""


@dataclass(frozen=True)
class SourceNote:
    """A numbered note at the end of a post (``[1] …``): becomes a Reference."""

    number: int
    citation: str
    url: str = ""


@dataclass(frozen=True)
class SourcePost:
    """A post or a page, its body already converted to the site's Markdown."""

    source_id: str
    position: Position
    is_page: bool
    title: str  # "" for an untitled post: it stays untitled
    body: str  # Markdown (blog.importing.convert), the notes taken off its end
    status: PostStatus
    published_at: datetime.datetime  # aware, exact, in the export's own offset
    updated_at: datetime.datetime | None
    author_key: str  # SourceAuthor.key; "" when the export names none
    slug: str = ""  # from the old address where there is one
    tags: tuple[str, ...] = ()  # labels, categories and tags, as the export spells them
    notes: tuple[SourceNote, ...] = ()
    allow_comments: bool = True
    old_addresses: tuple[OldAddress, ...] = ()
    # Remote images the body shows (absolute URLs), for --fetch-media.
    images: tuple[str, ...] = ()

    def digest(self) -> str:
        return digest(self, exclude=("position", "old_addresses"))


@dataclass(frozen=True)
class SourceComment:
    """A reader's comment, and where it sits in its post's discussion."""

    source_id: str
    position: Position
    post_source_id: str  # the SourcePost it answers
    parent_source_id: str  # the comment it replies to; "" for a top-level comment
    status: CommentStatus
    submit_date: datetime.datetime  # aware, exact
    text: str  # plain text, as readers wrote it (the site escapes comments)
    author_name: str
    author_email: str = ""
    author_url: str = ""
    ip_address: str = ""
    # Set when the comment was written by one of the blog's own authors (Blogger's
    # comments by the blog's author; WordPress's wp:comment_user_id of an author).
    author_key: str = ""

    def digest(self) -> str:
        return digest(self, exclude=("position",))


@dataclass(frozen=True)
class Skipped:
    """Something in the export that is not imported, and why (for the report)."""

    kind: str  # "post", "page", "comment", "attachment", "setting", "template", …
    source_id: str
    reason: str
    position: Position | None = None


# What a reader yields: a SourceBlog first, then these as the file holds them. An
# author comes before the first post or comment that names it.
Record = SourceBlog | SourceAuthor | SourcePost | SourceComment | Skipped


def digest(record: object, *, exclude: tuple[str, ...] = ()) -> str:
    """A stable SHA-256 of a record's fields: what the export said of an item, kept on
    its row, so that a second import knows whether the export changed it since."""
    values = {k: v for k, v in asdict(record).items() if k not in exclude}
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
