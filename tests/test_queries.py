"""Reader's pages run a fixed number of SQL queries, whatever the number of posts."""

import datetime

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from blog.models import Post, Reference

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
    "post": 8,  # post, its tags, its references, previous, next, its comments
    "tags": 3,
    "tag": 7,  # tag, exists, count, posts, tags
    "404": 4,  # the failed look-up, then the slug alone (for a moved date)
}


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

    @classmethod
    def setUpTestData(cls):
        build(cls.n_posts)

    def test_each_page_runs_a_fixed_number_of_queries(self):
        counts = {}
        for name, url in PAGES.items():
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(url)
            self.assertIn(response.status_code, (200, 404), url)
            counts[name] = len(queries)
        self.assertEqual(counts, EXPECTED)


class SmallSiteQueryTests(QueryCountMixin, TestCase):
    n_posts = 12


class LargeSiteQueryTests(QueryCountMixin, TestCase):
    n_posts = 400
