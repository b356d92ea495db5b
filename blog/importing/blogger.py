"""Blogger's export read into records (``blog.importing.records``), an entry at a time.

Blogger has written two exports, both one Atom ``feed`` whose ``entry`` children are
the blog's posts, pages, comments, settings and template, and this reads either,
telling them apart by what the entries hold:

* The classic export (Settings → Other → Back up content until 2020, and the one most
  archives hold): an entry's kind is a category in the scheme
  ``http://schemas.google.com/g/2005#kind`` whose term ends ``kind#post``,
  ``#page``, ``#comment``, ``#settings`` or ``#template``; a draft carries
  ``<app:control><app:draft>yes</app:draft></app:control>``; labels are categories
  in the scheme ``http://www.blogger.com/atom/ns#``; the old address is the
  ``<link rel="alternate" type="text/html">``; a comment names its post with
  ``<thr:in-reply-to ref="…">`` and the comment it answers with a
  ``<link rel="related" href="…/comments/default/<id>">``; a comment whose text the
  blog's owner removed carries ``<gd:extendedProperty name="blogger.contentRemoved">``
  (the name Blogger's own comment widget looks for). Comments are all published:
  Blogger leaves moderated and spam comments out of this export.
* The newer export (Settings → Manage blog → Back up content, and Google Takeout's
  ``feed.atom``), in the namespace ``http://schemas.google.com/blogger/2018``:
  ``<blogger:type>`` POST, PAGE or COMMENT; ``<blogger:status>`` LIVE, DRAFT,
  SOFT_TRASHED …; ``<blogger:filename>`` the old address's path;
  ``<blogger:trashed>`` empty unless the item is in the trash; a comment's post is
  ``<blogger:parent>`` and the comment it answers ``<blogger:inReplyTo>`` (empty for
  a top-level comment); the author's ``<blogger:type>`` ANONYMOUS for anonymous
  commenters. Google documents none of this: it is read from real exports quoted in
  open-source importers. Where they are silent (a comment status other than LIVE, a
  status SCHEDULED, whether ``inReplyTo`` holds the whole id or the number) the
  reader takes the likeliest reading and says so where it does.

Neither export says whether a post took comments (the API's ``readerComments`` is not
in them), so ``allow_comments`` stays True.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element  # nosec B405 # elements already parsed by defusedxml

from django.utils.text import slugify

from .comment_text import comment_text
from .convert import convert_body
from .limits import check_length
from .records import (
    CommentStatus,
    ImportFileError,
    Kind,
    OldAddress,
    Position,
    PostStatus,
    Record,
    Skipped,
    SourceAuthor,
    SourceBlog,
    SourceComment,
    SourcePost,
)
from .xmlstream import XmlItems, local_name

ATOM = "http://www.w3.org/2005/Atom"
THREAD = "http://purl.org/syndication/thread/1.0"
GDATA = "http://schemas.google.com/g/2005"
# Blogger's drafts use the pre-RFC namespace of the Atom Publishing Protocol.
APP_NAMESPACES = ("http://purl.org/atom/app#", "http://www.w3.org/2007/app")
BLOGGER_2018 = "http://schemas.google.com/blogger/2018"
KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
KIND_PREFIX = "http://schemas.google.com/blogger/2008/kind#"
LABEL_SCHEME = "http://www.blogger.com/atom/ns#"
BLOG_ID_PREFIX = "tag:blogger.com,1999:blog-"
NO_EMAIL = "noreply@blogger.com"  # what Blogger writes for everyone's e-mail address

ENTRY = f"{{{ATOM}}}entry"
SETTINGS_REASON = "Blogger's settings and template are not imported"


def read(file: BinaryIO) -> Iterator[Record]:
    """The records of a Blogger export: its SourceBlog first, then its items in the
    file's order, an author before the first item naming it. Raises ImportFileError
    (before or while yielding) for a file that is not a Blogger export or cannot be
    imported whole."""
    return _Reader(file).records()


def _child(element: Element | None, namespace: str, name: str) -> Element | None:
    return element.find(f"{{{namespace}}}{name}") if element is not None else None


def _text(element: Element | None) -> str:
    return "".join(element.itertext()) if element is not None else ""


def _child_text(element: Element | None, namespace: str, name: str) -> str:
    return _text(_child(element, namespace, name)).strip()


def _links(element: Element, rel: str) -> list[Element]:
    return [link for link in element.findall(f"{{{ATOM}}}link") if link.get("rel") == rel]


def _alternate(element: Element) -> str:
    for link in _links(element, "alternate"):
        if link.get("type", "text/html") == "text/html" and link.get("href"):
            return link.get("href", "").strip()
    return ""


def _username(name: str) -> str:
    """A readable login from a display name ("John Mills" → "john-mills")."""
    return (slugify(name) or slugify(name, allow_unicode=True) or "blogger-author")[:150]


def _is_web_address(address: str) -> bool:
    return urlsplit(address).scheme.lower() in ("http", "https")


class _Reader:
    def __init__(self, file: BinaryIO) -> None:
        self.items = XmlItems(
            file, item_tags=frozenset({ENTRY}), parent_depth=0, check_root=_check_root
        )
        self.started = False
        self.base_url = ""
        self.authors: set[str] = set()  # keys of the authors already yielded
        self.blog_authors: set[str] = set()  # keys of the blog's own people
        self.labels: set[str] = set()
        self.feeds_given = False

    # The file as a whole ------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        for entry, position in self.items:
            if not self.started:
                yield self._start(entry, position)
            yield from self._entry(entry, position)
        if not self.started:
            yield self._start(None, None)

    def _start(self, first: Element | None, position: Position | None) -> SourceBlog:
        """The SourceBlog, from the feed's own elements (all before its first entry),
        once the first entry shows that this is a Blogger export."""
        self.started = True
        root = self.items.root
        if root is None:  # the parser reads the root before it hands over anything
            raise ImportFileError("This is not a Blogger export: the file holds no feed.")
        blog_id = _child_text(root, ATOM, "id")
        if not blog_id.startswith(BLOG_ID_PREFIX):
            raise ImportFileError(
                "This is not a Blogger export: it is an Atom feed, but its id "
                f"(“{blog_id[:80]}”) is not a Blogger blog's."
            )
        if first is not None and _format(first) is None:
            raise ImportFileError(
                f"This is not a Blogger export ({position}): a Blogger blog's feed, but its "
                "entries are not marked as posts, comments or settings the way an export's "
                "are. Export the blog with Blogger's Settings → Back up content, and import that."
            )
        self.base_url = _alternate(root)
        author = _child(root, ATOM, "author")
        if author is not None:
            # The feed's author is the blog's owner: their comments keep their account.
            key = _child_text(author, ATOM, "uri") or _child_text(author, ATOM, "name")
            if key:
                self.blog_authors.add(key)
        return SourceBlog(
            platform="blogger", title=_child_text(root, ATOM, "title"), base_url=self.base_url
        )

    # One entry -----------------------------------------------------------------------

    def _entry(self, entry: Element, position: Position) -> Iterator[Record]:
        entry_id = _child_text(entry, ATOM, "id")
        kind = _kind(entry)
        if kind in ("post", "page"):
            yield from self._post(entry, entry_id, position, is_page=kind == "page")
        elif kind == "comment":
            yield from self._comment(entry, entry_id, position)
        elif kind in ("settings", "template", "layout"):
            yield Skipped(
                kind="setting" if kind == "settings" else "template",
                source_id=_source_id(entry_id, position) if entry_id else "",
                reason=SETTINGS_REASON,
                position=position,
            )
        else:
            yield Skipped(
                kind=kind or "unknown",
                source_id=_source_id(entry_id, position) if entry_id else "",
                reason=(
                    f"Blogger's “{kind}” entries are not imported"
                    if kind
                    else "the entry says neither Blogger's kind nor type"
                ),
                position=position,
            )

    def _post(
        self, entry: Element, entry_id: str, position: Position, *, is_page: bool
    ) -> Iterator[Record]:
        what = "page" if is_page else "post"
        source_id = _source_id(entry_id, position)
        status = _post_status(entry)
        if status is None:
            yield Skipped(
                what, source_id, "it was in Blogger's trash when the blog was exported", position
            )
            return
        if not isinstance(status, PostStatus):
            yield Skipped(
                what, source_id, f"Blogger's status “{status}” is not one this site has", position
            )
            return
        item = f"{what} “{entry_id}”"
        title = _check(_title(entry), "title", "title", item, position)
        html = _check(_text(_child(entry, ATOM, "content")), "body", "body", item, position)
        author_key = ""
        author = _person(entry)
        if author is not None:
            author_key = author.key
            self.blog_authors.add(author.key)
            yield from self._author(author, item, position)

        path = _check(_old_path(entry), "path", "old address", item, position)
        slug = _slug(path)
        _check(slug, "slug", "slug (from its old address)", item, position)
        tags = tuple(
            dict.fromkeys(_check(label, "tag", "label", item, position) for label in _labels(entry))
        )
        addresses: list[OldAddress] = []
        if path:
            addresses.append(OldAddress(path, Kind.PAGE if is_page else Kind.POST))
        for tag in tags:
            if tag not in self.labels:
                self.labels.add(tag)
                label_path = _check(
                    f"/search/label/{tag}", "path", "label's address", item, position
                )
                addresses.append(OldAddress(label_path, Kind.TAG, target=tag))
        if not is_page and not self.feeds_given:
            self.feeds_given = True
            addresses.append(OldAddress("/feeds/posts/default", Kind.FEED))
            # Blogger's RSS of the same feed: readers subscribed to it stay on RSS.
            addresses.append(OldAddress("/feeds/posts/default?alt=rss", Kind.FEED))
            addresses.append(OldAddress("/feeds/comments/default", Kind.COMMENTS_FEED))

        converted = convert_body(html, base_url=self.base_url)
        _check(converted.body, "body", "body", item, position)
        published = _date(entry, "published", item, position)
        yield SourcePost(
            source_id=source_id,
            position=position,
            is_page=is_page,
            title=title,
            body=converted.body,
            status=status,
            published_at=published,
            updated_at=_date(entry, "updated", item, position, required=False),
            author_key=author_key,
            slug=slug,
            tags=tags,
            notes=converted.notes,
            old_addresses=tuple(addresses),
            images=converted.images,
        )

    def _comment(self, entry: Element, entry_id: str, position: Position) -> Iterator[Record]:
        source_id = _source_id(entry_id, position)
        item = f"comment “{entry_id}”"
        post_id = _comment_post(entry)
        if not post_id:
            yield Skipped("comment", source_id, "it does not say which post it answers", position)
            return
        status = _comment_status(entry)
        if not isinstance(status, CommentStatus):
            yield Skipped(
                "comment",
                source_id,
                f"Blogger's status “{status}” is not one this site has",
                position,
            )
            return
        parent = _comment_parent(entry, entry_id)
        text = _check(
            comment_text(_text(_child(entry, ATOM, "content"))), "comment", "text", item, position
        )

        person = _person(entry)
        name, email, url, author_key = "Anonymous", "", "", ""
        if person is not None:
            name = (
                _check(person.display_name, "name", "commenter's name", item, position)
                or "Anonymous"
            )
            email = _check(person.email, "email", "commenter's e-mail address", item, position)
            uri = _child_text(_child(entry, ATOM, "author"), ATOM, "uri")
            url = _check(_commenter_url(uri), "url", "commenter's address", item, position)
            if person.key in self.blog_authors:
                # The blog's own author answering: the writer gives it their account.
                author_key = person.key
                yield from self._author(person, item, position)
        yield SourceComment(
            source_id=source_id,
            position=position,
            post_source_id=_source_id(post_id, position),
            parent_source_id=_source_id(parent, position) if parent else "",
            status=status,
            submit_date=_date(entry, "published", item, position),
            text=text,
            author_name=name,
            author_email=email,
            author_url=url,
            author_key=author_key,
        )

    def _author(
        self, person: SourceAuthor, item: str, position: Position
    ) -> Iterator[SourceAuthor]:
        if person.key not in self.authors:
            self.authors.add(person.key)
            _check(person.email, "email", "author's e-mail address", item, position)
            yield person


# What an entry is, and what it says -----------------------------------------------------


def _format(entry: Element) -> str | None:
    """ "2018" for the newer export's entries, "classic" for the older's, None for an
    entry neither would write."""
    if _child(entry, BLOGGER_2018, "type") is not None:
        return "2018"
    for category in entry.findall(f"{{{ATOM}}}category"):
        if category.get("scheme") == KIND_SCHEME and category.get("term", "").startswith(
            KIND_PREFIX
        ):
            return "classic"
    return None


def _kind(entry: Element) -> str:
    """ "post", "page", "comment", "settings", "template" …, or "" when it says none."""
    kind = _child_text(entry, BLOGGER_2018, "type")
    if kind:
        return kind.lower()
    for category in entry.findall(f"{{{ATOM}}}category"):
        if category.get("scheme") == KIND_SCHEME:
            return category.get("term", "").removeprefix(KIND_PREFIX).lower()
    return ""


def _trashed(entry: Element) -> bool:
    return bool(_child_text(entry, BLOGGER_2018, "trashed"))


def _post_status(entry: Element) -> PostStatus | str | None:
    """The post's status; None when it was in the trash; Blogger's own word when it is
    one this reader does not know."""
    if _trashed(entry):
        return None
    status = _child_text(entry, BLOGGER_2018, "status").upper()
    if status:
        if status in ("SOFT_TRASHED", "TRASHED", "DELETED"):
            return None
        if status == "DRAFT":
            return PostStatus.DRAFT
        # SCHEDULED is the API's word for a post due later; no export seen holds one,
        # so it is read as the API has it: published, at its (future) time.
        if status in ("LIVE", "SCHEDULED"):
            return PostStatus.PUBLISHED
        return status
    for namespace in APP_NAMESPACES:
        control = _child(entry, namespace, "control")
        if control is not None and _child_text(control, namespace, "draft").lower() == "yes":
            return PostStatus.DRAFT
    # A published time still to come is a scheduled post: PUBLISHED says it.
    return PostStatus.PUBLISHED


def _comment_status(entry: Element) -> CommentStatus | str:
    if _trashed(entry):
        return CommentStatus.TRASH
    for prop in entry.findall(f"{{{GDATA}}}extendedProperty"):
        if (
            prop.get("name") == "blogger.contentRemoved"
            and prop.get("value", "true").lower() != "false"
        ):
            return CommentStatus.TRASH
    status = _child_text(entry, BLOGGER_2018, "status").upper()
    if not status or status == "LIVE":
        return CommentStatus.APPROVED
    # Beyond LIVE, the newer export's words are not documented; these are the API's
    # (comments.list's statuses: live, emptied, pending, spam) and the posts' trash.
    if status == "PENDING":
        return CommentStatus.PENDING
    if status in ("SPAM", "SPAM_COMMENT"):
        return CommentStatus.SPAM
    if status in ("EMPTIED", "DELETED", "SOFT_TRASHED", "TRASHED"):
        return CommentStatus.TRASH
    return status


def _comment_post(entry: Element) -> str:
    parent = _child_text(entry, BLOGGER_2018, "parent")
    if parent:
        return parent
    reply = _child(entry, THREAD, "in-reply-to")
    return (reply.get("ref") or "").strip() if reply is not None else ""


def _comment_parent(entry: Element, entry_id: str) -> str:
    """The id of the comment this one answers, "" for a top-level comment. Blogger
    names it by its number (the related link's last segment); its id is this
    comment's with that number."""
    number = ""
    answered = _child_text(entry, BLOGGER_2018, "inReplyTo")
    if answered:
        # Whether the newer export writes the whole id or the number is not known: both
        # are read.
        if not answered.isdigit():
            return answered
        number = answered
    else:
        for link in _links(entry, "related"):
            match = re.search(r"/comments/default/(\d+)$", urlsplit(link.get("href", "")).path)
            if match:
                number = match.group(1)
                break
    if not number:
        return ""
    prefix, separator, _ = entry_id.rpartition(".post-")
    return f"{prefix}{separator}{number}" if separator else ""


def _title(entry: Element) -> str:
    title = _child(entry, ATOM, "title")
    return " ".join(_text(title).split())


def _person(entry: Element) -> SourceAuthor | None:
    """The entry's author as a SourceAuthor (its key the profile address, else the
    name), or None for Blogger's anonymous commenters and entries naming nobody."""
    author = _child(entry, ATOM, "author")
    if author is None:
        return None
    name = " ".join(_child_text(author, ATOM, "name").split())
    uri = _child_text(author, ATOM, "uri")
    email = _child_text(author, ATOM, "email")
    anonymous = _child_text(author, BLOGGER_2018, "type").upper() == "ANONYMOUS"
    if anonymous or (name in ("", "Anonymous") and not uri):
        return None
    key = uri or name
    return SourceAuthor(
        key=key,
        username=_username(name or key),
        display_name=name,
        email="" if email.lower() == NO_EMAIL else email,
    )


def _commenter_url(uri: str) -> str:
    """The commenter's address as the comment's website. Blogger linked a commenter's
    name to it: their own site (the "Name/URL" choice) or their Blogger profile, which
    still answers and was what readers saw. Google+ profiles are gone with Google+, and
    anything but a web address is not a link to keep."""
    if not uri or not _is_web_address(uri):
        return ""
    if urlsplit(uri).hostname in ("plus.google.com",):
        return ""
    return uri


def _labels(entry: Element) -> list[str]:
    is_2018 = _child(entry, BLOGGER_2018, "type") is not None
    labels = []
    for category in entry.findall(f"{{{ATOM}}}category"):
        scheme = category.get("scheme", "")
        # The newer export's labels are categories in the blog's own scheme
        # ("tag:blogger.com,1999:blog-<id>") or in none.
        if scheme == LABEL_SCHEME or (is_2018 and scheme != KIND_SCHEME):
            label = " ".join((category.get("term") or "").split())
            if label:
                labels.append(label)
    return labels


def _old_path(entry: Element) -> str:
    """The old address's path, decoded as Django's request.path gives it, without its
    query: from the permalink, else (newer export) the filename."""
    address = _alternate(entry) or _child_text(entry, BLOGGER_2018, "filename")
    if not address:
        return ""
    path = unquote(urlsplit(address).path)
    return path if path.startswith("/") and path != "/" else ""


def _slug(path: str) -> str:
    """The last segment of the old address without ".html"; "" unless it is a slug
    (letters, digits, hyphens and underscores), leaving the writer to make one."""
    slug = path.rpartition("/")[2].removesuffix(".html")
    return slug if re.fullmatch(r"[-\w]+", slug) else ""


def _source_id(entry_id: str, position: Position) -> str:
    if not entry_id:
        raise ImportFileError(
            f"An entry of the export has no id ({position}): the file is not whole."
        )
    return _check(f"blogger:{entry_id}", "source_id", "id", f"entry “{entry_id[:80]}”", position)


def _date(
    entry: Element, name: str, item: str, position: Position, *, required: bool = True
) -> datetime.datetime | None:
    value = _child_text(entry, ATOM, name)
    if not value:
        if required:
            raise ImportFileError(f"The {item} ({position}) has no <{name}> time.")
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ImportFileError(
            f"The <{name}> time of the {item} ({position}) is not a time: “{value[:40]}”."
        ) from None
    # Atom's times carry their offset; one without is read as UTC, as Atom's own
    # "Z" would say.
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _check(value: str, limit: str, field: str, item: str, position: Position) -> str:
    """``value``, or ImportFileError when it is longer than the column it goes to."""
    return check_length(value, limit, field=field, where=f"The {item} ({position})")


def _check_root(root: Element) -> None:
    """A Blogger export is an Atom feed: anything else is refused at its first element."""
    if root.tag != f"{{{ATOM}}}feed":
        name = local_name(root.tag)
        hint = (
            " (an RSS feed, or a WordPress export: import that with import_wordpress)"
            if name == "rss"
            else ""
        )
        raise ImportFileError(
            f"This is not a Blogger export: its root element is <{name}>, where Blogger's "
            f"is an Atom <feed>{hint}."
        )
