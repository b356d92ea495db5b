"""Comments written many at a time, with the thread columns django-comments-xtd would
have stored saving them one by one: used by the demo data (tools.demo) and the importer
(blog.importing.load).

django-comments-xtd places each reply as it is saved (``XtdComment._calculate_thread_data``):
after everything already under its parent, counted in every ancestor's
``nested_count``. Saving tens of thousands of comments that way costs several statements
each; here the same columns are computed in Python (``thread_places``) and the rows
inserted in bulk. Nothing here sends a signal: the caller renews the page cache once
(blog.writing.post_writes, or blog.pagecache.invalidate) and sends no e-mail.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import connection, models
from django_comments.models import Comment as BaseComment
from django_comments_xtd.models import XtdComment

from ..models import Comment, Post

BATCH_SIZE = 1000


@dataclass(frozen=True)
class Place:
    """Where a comment sits in its post's discussion, as django-comments-xtd stores it,
    with comments named by their index in the order they were written."""

    root: int  # the thread's top-level comment (thread_id)
    parent: int  # the comment replied to; itself for a top-level one (parent_id)
    level: int
    order: int  # position in the thread, depth first, replies in the order written
    nested_count: int  # replies, replies to them, and so on

    def shifted(self, offset: int) -> Place:
        """The same place with the indices counted from ``offset``."""
        return Place(
            self.root + offset, self.parent + offset, self.level, self.order, self.nested_count
        )


def thread_places(parents: Sequence[int | None]) -> list[Place]:
    """The library's thread columns for comments written in this order, each replying to
    an earlier one (its index) or to none. django-comments-xtd puts a new reply after
    everything already under its parent and counts it in every ancestor's
    ``nested_count``: a thread's ``order`` is its depth-first order."""
    count = len(parents)
    roots, levels = [0] * count, [0] * count
    children: list[list[int]] = [[] for _ in range(count)]
    for i, parent in enumerate(parents):
        if parent is None:
            roots[i] = i
        else:
            if not 0 <= parent < i:
                raise ValueError(f"Comment {i} replies to {parent}, not an earlier comment.")
            roots[i], levels[i] = roots[parent], levels[parent] + 1
            children[parent].append(i)
    # A reply comes after its parent, so one backward pass adds up each subtree.
    sizes = [1] * count
    for i in range(count - 1, -1, -1):
        if parents[i] is not None:
            sizes[parents[i]] += sizes[i]
    orders = [0] * count
    for root in (i for i, parent in enumerate(parents) if parent is None):
        stack, position = [root], 0
        while stack:
            i = stack.pop()
            position += 1
            orders[i] = position
            stack.extend(reversed(children[i]))
    return [
        Place(
            root=roots[i],
            parent=i if parents[i] is None else parents[i],
            level=levels[i],
            order=orders[i],
            nested_count=sizes[i] - 1,
        )
        for i in range(count)
    ]


# Inserting -------------------------------------------------------------------------


@dataclass(frozen=True)
class NewComment:
    """A comment to insert, on a saved post."""

    post_pk: int
    user_name: str
    user_email: str
    comment: str
    submit_date: datetime.datetime
    user_url: str = ""
    ip_address: str | None = None
    user_id: int | None = None
    is_public: bool = True
    is_removed: bool = False
    is_highlighted: bool = False
    hold_reasons: tuple[str, ...] = ()
    source_id: str = ""
    source_digest: str = ""


def insert_comments(
    comments: Sequence[NewComment],
    places: Sequence[Place | None],
    *,
    site: Site | None = None,
    content_type: ContentType | None = None,
) -> list[int]:
    """Insert ``comments`` (the rows of all three tables of a comment) and return their
    ids. ``places[i]`` is comment i's place, its indices into ``comments``; None puts
    it in a thread of its own, for the caller to place later (``update_columns``)."""
    if len(places) != len(comments):
        raise ValueError("One place for each comment.")
    site = site or Site.objects.get_current()
    content_type = content_type or ContentType.objects.get_for_model(Post)
    rows = [
        BaseComment(
            content_type=content_type,
            object_pk=str(c.post_pk),
            site=site,
            user_id=c.user_id,
            user_name=c.user_name,
            user_email=c.user_email,
            user_url=c.user_url,
            comment=c.comment,
            submit_date=c.submit_date,
            ip_address=c.ip_address,
            is_public=c.is_public,
            is_removed=c.is_removed,
        )
        for c in comments
    ]
    BaseComment.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    pks = [row.pk for row in rows]
    xtd_rows, blog_rows = [], []
    for pk, place, c in zip(pks, places, comments, strict=True):
        own = len(xtd_rows)  # a thread of its own: its own root and parent
        place = place or Place(root=own, parent=own, level=0, order=1, nested_count=0)
        xtd_rows.append(
            {
                "comment_ptr": pk,
                "thread_id": pks[place.root],
                "parent_id": pks[place.parent],
                "level": place.level,
                "order": place.order,
                "followup": False,
                "nested_count": place.nested_count,
            }
        )
        blog_rows.append(
            {
                "xtdcomment_ptr": pk,
                "is_highlighted": c.is_highlighted,
                "hold_reasons": list(c.hold_reasons),
                "source_id": c.source_id,
                "source_digest": c.source_digest,
            }
        )
    insert_own_rows(XtdComment, xtd_rows)
    insert_own_rows(Comment, blog_rows)
    return pks


def insert_own_rows(model: type[models.Model], rows: Sequence[dict[str, object]]) -> None:
    """Insert into ``model``'s own table (not its parents'): bulk_create cannot for a
    multi-table model. Columns not given get their field's default."""
    if not rows:
        return
    fields = model._meta.local_concrete_fields
    unknown = set(rows[0]) - {f.name for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no column for {sorted(unknown)}.")
    given = [model._meta.get_field(name) for name in (f.name for f in fields) if name in rows[0]]
    missing = [f for f in fields if f.name not in rows[0]]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in missing)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [*given, *missing])
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # nosec B608 # quoted names from _meta; values are parameters
    # Plain integers, booleans and strings go as they are; a JSON list becomes its text.
    json = [isinstance(f, models.JSONField) for f in given]
    values = [
        tuple(
            f.get_db_prep_save(row[f.name], connection) if as_json else row[f.name]
            for f, as_json in zip(given, json, strict=True)
        )
        + defaults
        for row in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(values), BATCH_SIZE):
            cursor.executemany(sql, values[start : start + BATCH_SIZE])


# Placing comments in discussions that already have some ------------------------------


@dataclass(frozen=True)
class Columns:
    """A comment's thread columns, by comment id."""

    thread_id: int
    parent_id: int
    level: int
    order: int
    nested_count: int


@dataclass(frozen=True)
class Member:
    """A comment of a discussion, as placing it needs it: ``parent`` is the id of the
    comment it replies to (None: none, or one not in the discussion)."""

    pk: int
    parent: int | None
    submit_date: datetime.datetime


def discussion_columns(members: Iterable[Member], max_level: int) -> dict[int, Columns]:
    """The thread columns of a whole discussion as django-comments-xtd would have
    stored them saving its comments one by one in the order they were written
    (``submit_date``, then id), with three corrections it could not have needed:

    - a reply dated before the comment it replies to (a clock set wrong on the old
      blog, or a hostile export) comes straight after it, rather than before it;
    - a reply to a comment not in the discussion, or in a circle of replies, starts a
      thread of its own;
    - a reply deeper than ``max_level`` goes to its ancestor at the level above it (the
      deepest a comment can be replied to), after the replies already there, as the
      site's reply form would have placed it (it answers replies at that depth there).
    """
    by_pk = {m.pk: m for m in members}
    parent_of: dict[int, int | None] = {}
    for pk, member in by_pk.items():
        parent = member.parent if member.parent in by_pk and member.parent != pk else None
        parent_of[pk] = parent
    # Circles (a replies to b replies to a): each member of one starts a thread.
    settled: set[int] = set()
    for start in by_pk:
        path, seen, pk = [], set(), start
        while pk is not None and pk not in settled:
            if pk in seen:
                for member in path[path.index(pk) :]:
                    parent_of[member] = None
                break
            seen.add(pk)
            path.append(pk)
            pk = parent_of[pk]
        settled.update(path)
    # Written in date order, but never before the comment replied to: a reply dated
    # earlier waits for it, and comes straight after it.
    order: list[int] = []
    placed: set[int] = set()
    waiting: dict[int, list[int]] = defaultdict(list)
    for pk in sorted(by_pk, key=lambda pk: (by_pk[pk].submit_date, pk)):
        parent = parent_of[pk]
        if parent is not None and parent not in placed:
            waiting[parent].append(pk)
            continue
        stack = [pk]
        while stack:
            current = stack.pop()
            order.append(current)
            placed.add(current)
            stack.extend(reversed(waiting.pop(current, [])))
    # No deeper than the library allows.
    index = {pk: i for i, pk in enumerate(order)}
    parents: list[int | None] = []
    levels: list[int] = []
    for pk in order:
        parent = parent_of[pk]
        if parent is not None and max_level <= 0:
            parent = None
        elif parent is not None and levels[index[parent]] >= max_level:
            # Its parent is as deep as can be: its parent's own (placed) parent.
            parent = order[parents[index[parent]]]
        parents.append(None if parent is None else index[parent])
        levels.append(0 if parent is None else levels[index[parent]] + 1)
    places = thread_places(parents)
    return {
        pk: Columns(
            thread_id=order[p.root],
            parent_id=order[p.parent],
            level=p.level,
            order=p.order,
            nested_count=p.nested_count,
        )
        for pk, p in zip(order, places, strict=True)
    }


def discussion_members(post_pks: Iterable[int]) -> Iterator[tuple[int, Member, Columns]]:
    """(post id, member, its current columns) for every comment on these posts, from
    the rows as stored."""
    content_type = ContentType.objects.get_for_model(Post)
    keys = [str(pk) for pk in post_pks]
    for start in range(0, len(keys), BATCH_SIZE):
        rows = (
            XtdComment.norel_objects.filter(
                content_type=content_type, object_pk__in=keys[start : start + BATCH_SIZE]
            )
            .order_by()
            .values_list(
                "object_pk",
                "pk",
                "parent_id",
                "submit_date",
                "thread_id",
                "level",
                "order",
                "nested_count",
            )
        )
        for object_pk, pk, parent, submit_date, thread, level, order, nested in rows.iterator():
            yield (
                int(object_pk),
                Member(pk, None if parent in (pk, 0) else parent, submit_date),
                Columns(thread, parent or pk, level, order, nested),
            )


def update_columns(changes: dict[int, Columns]) -> None:
    """Store these thread columns: one UPDATE a comment, sent in batches."""
    if not changes:
        return
    quote = connection.ops.quote_name
    meta = XtdComment._meta
    names = ("thread_id", "parent_id", "level", "order", "nested_count")
    assignments = ", ".join(f"{quote(meta.get_field(n).column)} = %s" for n in names)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # nosec B608 # quoted names from _meta; values are parameters
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    values = [
        (c.thread_id, c.parent_id, c.level, c.order, c.nested_count, pk)
        for pk, c in sorted(changes.items())
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(values), BATCH_SIZE):
            cursor.executemany(sql, values[start : start + BATCH_SIZE])
