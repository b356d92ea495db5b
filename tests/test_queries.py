"""Reader's pages run a fixed number of SQL queries, whatever the number of posts, and
the post page whatever the number of its comments."""

import datetime
import io

from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import Comment, Page, Post, Reference
from blog.writing import save_page

from .caching import token_queries
from .factories import london, make_user

# The pages, each from the newest data so every one has a post, a day and a tag to show.
PAGES = {
    "home": "/",
    "home page 2": "/?page=2",
    "year": "/2014/",
    "month": "/2014/04/",
    "day": "/2014/04/15/",
    "post": "/2014/04/15/post-0/",
    "tags": "/tags/",
    "tag": "/tags/workforce/",
    "404": "/2014/04/15/no-such-post/",
}

# Every page pays 1 to read the page cache's version (blog.pagecache), 1 for the
# header's pages (blog.context_processors.navigation) and, when the sidebar is not
# cached yet, 2 for it (archive months, tag counts): 4 in all. Lists: the count, the
# page of posts with their authors, and the tags of that page. Date archives also check
# they are not empty and look up the neighbouring periods (one query each).
EXPECTED = {
    "home": 7,
    "home page 2": 7,
    "year": 8,  # months, posts of the year, previous and next year
    "month": 11,  # exists, days, count, posts, tags, previous and next month
    "day": 12,  # exists, count, posts, tags, previous/next day and month
    # post, its tags, its references, where else they are cited (one recursive query),
    # related reading, previous, next, its page of comments (blog.discussion: the
    # post's query counts its comments and threads, so any page of them costs one)
    "post": 12,
    "tags": 4,  # the list is the page: no tag counts in the sidebar too
    "tag": 9,  # tag, exists, count, posts, tags
    # the failed look-up, then the slug alone (for a moved date), then the old
    # addresses (blog.redirects: a 404 is the one page that looks there)
    "404": 7,
}
# From the cache: the version alone (none with Redis). A 404 is not cached, but its
# sidebar and navigation are: its three look-ups remain.
EXPECTED_CACHED = dict.fromkeys(EXPECTED, token_queries()) | {"404": 3 + token_queries()}


def add_comments(post: Post, n: int) -> None:
    """n published comments on ``post``, threaded (replies to replies), written in turn
    by anonymous readers and by signed-in ones."""
    reader = make_user("commenter", first_name="Sam", last_name="Signed")
    common = {
        "content_type": ContentType.objects.get_for_model(Post),
        "object_pk": str(post.pk),
        "site": Site.objects.get_current(),
    }
    parents: list[int] = []
    for i in range(n):
        signed_in = i % 2 == 1
        comment = Comment(
            **common,
            user=reader if signed_in else None,
            user_name="Sam Signed" if signed_in else f"Reader {i}",
            user_email="sam@example.org" if signed_in else f"reader{i}@example.org",
            user_url="" if signed_in else "https://example.org/",
            comment=f"Comment {i} with a link https://example.org/{i}",
            submit_date=timezone.now(),
            parent_id=parents[-1] if parents and i % 4 else 0,
        )
        comment.save()
        parents = [comment.pk] if comment.level >= 3 else [*parents, comment.pk]


def build(n_posts: int) -> None:
    """n_posts published posts over several years, each with tags and references,
    plus drafts that must cost nothing."""
    author = make_user("writer", first_name="Pat", last_name="Writer")
    start = london(2014, 4, 15, 20)
    posts = [
        Post(
            title=f"Post {i}",
            slug=f"post-{i}",
            body=f"Text of post {i} citing [1] and [2].",
            author=author,
            status=Post.Status.PUBLISHED,
            published_at=start - datetime.timedelta(hours=7 * i),
        )
        for i in range(n_posts)
    ]
    posts += [
        Post(title=f"Draft {i}", slug=f"draft-{i}", body="x", author=author,
             published_at=start, status=Post.Status.DRAFT)
        for i in range(n_posts // 5)
    ]  # fmt: skip
    Post.objects.bulk_create(posts)
    for post in Post.objects.all():
        post.tags.add("workforce", f"topic {post.pk % 7}")
        Reference.objects.bulk_create(
            [Reference(post=post, number=n, citation=f"Source {n}") for n in (1, 2)]
        )
        post.save()  # render the body with its references


class QueryCountMixin:
    n_posts: int
    n_comments: int

    @classmethod
    def setUpTestData(cls):
        build(cls.n_posts)
        add_comments(Post.objects.get(slug="post-0"), cls.n_comments)

    def test_each_page_runs_a_fixed_number_of_queries(self):
        # Canonical addresses read the Site, which Django caches for the process: the
        # steady state a reader meets, whichever test ran first.
        Site.objects.get_current()
        counts, cached_counts = {}, {}
        for name, url in PAGES.items():
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(url)
            self.assertIn(response.status_code, (200, 404), url)
            counts[name] = len(queries)
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get(url).status_code, response.status_code)
            cached_counts[name] = len(queries)
        self.assertEqual(counts, EXPECTED)
        self.assertEqual(cached_counts, EXPECTED_CACHED)


class SmallSiteQueryTests(QueryCountMixin, TestCase):
    n_posts = 12
    n_comments = 2


class LargeSiteQueryTests(QueryCountMixin, TestCase):
    n_posts = 400
    n_comments = 200

    def test_the_discussion_is_all_there(self):
        response = self.client.get("/2014/04/15/post-0/")
        self.assertContains(response, '<article class="comment', count=200)
        self.assertContains(response, "200 comments")

    @override_settings(BLOG_COMMENTS_PER_PAGE=5)
    def test_every_page_of_the_discussion_costs_what_the_first_does(self):
        Site.objects.get_current()
        for page in (1, 3, 10):  # 50 threads of 4 comments: 10 pages
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(f"{PAGES['post']}?page={page}")
            self.assertContains(response, '<article class="comment', count=20)
            self.assertEqual(len(queries), EXPECTED["post"], f"page {page}")


# Every reader's page, on the April 2014 entries and on the same entries among demo data
# (tools.demo): the same pages, the same number of queries, however much data.
EVERY_PAGE = {
    "home": "/",
    "year": "/2014/",
    "month": "/2014/04/",
    "day": "/2014/04/15/",
    "post": "/2014/04/15/stepping-up-but-not-staying-in/",
    "post with a call for answers": "/2014/04/09/learning-organisations/",
    "1,000 comments": "/2015/06/10/demo-thread-1000/",
    "1,000 comments, page 3": "/2015/06/10/demo-thread-1000/?page=3",
    "200 comments": "/2015/06/11/demo-thread-200/",
    "tags": "/tags/",
    "tag": "/tags/workforce/",
    "tag feed": "/tags/workforce/feed/",
    "atom": "/feeds/atom/",
    "rss": "/feeds/rss/",
    "comments feed": "/feeds/comments/",
    "sitemap": "/sitemap.xml",
    "discussions": "/discussions/",
    "references": "/references/",
    "search": "/search/?q=workforce",
    "404": "/2014/04/15/no-such-post/",
    "page": "/about/",
    "author": "/authors/mills/",
    "author feed": "/authors/mills/feed/",
}


# The page cache's version look-up is 1 of each; the header's pages 1 and the
# sidebar's 2 (archive months, tag counts) on HTML pages; the other queries are each
# page's own (see EXPECTED above, and tests/test_feeds.py, test_sitemap.py,
# test_search.py).
EVERY_PAGE_EXPECTED = {
    "home": 7, "year": 8, "month": 11, "day": 12,
    # the post, its tags, its references, where else they are cited, related
    # reading, previous, next, the page's comment threads (the count rides on the
    # post's query)
    "post": 11, "post with a call for answers": 11,
    "1,000 comments": 11, "1,000 comments, page 3": 11, "200 comments": 11,
    "tags": 4, "tag": 9, "tag feed": 5, "atom": 4, "rss": 4, "comments feed": 3,
    # the posts' sections, and the pages' count and list
    "sitemap": 8,
    "discussions": 6, "references": 6,
    # the posts found, their count, tags and snippets, and the pages found with theirs
    # (and, only when some are, their titles: 1 more)
    "search": 10,
    "404": 7,
    # the page
    "page": 5,
    # the author, whether they have posts, the count, the page of posts, their tags
    "author": 9, "author feed": 5,
}  # fmt: skip


class ScaleQueryCountMixin:
    demo_posts: int
    demo_comments: int

    @classmethod
    def setUpTestData(cls):
        from django.core.management import call_command

        call_command("load_april_2014", verbosity=0)
        call_command(
            "seed_demo", posts=cls.demo_posts, comments=cls.demo_comments, force=True,
            stdout=io.StringIO(),
        )  # fmt: skip
        save_page(Page(title="About", slug="about", status=Page.Status.PUBLISHED,
                       in_navigation=True, body="Who writes here, and why."))  # fmt: skip

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Each page's queries built afresh (the cache empty), and served from the cache."""
        Site.objects.get_current()  # cached for the process, as when serving
        built, cached = {}, {}
        for name, url in EVERY_PAGE.items():
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(url)
            self.assertEqual(response.status_code, 404 if name == "404" else 200, name)
            built[name] = len(queries)
            with CaptureQueriesContext(connection) as queries:
                self.client.get(url)
            cached[name] = len(queries)
        return built, cached

    def test_every_page_runs_a_fixed_number_of_queries(self):
        built, cached = self.counts()
        self.assertEqual(built, EVERY_PAGE_EXPECTED)
        # From the cache: the version look-up alone; a 404 is built again, its
        # sidebar from the cache.
        token = token_queries()
        self.assertEqual(cached, dict.fromkeys(EVERY_PAGE, token) | {"404": 3 + token})


class AprilSizeQueryTests(ScaleQueryCountMixin, TestCase):
    # The April 2014 entries, and the two long discussions the benchmark reads.
    demo_posts, demo_comments = 2, 1200


class DemoScaleQueryTests(ScaleQueryCountMixin, TestCase):
    # Large for a test: hundreds of posts over ten years, thousands of comments.
    demo_posts, demo_comments = 400, 4000
