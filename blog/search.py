"""Full-text search over the published posts (titles, tags, bodies and references) and
the published standalone pages (titles and bodies).

One module, two engines, chosen by the database the site runs on:

- SQLite: an FTS5 table (the Porter stemmer over ``unicode61``) kept in step with
  ``SearchDocument`` by triggers, ranked by bm25;
- PostgreSQL: its own full-text search (a configuration that folds accents and stems
  English, as FTS5 does), through a GIN index over the weighted document, ranked by
  ``ts_rank``.

Both weigh a match in the title most, then tags, then the body, then the references.
A reader's query never reaches either engine's query language: it is cut here into
words and quoted phrases, and each engine is given only those, as phrases all of which
must match.

Pages have documents of their own (``PageSearchDocument``): they have no tags,
references or date, and are few. Their matches are listed apart, above the posts, on
the first page of results.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import nh3
from django.db import connection
from django.db.models import F, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .markup import plain_text
from .models import Page, PageSearchDocument, Post, SearchDocument

if TYPE_CHECKING:  # PostgreSQL's own, imported only where it is the database
    from django.contrib.postgres.search import SearchHeadline, SearchQuery

MAX_QUERY_LENGTH = 200
MAX_PHRASES = 12
SNIPPET_WORDS = 30
# Pages matching a search, listed above the posts: more would push every post down.
MAX_PAGE_RESULTS = 5
BATCH_SIZE = 500
# Marks around matched words in snippets: control characters no writer types (they are
# removed from the indexed text), so the snippet can be escaped whole and marked after.
START, STOP = "\x02", "\x03"
_MARKERS = str.maketrans("", "", START + STOP)

_CHUNK = re.compile(r'"([^"]*)"|(\S+)')
# Letters and digits: what both engines' tokenizers keep as words.
_WORD = re.compile(r"[^\W_]+")


class QueryTooLong(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    """What a reader searched for: phrases of words, each of which must match."""

    text: str
    phrases: tuple[tuple[str, ...], ...]

    def __bool__(self) -> bool:
        return bool(self.phrases)


def parse_query(text: str) -> Query:
    """Words and "quoted phrases" from a reader's query. Everything else (the engines'
    operators, quotes left open, punctuation) is only a separator; words outside quotes
    that were joined by punctuation ("child-protection", "Ofsted’s") stay a phrase."""
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryTooLong(f"Search for {MAX_QUERY_LENGTH} characters at most.")
    phrases: list[tuple[str, ...]] = []
    for quoted, bare in _CHUNK.findall(text):
        words = tuple(word.lower() for word in _WORD.findall(quoted or bare))
        if words and words not in phrases:
            phrases.append(words)
    return Query(text, tuple(phrases[:MAX_PHRASES]))


# Keeping the index in step -------------------------------------------------------


def document_fields(
    post: Post, tag_names: Iterable[str], citations: Iterable[str]
) -> dict[str, str]:
    """The searchable text of a post, as its readers see it (the rendered body's words,
    not its Markdown)."""
    fields = {
        "title": post.title,
        "tags": ", ".join(sorted(tag_names)),
        "body": plain_text(post.body_html),
        "citations": "\n".join(citations),
    }
    return {name: value.translate(_MARKERS) for name, value in fields.items()}


def index_posts(posts: Iterable[Post]) -> None:
    """Bring the posts' search documents in line with the posts, in the caller's
    transaction (the engines' indexes follow the document table). The posts' tags and
    references are read from their prefetched rows when they have them: two statements
    for any number of posts, besides those reads."""
    documents = [
        SearchDocument(
            post=post,
            **document_fields(
                post,
                (tag.name for tag in post.tags.all()),
                (ref.citation for ref in post.references.all()),  # by number (Meta.ordering)
            ),
        )
        for post in posts
    ]
    if not documents:
        return
    SearchDocument.objects.filter(post__in=[d.post_id for d in documents]).delete()
    SearchDocument.objects.bulk_create(documents, batch_size=BATCH_SIZE)


def index_pages(pages: Iterable[Page]) -> None:
    """Bring the pages' search documents in line with the pages (their rendered text),
    in the caller's transaction: two statements for any number of pages."""
    documents = [
        PageSearchDocument(
            page=page,
            title=page.title.translate(_MARKERS),
            body=plain_text(page.body_html).translate(_MARKERS),
        )
        for page in pages
    ]
    if not documents:
        return
    PageSearchDocument.objects.filter(page__in=[d.page_id for d in documents]).delete()
    PageSearchDocument.objects.bulk_create(documents, batch_size=BATCH_SIZE)


# The engines ----------------------------------------------------------------------


class Engine(Protocol):
    def count(self, query: Query) -> int: ...

    def ranked_ids(self, query: Query, offset: int, limit: int) -> list[int]: ...

    def snippets(self, query: Query, ids: Sequence[int]) -> dict[int, str]: ...

    def page_matches(self, query: Query, limit: int) -> list[tuple[int, str]]: ...


def _visible_pages_sql() -> tuple[str, tuple]:
    """SQL for the ids of the pages readers may see: ``published()``, never restated."""
    queryset = Page.objects.published().order_by().values("pk")
    return queryset.query.get_compiler(connection.alias).as_sql()


def _visible_posts_sql() -> tuple[str, tuple]:
    """SQL for the ids of the posts readers may see: ``published()``, never restated."""
    queryset = Post.objects.published().order_by().values("pk")
    return queryset.query.get_compiler(connection.alias).as_sql()


class SQLiteEngine:
    """FTS5, through SQL: Django's ORM has no expression for a virtual table's MATCH."""

    table = "blog_search_fts"
    # Column weights for bm25 (title, tags, body, citations); lower ranks come first.
    rank = f"bm25({table}, 10.0, 5.0, 2.0, 1.0)"
    body_column = 2

    @staticmethod
    def match(query: Query) -> str:
        # Each phrase double-quoted: inside quotes FTS5 reads only words, never syntax.
        return " ".join('"' + " ".join(words) + '"' for words in query.phrases)

    def _matching(self, query: Query, select: str, tail: str = "") -> tuple[str, list]:
        visible, params = _visible_posts_sql()
        post_table = Post._meta.db_table
        # The unary + keeps the list of visible posts a filter of FTS5's matches: as a
        # bare rowid IN (...), SQLite hands FTS5 one visible post at a time and the
        # MATCH is run again for each (seconds at 10,000 posts).
        sql = (
            f"SELECT {select} FROM {self.table} JOIN {post_table} "  # nosec B608 # quoted names only; the query is a parameter
            f"ON {post_table}.id = {self.table}.rowid "
            f"WHERE {self.table} MATCH %s AND +{self.table}.rowid IN ({visible}) {tail}"
        )
        return sql, [self.match(query), *params]

    def count(self, query: Query) -> int:
        sql, params = self._matching(query, "count(*)")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def ranked_ids(self, query: Query, offset: int, limit: int) -> list[int]:
        post_table = Post._meta.db_table
        order = (
            f"ORDER BY {self.rank}, {post_table}.published_at DESC, {post_table}.id DESC "
            "LIMIT %s OFFSET %s"
        )
        sql, params = self._matching(query, f"{self.table}.rowid", order)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            return [row[0] for row in cursor.fetchall()]

    def snippets(self, query: Query, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        marks = ", ".join(["%s"] * len(ids))
        sql = (
            f"SELECT rowid, snippet({self.table}, {self.body_column}, %s, %s, '…', "  # nosec B608 # quoted names only; the query is a parameter
            f"{SNIPPET_WORDS}) FROM {self.table} WHERE {self.table} MATCH %s "
            f"AND rowid IN ({marks})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [START, STOP, self.match(query), *ids])
            return dict(cursor.fetchall())

    page_table = "blog_page_search_fts"  # made by migration 0016

    def page_matches(self, query: Query, limit: int) -> list[tuple[int, str]]:
        """The best published pages for ``query``, each with its snippet: one query."""
        visible, params = _visible_pages_sql()
        fts = self.page_table
        sql = (
            f"SELECT {fts}.rowid, snippet({fts}, 1, %s, %s, '…', {SNIPPET_WORDS}) "  # nosec B608 # quoted names only; the query is a parameter
            f"FROM {fts} WHERE {fts} MATCH %s AND +{fts}.rowid IN ({visible}) "
            f"ORDER BY bm25({fts}, 10.0, 2.0), {fts}.rowid LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [START, STOP, self.match(query), *params, limit])
            return [(pk, snippet) for pk, snippet in cursor.fetchall()]


class PostgresEngine:
    """PostgreSQL's full-text search through django.contrib.postgres. The document's
    vector is the expression the GIN index of migration 0005 is built on, so the
    planner can use the index."""

    config = "blog_english"  # made by migration 0005

    def vector(self):
        from django.contrib.postgres.search import SearchVector

        columns = (("title", "A"), ("tags", "B"), ("body", "C"), ("citations", "D"))
        return functools.reduce(
            operator.add,
            (SearchVector(name, weight=weight, config=self.config) for name, weight in columns),
        )

    def tsquery(self, query: Query):
        from django.contrib.postgres.search import SearchQuery

        return functools.reduce(
            operator.and_,
            (
                SearchQuery(" ".join(words), search_type="phrase", config=self.config)
                for words in query.phrases
            ),
        )

    def documents(self, query: Query) -> QuerySet[SearchDocument]:
        """The documents matching ``query`` (found through the GIN index)."""
        return SearchDocument.objects.annotate(vector=self.vector()).filter(
            vector=self.tsquery(query)
        )

    def _matching(self, query: Query) -> QuerySet[SearchDocument]:
        return self.documents(query).filter(post__in=Post.objects.published())

    def count(self, query: Query) -> int:
        return self._matching(query).count()

    def ranked_ids(self, query: Query, offset: int, limit: int) -> list[int]:
        from django.contrib.postgres.search import SearchRank

        ranked = (
            self._matching(query)
            .annotate(rank=SearchRank(F("vector"), self.tsquery(query)))
            .order_by("-rank", "-post__published_at", "-post_id")
            .values_list("post_id", flat=True)
        )
        return list(ranked[offset : offset + limit])

    def headline(self, tsquery: SearchQuery) -> SearchHeadline:
        """A body's snippet around the words found, marked for highlight(): posts' and
        pages' alike."""
        from django.contrib.postgres.search import SearchHeadline

        return SearchHeadline(
            "body",
            tsquery,
            config=self.config,
            start_sel=START,
            stop_sel=STOP,
            max_words=SNIPPET_WORDS,
            min_words=SNIPPET_WORDS // 2,
            max_fragments=2,
            fragment_delimiter=" … ",
        )

    def snippets(self, query: Query, ids: Sequence[int]) -> dict[int, str]:
        headlines = (
            SearchDocument.objects.filter(post_id__in=ids)
            .annotate(snippet=self.headline(self.tsquery(query)))
            .values_list("post_id", "snippet")
        )
        return dict(headlines)

    def page_matches(self, query: Query, limit: int) -> list[tuple[int, str]]:
        """The best published pages for ``query``, each with its snippet: one query.
        No index of their own: pages are few, their vectors are made as they are read."""
        from django.contrib.postgres.search import SearchRank, SearchVector

        tsquery = self.tsquery(query)
        vector = SearchVector("title", weight="A", config=self.config) + SearchVector(
            "body", weight="C", config=self.config
        )
        matches = (
            PageSearchDocument.objects.annotate(vector=vector)
            .filter(vector=tsquery, page__in=Page.objects.published())
            .annotate(
                rank=SearchRank(F("vector"), tsquery),
                snippet=self.headline(tsquery),
            )
            .order_by("-rank", "page_id")
            .values_list("page_id", "snippet")
        )
        return list(matches[:limit])


def engine() -> Engine:
    """The engine for the database in use."""
    if connection.vendor == "postgresql":
        return PostgresEngine()
    if connection.vendor == "sqlite":
        return SQLiteEngine()
    raise NotImplementedError(f"No full-text search for {connection.vendor}.")


# Results --------------------------------------------------------------------------


def highlight(snippet: str) -> SafeString:
    """The snippet as HTML: everything escaped, the matched words in ``<mark>``."""
    marked = escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>")
    # nh3 closes a mark an engine left open at a fragment's edge.
    return mark_safe(nh3.clean(marked, tags={"mark"}, attributes={}))  # nosec B308 B703 # escaped, then only <mark> kept by nh3


class Results:
    """The posts matching a query, best first, for Django's Paginator: ``count()`` and
    slicing each run one query, and a page's snippets one more."""

    def __init__(self, query: Query, search_engine: Engine | None = None) -> None:
        self.query = query
        self.engine = search_engine or engine()

    @functools.cached_property
    def _count(self) -> int:
        return self.engine.count(self.query) if self.query else 0

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, page: slice) -> list[Post]:
        if not isinstance(page, slice) or page.step not in (None, 1):
            raise TypeError("Search results are read a page (a slice) at a time.")
        start, stop = page.start or 0, page.stop if page.stop is not None else self._count
        if not self.query or stop <= start:
            return []
        ids = self.engine.ranked_ids(self.query, start, stop - start)
        posts = (
            Post.objects.filter(pk__in=ids)
            .select_related("author__author_profile")
            .with_comment_counts()
            .prefetch_related("tags")
            .in_bulk()
        )
        snippets = self.engine.snippets(self.query, ids)
        found = [posts[pk] for pk in ids if pk in posts]
        for post in found:
            post.snippet = highlight(snippets.get(post.pk, ""))
        return found


def matching_pages(query: Query, search_engine: Engine | None = None) -> list[Page]:
    """The published pages matching ``query``, best first (MAX_PAGE_RESULTS at most),
    each with its highlighted ``snippet``: two queries."""
    if not query:
        return []
    matches = (search_engine or engine()).page_matches(query, MAX_PAGE_RESULTS)
    pages = Page.objects.in_bulk([pk for pk, _ in matches])
    found = []
    for pk, snippet in matches:
        if pk in pages:
            pages[pk].snippet = highlight(snippet or "")
            found.append(pages[pk])
    return found
