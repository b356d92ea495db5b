"""Every query of every reader's page can use an index: no page reads one of the big
tables (posts, tags, references, comments, search documents) from end to end, except
where this module allows it and says why.

Each page is requested with a cold cache; every SELECT it runs is recorded with its
parameters, and the database is asked for the plan of each afterwards:

- SQLite (EXPLAIN QUERY PLAN): a big table is never scanned ("SCAN t" without an
  index) nor given an automatic index (which is built by a scan). Reading a whole index
  ("SCAN t USING INDEX i"), or every visible row through one (a search whose only
  constraints are a post's status and "published up to now", or a comment's content
  type), or handing FTS5 one row at a time, must be one of the page's allowances below:
  each names the index it reads and says why. SQLite plans without statistics (neither
  this test nor the site runs ANALYZE), so its plans do not depend on the data.
- PostgreSQL (EXPLAIN after ANALYZE, sequential scans turned off in the test's
  transaction, so that the plan answers "can an index be used?"): no "Seq Scan" on a
  big table.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.db import connection
from django.test import TestCase, override_settings

from blog.models import Comment, Post

from .factories import london, make_user
from .test_queries import add_comments, build

BIG_TABLES = frozenset(
    {
        "blog_post",
        "blog_reference",
        "blog_taggedpost",
        "taggit_tag",
        "django_comments",
        "django_comments_xtd_xtdcomment",
        "blog_comment",
        "blog_searchdocument",
    }
)
FULL_TEXT_TABLE = "blog_search_fts"
# Columns whose value most rows share: an index search on them alone (a post's status,
# a comment's content type) still reads every visible row.
SHARED_COLUMNS = frozenset({"status", "content_type_id", "is_public", "is_removed", "site_id"})
VISIBLE_POSTS = "post_visible_idx"  # blog_post (status, published_at)


@dataclass(frozen=True)
class Allowance:
    query: str  # a regular expression the statement matches
    reason: str
    index: str = VISIBLE_POSTS  # the index read from end to end
    # Read in the index's order and stopped by a LIMIT: then the whole result must not
    # go through a sort.
    ordered: bool = False
    kinds: tuple[str, ...] = ("every visible row", "whole index")


READS_EVERY_ROW = {
    # The sidebar, on every HTML page (blog.templatetags.blog_tags): computed once per
    # change of the site's content, then a cached fragment (blog.pagecache).
    "archive months": Allowance(
        r'AS "month", COUNT\(',
        "The archive's count of posts per month reads every visible post (the index alone).",
    ),
    "tag counts": Allowance(
        r'COUNT\("blog_taggedpost"."id"\) AS "post_count"',
        "The tags' counts read every visible post's tags (the sidebar, the tags page).",
    ),
    # Lists of posts, newest first.
    "post count": Allowance(
        r'^SELECT COUNT\(\*\) AS "__count" FROM "blog_post" (INNER JOIN|WHERE)',
        "The paginator's count of the visible posts (of a tag): the index alone.",
    ),
    "newest posts": Allowance(
        r'FROM "blog_post" .*ORDER BY "blog_post"."published_at" DESC, "blog_post"."id" '
        r"DESC LIMIT",
        "A page of the newest posts (of a tag): the index read in order, stopped by the LIMIT.",
        ordered=True,
    ),
    "neighbour": Allowance(
        r'ORDER BY "blog_post"."published_at" (DESC|ASC)(, "blog_post"."id" (DESC|ASC))? '
        r"LIMIT 1$",
        "The previous post or period: the index read in order from a bound, LIMIT 1.",
        ordered=True,
    ),
    "tag has posts": Allowance(
        r'SELECT %s AS "a" FROM "blog_post" (U0 )?INNER JOIN "blog_taggedpost"',
        "Whether the tag has a visible post (its page, its feed): the newest posts until "
        "one carries it.",
    ),
    "related posts": Allowance(
        r'AS "shared_tags"',
        "Related reading counts the tags each visible post shares with this one. SQLite "
        "walks the posts (without statistics it takes the visibility index for a "
        "selective one), PostgreSQL starts from the tags.",
    ),
    "same work": Allowance(
        r"WITH RECURSIVE same_work",
        "Where else the post's references are cited: the visible posts' ids, read once "
        "into a list, limit the chain of matching citations.",
    ),
    # Whole lists: cached pages, as long as the site.
    "discussed posts": Allowance(
        r'FROM "blog_post" .*WHERE .*EXISTS\(SELECT',
        "The discussions page orders every visible post by its latest comment: whether "
        "it has one and that comment's date are a step into an index each.",
    ),
    "sitemap posts": Allowance(
        r'^SELECT "blog_post"."id", "blog_post"."slug", "blog_post"."published_at", '
        r'"blog_post"."updated_at" FROM "blog_post"',
        "The sitemap lists every visible post.",
        ordered=True,
    ),
    "sitemap archives": Allowance(
        r'AS "month", MAX\(', "The sitemap lists every month with posts, and its last change."
    ),
    "sitemap tags": Allowance(
        r'AS "latest" FROM "taggit_tag"|FROM \(SELECT "taggit_tag"."id"',
        "The sitemap lists every tag with a visible post (count and list).",
    ),
    "works": Allowance(
        r'^SELECT "blog_reference"."id" AS "pk", ',
        "The index of works groups every reference of every visible post into works "
        "(blog.sources.published_works), so it reads them all.",
    ),
    "citing posts": Allowance(
        r'FROM "blog_post" WHERE \(.*"blog_post"."id" IN \(%s',
        "The posts citing a page of works, by id among the visible posts: SQLite "
        "prefers the visibility index to the fifty-odd ids.",
    ),
    # Lists of comments.
    "comments on visible posts": Allowance(
        r'ORDER BY "django_comments"."submit_date" DESC',
        "The comments feed keeps the comments on visible posts: their ids, read once into a list.",
    ),
    "newest comments": Allowance(
        r'ORDER BY "django_comments"."submit_date" DESC',
        "The comments feed: the newest comments on posts, the index in date order "
        "(migration 0008), stopped by the LIMIT.",
        index="blog_comment_newest_idx",
        ordered=True,
    ),
    # Search.
    "search matches": Allowance(
        r"FROM blog_search_fts JOIN blog_post",
        "The visible posts' ids, read once into a list the full-text matches are checked against.",
    ),
    "search snippets": Allowance(
        r"^SELECT rowid, snippet\(",
        "The snippets of the page's ten results: the full-text query re-run for each.",
        index=FULL_TEXT_TABLE,
        kinds=("full-text query per row",),
    ),
}
ALLOWANCES = READS_EVERY_ROW
SIDEBAR = ("archive months", "tag counts")
DATE_LIST = (*SIDEBAR, "neighbour")
POST = (*SIDEBAR, "neighbour", "related posts", "same work")


@dataclass(frozen=True)
class Page:
    url: str
    allowed: tuple[str, ...] = SIDEBAR
    status: int = 200


PAGES = {
    "home": Page("/", (*SIDEBAR, "post count", "newest posts")),
    "home page 2": Page("/?page=2", (*SIDEBAR, "post count", "newest posts")),
    "year": Page("/2014/", DATE_LIST),
    "month": Page("/2014/04/", DATE_LIST),
    "day": Page("/2014/04/15/", DATE_LIST),
    "post": Page("/2014/04/15/post-0/", POST),
    "post, comments page 2": Page("/2014/04/15/post-0/?page=2", POST),
    "tags": Page("/tags/"),
    "tag": Page("/tags/topic-3/", (*SIDEBAR, "post count", "newest posts", "tag has posts")),
    "tag feed": Page("/tags/topic-3/feed/", ("tag has posts", "newest posts")),
    "atom": Page("/feeds/atom/", ("newest posts",)),
    "rss": Page("/feeds/rss/", ("newest posts",)),
    "comments feed": Page("/feeds/comments/", ("comments on visible posts", "newest comments")),
    "sitemap": Page(
        "/sitemap.xml", ("post count", "sitemap posts", "sitemap archives", "sitemap tags")
    ),
    "discussions": Page("/discussions/", (*SIDEBAR, "discussed posts")),
    "discussions page 2": Page("/discussions/?page=2", (*SIDEBAR, "discussed posts")),
    "references": Page("/references/", (*SIDEBAR, "works", "citing posts")),
    "search": Page(
        "/search/?q=post+citing",
        (*SIDEBAR, "search matches", "search snippets"),
    ),
    "404": Page("/2014/04/15/no-such-post/", SIDEBAR, status=404),
}


# Recording and explaining ------------------------------------------------------------


class StatementRecorder:
    """An execute wrapper keeping each SELECT with its parameters (captured SQL is
    interpolated, and EXPLAIN needs the statement as the database was given it)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple | list | None]] = []

    def __call__(self, execute, sql, params, many, context):
        if not many and re.match(r"\s*(SELECT|WITH)\b", sql, re.IGNORECASE):
            self.statements.append((sql, params))
        return execute(sql, params, many, context)


@dataclass(frozen=True)
class Plan:
    lines: list[str]
    sorts_everything: bool  # SQLite: the whole result goes through a sort


def explain(sql: str, params) -> Plan:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            rows = cursor.fetchall()  # (id, parent, unused, detail)
            sorts = any(r[1] == 0 and r[3] == "USE TEMP B-TREE FOR ORDER BY" for r in rows)
            return Plan([row[3] for row in rows], sorts)
        cursor.execute(f"EXPLAIN {sql}", params)
        return Plan([row[0] for row in cursor.fetchall()], sorts_everything=False)


def table_aliases(sql: str) -> dict[str, str]:
    """Alias (or name) -> table, for the names SQLite's plans use (Django's U0, T3; the
    raw queries' r, w)."""
    aliases = {}
    for table, alias in re.findall(r'\b(?:FROM|JOIN)\s+"?(\w+)"?(?:\s+(?:AS\s+)?"?(\w+)"?)?', sql):
        aliases[table] = table
        # Not a keyword (Django's SQL writes them in capitals, its aliases with digits).
        if alias and not re.fullmatch(r"[A-Z]+", alias):
            aliases[alias] = table
    return aliases


@dataclass(frozen=True)
class Finding:
    kind: str  # "scan" (never allowed), "whole index", "every visible row",
    # "full-text query per row"
    index: str
    line: str


SQLITE_LINE = re.compile(
    r"^(?P<op>SCAN|SEARCH) (?:TABLE )?(?P<name>[\w()-]+)(?: AS \w+)?(?P<rest>.*)$"
)


def sqlite_findings(sql: str, plan: Plan) -> list[Finding]:
    """The plan's reads of a big table that go further than an index look-up."""
    aliases = table_aliases(sql)
    findings = []
    for line in plan.lines:
        match = SQLITE_LINE.match(line)
        if not match:
            continue
        table = aliases.get(match["name"], match["name"])
        rest = match["rest"]
        index = re.search(r"INDEX (\w+)", rest)
        index = index[1] if index else ""
        if table == FULL_TEXT_TABLE:
            # idxStr "=M...": a rowid handed to FTS5, and the MATCH re-run, per row.
            if re.search(r"VIRTUAL TABLE INDEX \d+:[^M]*=", rest):
                findings.append(Finding("full-text query per row", FULL_TEXT_TABLE, line))
            continue
        if table not in BIG_TABLES:
            continue
        if "AUTOMATIC" in rest:
            findings.append(Finding("scan", index, line))  # built by a scan
        elif match["op"] == "SCAN":
            kind = "whole index" if index else "scan"
            findings.append(Finding(kind, index, line))
        elif "INTEGER PRIMARY KEY" not in rest:
            constraint = re.search(r"\((.*)\)$", rest)
            if selects_everything(constraint[1].split(" AND ") if constraint else []):
                findings.append(Finding("every visible row", index, line))
    return findings


def selects_everything(terms: list[str]) -> bool:
    """Whether an index search's constraints ("status=?", "published_at<?") leave every
    visible row: equalities on shared columns only, ranges open on one side ("published
    up to now")."""
    ranges: dict[str, set[str]] = {}
    for term in terms:
        match = re.fullmatch(r"(\w+)([=<>])\?", term)
        if match is None:
            return False
        column, operator = match.groups()
        if operator != "=":
            ranges.setdefault(column, set()).add(operator)
        elif column not in SHARED_COLUMNS:
            return False
    return all(operators != {"<", ">"} for operators in ranges.values())


def postgresql_findings(plan: Plan) -> list[Finding]:
    findings = []
    for line in plan.lines:
        match = re.search(r"Seq Scan on (\w+)", line)
        if match and match[1] in BIG_TABLES:
            findings.append(Finding("scan", "", line.strip()))
    return findings


def allows(allowance: Allowance, finding: Finding, sql: str, plan: Plan) -> bool:
    return (
        finding.kind in allowance.kinds
        and finding.index == allowance.index
        and not (allowance.ordered and plan.sorts_everything)
        and re.search(allowance.query, sql, re.DOTALL) is not None
    )


# The data ---------------------------------------------------------------------------


def comment_on(post: Post, n: int, **fields) -> None:
    """n top-level comments on ``post`` (saved one by one: the library fills the
    thread columns)."""
    for i in range(n):
        Comment(
            content_type=ContentType.objects.get_for_model(Post),
            object_pk=str(post.pk),
            site=Site.objects.get_current(),
            user_name=f"Reader {i}",
            user_email=f"reader{i}@example.org",
            comment=f"Comment {i} on {post.title}",
            submit_date=post.published_at + datetime.timedelta(days=1, minutes=i),
            **fields,
        ).save()


@override_settings(BLOG_COMMENTS_PER_PAGE=20)  # post-0's 50 threads: three pages
class QueryPlanTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # 300 posts (Jan-Apr 2014) with tags and references, 60 drafts; 200 threaded
        # comments on post-0 (tests/test_queries.py).
        build(300)
        add_comments(Post.objects.get(slug="post-0"), 200)
        # Earlier years, untagged and uncited.
        author = make_user("archivist")
        Post.objects.bulk_create(
            Post(
                title=f"Old post {i}",
                slug=f"old-post-{i}",
                body=f"An older text {i}.",
                author=author,
                status=Post.Status.PUBLISHED,
                published_at=london(2009, 1, 5, 9) + datetime.timedelta(days=9 * i),
            )
            for i in range(200)
        )
        # Shorter discussions on many posts; a few comments held back or removed.
        posts = list(Post.objects.published().filter(slug__startswith="post-")[1:121])
        for post in posts:
            comment_on(post, 2)
        for post in posts[:5]:
            comment_on(post, 1, is_public=False)
            comment_on(post, 1, is_removed=True)
        Post.objects.filter(slug__in=["post-3", "post-250"]).update(
            call_for_answers="What would you do?"
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def setUp(self):
        # Canonical addresses read the Site, which Django caches for the process.
        Site.objects.get_current()
        if connection.vendor == "postgresql":
            # For this test's transaction: a sequential scan only where no index can do.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")

    def plans(self, page: Page) -> list[tuple[str, Plan]]:
        """(statement, plan) for each SELECT the page runs with a cold cache."""
        cache.clear()
        recorder = StatementRecorder()
        with connection.execute_wrapper(recorder):
            response = self.client.get(page.url)
        self.assertEqual(response.status_code, page.status, page.url)
        return [(sql, explain(sql, params)) for sql, params in recorder.statements]

    def assert_uses_indexes(self, name: str) -> None:
        page = PAGES[name]
        sqlite = connection.vendor == "sqlite"
        problems, used = [], set()
        for sql, plan in self.plans(page):
            for finding in sqlite_findings(sql, plan) if sqlite else postgresql_findings(plan):
                allowed = {
                    key for key in page.allowed if allows(ALLOWANCES[key], finding, sql, plan)
                }
                used |= allowed
                if not allowed:
                    problems.append(
                        f"{finding.kind}: {finding.line}\n  in: {sql}\n  plan: {plan.lines}"
                    )
        self.assertEqual(problems, [], f"{name} ({page.url})")
        if sqlite:
            # An allowance the page no longer needs is taken out of its list.
            self.assertEqual(used, set(page.allowed), f"allowances of {name}")

    def test_home(self):
        self.assert_uses_indexes("home")

    def test_home_page_2(self):
        self.assert_uses_indexes("home page 2")

    def test_year(self):
        self.assert_uses_indexes("year")

    def test_month(self):
        self.assert_uses_indexes("month")

    def test_day(self):
        self.assert_uses_indexes("day")

    def test_post(self):
        self.assert_uses_indexes("post")

    def test_post_comments_page_2(self):
        self.assert_uses_indexes("post, comments page 2")

    def test_tags(self):
        self.assert_uses_indexes("tags")

    def test_tag(self):
        self.assert_uses_indexes("tag")

    def test_tag_feed(self):
        self.assert_uses_indexes("tag feed")

    def test_atom(self):
        self.assert_uses_indexes("atom")

    def test_rss(self):
        self.assert_uses_indexes("rss")

    def test_comments_feed(self):
        self.assert_uses_indexes("comments feed")

    def test_sitemap(self):
        self.assert_uses_indexes("sitemap")

    def test_discussions(self):
        self.assert_uses_indexes("discussions")

    def test_discussions_page_2(self):
        self.assert_uses_indexes("discussions page 2")

    def test_references(self):
        self.assert_uses_indexes("references")

    def test_search(self):
        self.assert_uses_indexes("search")

    def test_not_found(self):
        self.assert_uses_indexes("404")

    def test_every_page_is_checked(self):
        tests = {name for name in dir(self) if name.startswith("test_")}
        self.assertEqual(len(PAGES), len(tests) - 1)
