"""Which references cite the same work.

Writers type the same source in slightly different ways: curly or straight quotes, a
hyphen or an en dash, ``http://www.example.org/report/`` or
``https://example.org/report``. Two references are the same work when their citations
match once normalised, or their URLs do; and the grouping is transitive (A's text is
B's, B's URL is C's: all three are one work).

The two normalised forms are stored on each reference (``citation_key``, ``url_key``,
filled by a ``pre_save`` receiver) so that finding a reference's fellows is an indexed
SQL look-up. Only published posts count: a draft's references are never shown, and
never join two published works together either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, TypeVar

from django.db import connection
from django.db.models.expressions import RawSQL

from .citations import sort_key
from .models import Post, Reference


class Keyed(Protocol):
    citation_key: str
    url_key: str


K = TypeVar("K", bound=Keyed)


def group_works(references: Iterable[K]) -> list[list[K]]:
    """The references grouped into works (union-find over both keys), each group and
    the groups in the order the references came. An empty key matches nothing."""
    items = list(references)
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[tuple[str, str], int] = {}
    for i, reference in enumerate(items):
        for key in (("citation", reference.citation_key), ("url", reference.url_key)):
            if not key[1]:
                continue
            if key in first_with:
                a, b = root(first_with[key]), root(i)
                parent[max(a, b)] = min(a, b)
            else:
                first_with[key] = i
    groups: dict[int, list[K]] = {}
    for i, reference in enumerate(items):
        groups.setdefault(root(i), []).append(reference)
    return list(groups.values())


class Cited(NamedTuple):
    """A published reference, as much of it as the index needs."""

    pk: int
    post_id: int
    citation: str
    url: str
    citation_key: str
    url_key: str


@dataclass
class Work:
    """One cited work: its text and URL as first cited, and the posts citing it."""

    citation: str
    url: str
    post_ids: list[int]
    posts: list[Post] = field(default_factory=list)


def published_works() -> list[Work]:
    """Every work cited by a published post, each once, in index order: one query."""
    rows = (
        Reference.objects.filter(post__in=Post.objects.published())
        .order_by("post__published_at", "post_id", "number")
        .values_list(*Cited._fields)
    )
    works = []
    for group in group_works(Cited(*row) for row in rows):
        # The earliest citation stands for the work (later ones may differ in typography).
        first = group[0]
        works.append(
            Work(
                citation=first.citation,
                url=next((cited.url for cited in group if cited.url), ""),
                post_ids=list(dict.fromkeys(cited.post_id for cited in group)),
            )
        )
    works.sort(key=lambda work: sort_key(work.citation))
    return works


def attach_citing_posts(works: Sequence[Work]) -> None:
    """Fill each work's ``posts`` (oldest first), for one page of works: one query."""
    ids = {pk for work in works for pk in work.post_ids}
    if not ids:
        return
    posts = Post.objects.published().in_bulk(ids)
    for work in works:
        work.posts = [posts[pk] for pk in work.post_ids if pk in posts]


def _same_work_ids(post: Post) -> RawSQL:
    """The ids of the references citing the same works as ``post``'s own, through any
    chain of matching citations or URLs among published posts' references: a recursive
    query, so the chain costs one round trip however long it is."""
    visible_sql, visible_params = (
        Post.objects.published().order_by().values("pk").query.sql_with_params()
    )
    quote = connection.ops.quote_name
    table = quote(Reference._meta.db_table)
    pk, post_id, citation, url = (
        quote(Reference._meta.get_field(name).column)
        for name in ("id", "post", "citation_key", "url_key")
    )
    sql = f"""
        WITH RECURSIVE same_work (id, citation_key, url_key) AS (
            SELECT {pk}, {citation}, {url} FROM {table} WHERE {post_id} = %s
          UNION
            SELECT r.{pk}, r.{citation}, r.{url}
            FROM {table} r JOIN same_work w
              ON (r.{citation} <> '' AND r.{citation} = w.citation_key)
              OR (r.{url} <> '' AND r.{url} = w.url_key)
            WHERE r.{post_id} IN ({visible_sql})
        )
        SELECT id FROM same_work
    """  # nosec B608 # only quoted names are interpolated; every value is a parameter.
    return RawSQL(sql, (post.pk, *visible_params))  # nosec B611 # the SQL above, values as parameters


def attach_other_citations(post: Post, references: Sequence[Reference]) -> None:
    """Give each of ``post``'s references ``also_cited_in``: the other published posts
    citing the same work, oldest first. One query for all the references."""
    for reference in references:
        reference.also_cited_in = []
    if not references:
        return
    others = list(
        Reference.objects.filter(pk__in=_same_work_ids(post))
        .exclude(post_id=post.pk)
        .select_related("post")
        .order_by("post__published_at", "post_id", "number")
    )
    for group in group_works([*references, *others]):
        citing = list({r.post_id: r.post for r in group if r.post_id != post.pk}.values())
        for reference in group:
            if reference.post_id == post.pk:
                reference.also_cited_in = citing
