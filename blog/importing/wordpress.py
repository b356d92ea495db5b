"""A WordPress export (WXR: WordPress eXtended RSS, versions 1.2, 1.1 and 1.0) read
into records, an item at a time.

A WXR file is an RSS 2.0 feed whose channel holds, in this order, the blog's title and
address, ``wp:wxr_version``, the authors (``wp:author``, from 1.1), the categories,
tags and terms, then one ``item`` per post, page, attachment, menu entry, revision…,
each with its comments (``wp:comment``). The versions differ in little that matters
here (WordPress's own importer, wordpress-importer, reads them with one parser):
- 1.0 (WordPress 2.x–3.0) has no ``wp:author``: authors are only the items'
  ``dc:creator`` logins. Its tags are ``<category domain="tag">`` (later
  ``domain="post_tag"``) and each term is also written a second time without a
  ``nicename``, which is left out here as the importer does.
- 1.1 adds ``wp:author`` (with ``wp:author_id``, what ``wp:comment_user_id`` names).
- 1.2 adds ``wp:term``, term and comment meta, and (WordPress 6.x) ``wp:post_modified_gmt``.
The ``wp`` namespace is ``http://wordpress.org/export/<version>/``.

Dates: WordPress keeps each date twice, in the blog's time zone and in UTC
(``*_gmt``). The export never names the time zone (the channel's and items' pubDate
are written "+0000"), but the two dates of one item give its offset at that moment, so
a published time is the UTC instant shown in the blog's own offset. A draft's UTC date
is "0000-00-00 00:00:00": only its local time is known, and it is read in the offset
last seen on a dated item of the same file (UTC before any), which is as close as the
export allows.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import xml.etree.ElementTree as ET  # nosec B405 # elements only: parsing is xmlstream's (defusedxml)
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from .comment_text import comment_text
from .convert import convert_body
from .limits import BODY_MAX_LENGTH, check_length, max_length
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
from .xmlstream import XmlItems, local_name, namespace

WP_NAMESPACES = {
    "http://wordpress.org/export/1.0/": "1.0",
    "http://wordpress.org/export/1.1/": "1.1",
    "http://wordpress.org/export/1.2/": "1.2",
}
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"

# An item's HTML this much longer than the longest body is refused before it is
# converted: converting it would only take long to reach the same refusal.
MAX_HTML = 4 * BODY_MAX_LENGTH

NO_DATE = "0000-00-00 00:00:00"
MAX_OFFSET = datetime.timedelta(hours=14)
QUARTER_HOUR = datetime.timedelta(minutes=15)
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")

# WordPress's default category, given to every post filed nowhere else: as a tag it
# would gather most of the archive and mean only "no category", so it is left out
# (with its /category/uncategorized/ address, which would have nothing to lead to).
DEFAULT_CATEGORY = "uncategorized"

SKIPPED_TYPES = {
    "attachment": "an attachment (media are fetched from the bodies with --fetch-media)",
    "nav_menu_item": "a menu entry (the site builds its own navigation)",
    "revision": "a revision (only the current text is imported)",
    "wp_block": "a reusable block (the posts using it hold their own copy)",
}
SKIPPED_STATUSES = {
    "trash": "in WordPress's trash",
    "auto-draft": "an unsaved auto-draft",
    "inherit": "a revision's status (only the current text is imported)",
}
COMMENT_STATUSES = {
    "1": CommentStatus.APPROVED,
    "0": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "trash": CommentStatus.TRASH,
    "post-trashed": CommentStatus.TRASH,  # its post went to the trash with it
}


def read(file: BinaryIO) -> Iterator[Record]:
    """The records of a WordPress export: a SourceBlog first, then authors, posts,
    pages, comments and what is skipped, as the file holds them. Raises
    ImportFileError for a file that is not a WXR this reader knows, or is broken."""
    return _Reader(file).records()


def _check_root(root: ET.Element) -> None:
    """A WXR is RSS: a file whose root is not ``rss`` (a Blogger export's Atom feed)
    is refused at its first element."""
    if root.tag != "rss":
        raise _not_wxr(f"its root element is <{local_name(root.tag)}>, not <rss>", root)


def _not_wxr(why: str, root: ET.Element | None = None) -> ImportFileError:
    hint = ""
    if root is not None and namespace(root.tag) == "http://www.w3.org/2005/Atom":
        hint = " It looks like an Atom feed (a Blogger export? use import_blogger)."
    return ImportFileError(
        f"This is not a WordPress export (WXR): {why}.{hint} "
        "Export from WordPress with Tools → Export → All content."
    )


class _Reader:
    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.xml: XmlItems | None = None
        self.wp = ""  # "{http://wordpress.org/export/1.2/}"
        self.version = ""
        self.base_url = ""
        self.prefix = ""  # the blog's path under its domain ("/blog"), "" at the root
        self.authors_by_id: dict[str, str] = {}  # wp:author_id → login
        self.authors_known: set[str] = set()
        self.authors_addressed: set[str] = set()
        self.category_parents: dict[str, str] = {}  # nicename → parent nicename
        self.terms_addressed: set[str] = set()
        self.feeds_addressed = False
        self.offset = datetime.timedelta(0)  # the blog's, as last seen
        self.items = 0

    # --- the stream -------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        self.xml = XmlItems(
            self.file,
            item_tags=frozenset(
                # The channel's authors, categories, tags and terms are handed over
                # too, so that they are not kept in the tree after use.
                {
                    "item",
                    *(
                        f"{{{ns}}}{tag}"
                        for ns in WP_NAMESPACES
                        for tag in ("author", "category", "tag", "term")
                    ),
                }
            ),
            parent_depth=1,
            check_root=_check_root,
        )
        started = False
        for element, position in self.xml:
            if not started:
                yield self._blog()
                started = True
            if element.tag == "item":
                self.items += 1
                yield from self._item(element, Position(self.items, position.line))
            elif element.tag == f"{self.wp}author":
                yield from self._author(element)
            elif element.tag == f"{self.wp}category":
                self._category(element)
            # wp:tag and wp:term: the items name their own tags; nothing more is needed.
        if not started:
            yield self._blog()

    def _blog(self) -> SourceBlog:
        root = self.xml.root
        channel = root.find("channel") if root is not None else None
        if root is None or root.tag != "rss" or channel is None:
            raise _not_wxr("it has no <rss><channel>", root)
        version = next((c for c in channel if local_name(c.tag) == "wxr_version"), None)
        if version is None:
            raise _not_wxr("its channel has no <wp:wxr_version> (a plain RSS feed?)", root)
        ns = namespace(version.tag)
        text = (version.text or "").strip()
        if ns not in WP_NAMESPACES or text not in WP_NAMESPACES.values():
            raise ImportFileError(
                f"This WordPress export is of WXR version {text[:20]!r} (namespace {ns[:100]!r}), "
                f"which this importer does not know: it reads WXR 1.0, 1.1 and 1.2."
            )
        self.wp, self.version = f"{{{ns}}}", text
        title = _text(channel.find("title"))
        base = _text(channel.find(f"{self.wp}base_blog_url")) or _text(channel.find("link"))
        self.base_url = _base_url(base)
        self.prefix = urlsplit(self.base_url).path.rstrip("/")
        _limit("the channel", "blog title", title, "title")
        return SourceBlog(platform="wordpress", title=title, base_url=self.base_url)

    def _author(self, element: ET.Element) -> Iterator[Record]:
        wp = self.wp
        login = _text(element.find(f"{wp}author_login"))
        if not login:
            return
        names = (
            _text(element.find(f"{wp}author_first_name")),
            _text(element.find(f"{wp}author_last_name")),
        )
        display = (
            _text(element.find(f"{wp}author_display_name"))
            or " ".join(n for n in names if n)
            or login
        )
        email = _text(element.find(f"{wp}author_email"))
        where = f"the author {login[:50]!r}"
        _limit(where, "login", login, "username")
        _limit(where, "display name", display, "title")
        _limit(where, "e-mail address", email, "email")
        author_id = _text(element.find(f"{wp}author_id"))
        if author_id:
            self.authors_by_id[author_id] = login
        if login not in self.authors_known:
            self.authors_known.add(login)
            yield SourceAuthor(key=login, username=login, display_name=display, email=email)

    def _category(self, element: ET.Element) -> None:
        nicename = _text(element.find(f"{self.wp}category_nicename"))
        parent = _text(element.find(f"{self.wp}category_parent"))
        if nicename and parent and len(self.category_parents) < 100_000:
            self.category_parents[nicename] = parent

    # --- items --------------------------------------------------------------------

    def _item(self, item: ET.Element, position: Position) -> Iterator[Record]:
        wp = self.wp
        post_id = _id_number(item, f"{wp}post_id", f"{position}: the item's wp:post_id")
        source_id = f"wordpress:{self.base_url}:{post_id}"
        post_type = _text(item.find(f"{wp}post_type")) or "post"
        status = _text(item.find(f"{wp}status"))
        kind = post_type if post_type in ("post", "page") else post_type[:40]

        reason = ""
        if post_type not in ("post", "page"):
            reason = SKIPPED_TYPES.get(
                post_type, f"a {post_type[:40]!r} item, a type this site does not have"
            )
        elif status in SKIPPED_STATUSES:
            reason = SKIPPED_STATUSES[status]
        if reason:
            yield Skipped(kind, source_id, reason, position)
            for comment in item.findall(f"{wp}comment"):
                comment_id = _text(comment.find(f"{wp}comment_id"))[:20]
                yield Skipped(
                    "comment",
                    f"{source_id}:comment:{comment_id}",
                    f"its {kind} is not imported: {reason}",
                    position,
                )
            return

        creator = _text(item.find(f"{DC}creator"))
        if creator and creator not in self.authors_known:
            # WXR 1.0 lists no authors (and a later export may omit one): the login
            # is all there is to know of them.
            _limit(f"item {post_id}", "author (dc:creator)", creator, "username")
            self.authors_known.add(creator)
            yield SourceAuthor(key=creator, username=creator, display_name=creator)

        yield self._post(item, position, post_id, source_id, post_type == "page", status, creator)
        for comment in item.findall(f"{wp}comment"):
            yield self._comment(comment, position, source_id)

    def _post(
        self,
        item: ET.Element,
        position: Position,
        post_id: str,
        source_id: str,
        is_page: bool,
        status: str,
        creator: str,
    ) -> SourcePost:
        wp = self.wp
        where = f"{position} (post {post_id})"
        _limit(
            where,
            "source id (the blog's address and the post's id)",
            source_id,
            max_length("source_id") - 30,
        )
        title = _text(item.find("title"))
        _limit(where, "title", title, "title")
        slug = unquote(_text(item.find(f"{wp}post_name")))
        _limit(where, "slug (wp:post_name)", slug, "slug")
        html = _text(item.find(f"{CONTENT}encoded"), strip=False)
        _limit(where, "body (content:encoded)", html, MAX_HTML)
        converted = convert_body(html, base_url=self.base_url, autop=True)
        _limit(where, "body", converted.body, "body")

        local = _text(item.find(f"{wp}post_date"))
        gmt = _text(item.find(f"{wp}post_date_gmt"))
        published_at = self._moment(where, "wp:post_date", local, gmt)
        updated_at = None
        modified_gmt = _text(item.find(f"{wp}post_modified_gmt"))
        if modified_gmt and modified_gmt != NO_DATE:
            updated_at = self._moment(
                where, "wp:post_modified", _text(item.find(f"{wp}post_modified")), modified_gmt
            )

        password = _text(item.find(f"{wp}post_password"))
        if status in ("publish", "future") and not password:
            # "future": scheduled; its published_at lies ahead, which is what the
            # site's scheduling means too.
            post_status = PostStatus.PUBLISHED
        else:
            # draft and pending were not public; nor were private posts (readable
            # only by the blog's signed-in editors) or password-protected ones:
            # publishing them here would show readers what the author kept from
            # them, so they come in as drafts for the author to decide.
            post_status = PostStatus.DRAFT

        tags, addresses = self._terms(item, where)
        addresses = self._post_addresses(item, post_id, is_page) + addresses
        if creator and creator not in self.authors_addressed:
            self.authors_addressed.add(creator)
            addresses.append(
                OldAddress(f"{self.prefix}/author/{creator}/", Kind.AUTHOR, target=creator)
            )
        if not self.feeds_addressed:
            self.feeds_addressed = True
            addresses.append(OldAddress(f"{self.prefix}/feed/", Kind.FEED))
            addresses.append(OldAddress(f"{self.prefix}/comments/feed/", Kind.COMMENTS_FEED))

        # An address longer than the redirects' column could not be kept; none that
        # WordPress makes comes near it.
        addresses = [a for a in addresses if len(a.path) <= max_length("path")]
        return SourcePost(
            source_id=source_id,
            position=position,
            is_page=is_page,
            title=title,
            body=converted.body,
            status=post_status,
            published_at=published_at,
            updated_at=updated_at,
            author_key=creator,
            slug=slug,
            tags=tags,
            notes=converted.notes,
            allow_comments=_text(item.find(f"{wp}comment_status")) == "open",
            old_addresses=tuple(addresses),
            images=converted.images,
        )

    def _post_addresses(self, item: ET.Element, post_id: str, is_page: bool) -> list[OldAddress]:
        kind = Kind.PAGE if is_page else Kind.POST
        query = "page_id" if is_page else "p"
        addresses = [OldAddress(f"{self.prefix}/?{query}={post_id}", kind)]
        link = urlsplit(_text(item.find("link")))
        path = unquote(link.path)
        # A blog with "plain" permalinks links every post as /?p=ID: already there.
        if path.startswith("/") and path.rstrip("/") != self.prefix:
            addresses.append(OldAddress(path, kind))
        return addresses

    def _terms(self, item: ET.Element, where: str) -> tuple[tuple[str, ...], list[OldAddress]]:
        tags: list[str] = []
        seen: set[str] = set()
        addresses: list[OldAddress] = []
        for category in item.findall("category"):
            domain = category.get("domain", "")
            nicename = unquote(category.get("nicename", ""))
            name = _text(category)
            # WXR 1.0 writes each term twice, once without its nicename: that copy is
            # left out, as WordPress's importer does.
            if domain not in ("category", "post_tag", "tag") or not nicename or not name:
                continue
            if domain == "category" and nicename == DEFAULT_CATEGORY:
                continue
            _limit(where, f"{'category' if domain == 'category' else 'tag'} name", name, "tag")
            if name.casefold() not in seen:
                seen.add(name.casefold())
                tags.append(name)
            key = f"{domain}:{nicename}"
            if key in self.terms_addressed:
                continue
            self.terms_addressed.add(key)
            if domain == "category":
                for path in self._category_paths(nicename):
                    addresses.append(
                        OldAddress(f"{self.prefix}/category/{path}/", Kind.TAG, target=name)
                    )
            else:
                addresses.append(
                    OldAddress(f"{self.prefix}/tag/{nicename}/", Kind.TAG, target=name)
                )
        return tuple(tags), addresses

    def _category_paths(self, nicename: str) -> list[str]:
        """A subcategory's address is its ancestors' nicenames and its own
        (/category/parent/child/); WordPress also answers /category/child/."""
        chain = [nicename]
        while (
            (parent := self.category_parents.get(chain[-1]))
            and parent not in chain
            and len(chain) < 20
        ):
            chain.append(parent)
        full = "/".join(reversed(chain))
        return [full, nicename] if full != nicename else [full]

    # --- comments -----------------------------------------------------------------

    def _comment(self, comment: ET.Element, position: Position, post_source_id: str) -> Record:
        wp = self.wp
        comment_id = _id_number(
            comment, f"{wp}comment_id", f"{position}: a comment's wp:comment_id"
        )
        source_id = f"{post_source_id}:comment:{comment_id}"
        where = f"{position} (comment {comment_id})"
        comment_type = _text(comment.find(f"{wp}comment_type"))
        if comment_type in ("pingback", "trackback"):
            return Skipped("comment", source_id, f"a {comment_type}", position)
        if comment_type not in ("", "comment"):
            reason = f"a {comment_type[:40]!r} comment, not a reader's comment"
            return Skipped("comment", source_id, reason, position)

        approved = _text(comment.find(f"{wp}comment_approved"))
        status = COMMENT_STATUSES.get(approved)
        if status is None:
            return Skipped(
                "comment", source_id, f"in an unknown state ({approved[:20]!r})", position
            )
        parent = _text(comment.find(f"{wp}comment_parent"))
        parent_source_id = (
            f"{post_source_id}:comment:{parent}" if parent.isdigit() and parent.strip("0") else ""
        )

        name = _text(comment.find(f"{wp}comment_author"))
        email = _text(comment.find(f"{wp}comment_author_email"))
        url = _text(comment.find(f"{wp}comment_author_url"))
        text = comment_text(_text(comment.find(f"{wp}comment_content"), strip=False), newlines=True)
        _limit(where, "author's name", name, "name")
        _limit(where, "author's e-mail address", email, "email")
        _limit(where, "author's URL", url, "url")
        _limit(where, "text", text, "comment")
        submit_date = self._moment(
            where,
            "wp:comment_date",
            _text(comment.find(f"{wp}comment_date")),
            _text(comment.find(f"{wp}comment_date_gmt")),
            learn=False,
        )
        user_id = _text(comment.find(f"{wp}comment_user_id"))
        return SourceComment(
            source_id=source_id,
            position=position,
            post_source_id=post_source_id,
            parent_source_id=parent_source_id,
            status=status,
            submit_date=submit_date,
            text=text,
            author_name=name,
            author_email=email,
            author_url=url,
            ip_address=_ip(_text(comment.find(f"{wp}comment_author_IP"))),
            author_key=self.authors_by_id.get(user_id, "") if user_id.strip("0") else "",
        )

    # --- dates --------------------------------------------------------------------

    def _moment(
        self, where: str, field: str, local: str, gmt: str, *, learn: bool = True
    ) -> datetime.datetime:
        """The instant WordPress's two dates name, in the blog's offset where the two
        give it; a local date alone (drafts) is read in the offset last seen."""
        local_dt = _parse_date(where, field, local)
        gmt_dt = _parse_date(where, f"{field}_gmt", gmt)
        if gmt_dt is not None:
            moment = gmt_dt.replace(tzinfo=datetime.UTC)
            offset = local_dt - gmt_dt if local_dt is not None else None
            # Offsets are whole quarter hours within ±14 h; anything else is a
            # hand-edited file, and the UTC date alone is still exact.
            if offset is not None and abs(offset) <= MAX_OFFSET and not offset % QUARTER_HOUR:
                if learn:
                    self.offset = offset
                return moment.astimezone(datetime.timezone(offset))
            return moment
        if local_dt is not None:
            return local_dt.replace(tzinfo=datetime.timezone(self.offset))
        raise ImportFileError(f"{where}: it has no {field}.")


# --- values -----------------------------------------------------------------------


def _id_number(element: ET.Element, tag: str, what: str) -> str:
    """The WordPress id in ``element``'s child ``tag``: digits (a row id), or refused."""
    value = _text(element.find(tag))
    if not value.isdigit() or len(value) > 20:
        raise ImportFileError(f"{what} {value[:30]!r} is not a number.")
    return value


def _text(element: ET.Element | None, *, strip: bool = True) -> str:
    text = (element.text or "") if element is not None else ""
    return text.strip() if strip else text


def _limit(where: str, field: str, value: str, limit: str | int) -> None:
    check_length(value, limit, field=field, where=where)


def _base_url(url: str) -> str:
    check_length(url, "url", field="address (wp:base_blog_url)", where="The blog")
    return url if not url or url.endswith("/") else url + "/"


def _parse_date(where: str, field: str, value: str) -> datetime.datetime | None:
    """WordPress's "YYYY-MM-DD HH:MM:SS"; None for none ("" or all zeros)."""
    if not value or value == NO_DATE:
        return None
    if DATE_RE.fullmatch(value):
        try:  # by hand: strptime is the slowest part of reading a comment
            return datetime.datetime(
                int(value[0:4]),
                int(value[5:7]),
                int(value[8:10]),
                int(value[11:13]),
                int(value[14:16]),
                int(value[17:19]),
            )
        except ValueError:
            pass
    raise ImportFileError(f"{where}: its {field} {value[:30]!r} is not a date.")


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""
