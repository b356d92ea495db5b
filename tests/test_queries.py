"""Reader's pages run a fixed number of SQL queries, whatever the number of posts, and
the post page whatever the number of its comments."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import Comment, Post, Reference

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

# Every page pays 2 for the sidebar (archive months, tag counts). Lists: the count,
# the page of posts with their authors, and the tags of that page. Date archives also
# check they are not empty and look up the neighbouring periods (one query each).
EXPECTED = {
    "home": 5,
    "home page 2": 5,
    "year": 6,  # months, posts of the year, previous and next year
    "month": 9,  # exists, days, count, posts, tags, previous and next month
    "day": 10,  # exists, count, posts, tags, previous/next day and month
    # post, its tags, its references, where else they are cited (one recursive query),
    # related reading, previous, next, its comments
    "post": 10,
    "tags": 3,
    "tag": 7,  # tag, exists, count, posts, tags
    "404": 4,  # the failed look-up, then the slug alone (for a moved date)
}


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
        counts = {}
        for name, url in PAGES.items():
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(url)
            self.assertIn(response.status_code, (200, 404), url)
            counts[name] = len(queries)
        self.assertEqual(counts, EXPECTED)


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
