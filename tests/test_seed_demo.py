"""manage.py seed_demo: the same arguments make the same demo data, stored exactly as
the site's own saves and django-comments-xtd would have stored it."""

from __future__ import annotations

import datetime
import hashlib
import random
from io import StringIO
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management import CommandError, call_command
from django.test import TestCase
from django_comments.models import Comment as BaseComment
from django_comments_xtd.models import XtdComment
from taggit.models import Tag

from blog import pagecache
from blog.markup import render_markdown
from blog.models import Comment, ContentVersion, Post, Reference, SearchDocument, TaggedPost
from blog.search import Results, document_fields, parse_query
from tools.demo.plan import DEMO_USERNAME, OPENING, comment_counts, plan, thread_places
from tools.demo.words import TAGS

from .factories import london, make_post

SMALL = {"posts": 12, "comments": 150, "seed": 7}
# Enough comments for the full 1,000-comment discussion.
LARGE = {"posts": 30, "comments": 1300, "seed": 3}


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def demo_posts():
    return Post.objects.filter(author__username=DEMO_USERNAME)


def comments_of(post: Post) -> list[Comment]:
    """The post's comments in the order they were written."""
    return list(Comment.objects.for_post(post).order_by("submit_date", "pk"))


def parents_in_order(comments: list[Comment]) -> list[int | None]:
    """Each comment's parent as an index into ``comments`` (None for a top-level one)."""
    index = {c.pk: i for i, c in enumerate(comments)}
    return [None if c.parent_id == c.pk else index[c.parent_id] for c in comments]


def thread_columns(comments: list[Comment]) -> list[tuple[int, int, int, int, int]]:
    """The library's thread columns, with ids replaced by positions in ``comments``."""
    index = {c.pk: i for i, c in enumerate(comments)}
    return [
        (index[c.thread_id], index[c.parent_id], c.level, c.order, c.nested_count) for c in comments
    ]


def places(comments: list[Comment]) -> list[tuple[int, int, int, int, int]]:
    """What the library would store for ``comments`` (in the order they were written),
    as the seeder computes it."""
    return [
        (p.root, p.parent, p.level, p.order, p.nested_count)
        for p in thread_places(parents_in_order(comments))
    ]


COMMENT_FIELDS = (
    "user_name", "user_email", "user_url", "comment", "submit_date", "is_public", "is_removed",
    "is_highlighted", "followup", "user_id", "ip_address", "site_id",
)  # fmt: skip


def demo_digest() -> str:
    """Everything the demo data holds, ids replaced by positions, so that two runs
    (whose ids differ) can be compared."""
    rows = []
    for post in demo_posts().order_by("slug").prefetch_related("tags", "references"):
        comments = comments_of(post)
        document = SearchDocument.objects.get(post=post)
        rows.append(
            (
                (post.title, post.slug, post.body, post.body_html, post.status),
                (post.published_at.isoformat(), post.updated_at.isoformat()),
                (post.call_for_answers, post.allow_comments),
                sorted(tag.name for tag in post.tags.all()),
                [
                    (r.number, r.citation, r.url, r.citation_key, r.url_key)
                    for r in post.references.all()
                ],
                (document.title, document.tags, document.body, document.citations),
                thread_columns(comments),
                [[getattr(c, name) for name in COMMENT_FIELDS] for c in comments],
            )
        )
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def state() -> tuple:
    """What a refused run must leave as it was."""
    version = ContentVersion.objects.values_list("token", flat=True).first()
    return (
        get_user_model().objects.count(),
        Post.objects.count(),
        Tag.objects.count(),
        TaggedPost.objects.count(),
        Reference.objects.count(),
        BaseComment.objects.count(),
        SearchDocument.objects.count(),
        version,
    )


class SeedTests(TestCase):
    def test_the_same_arguments_make_the_same_data(self):
        seed(**SMALL)
        first = demo_digest()
        seed(**SMALL)  # replaces the first run's data, with new ids
        self.assertEqual(demo_digest(), first)
        self.assertEqual(demo_posts().count(), SMALL["posts"])
        seed(**{**SMALL, "seed": SMALL["seed"] + 1})
        self.assertNotEqual(demo_digest(), first)

    def test_the_summary_matches_the_rows(self):
        output = seed(**SMALL)
        references, taggings = Reference.objects.count(), TaggedPost.objects.count()
        self.assertIn(
            f"12 posts, 150 comments, {references} references, {taggings} taggings in ", output
        )
        self.assertGreater(references, 0)
        # Every comment has its row in each of the three tables of the multi-table model.
        self.assertEqual(
            (BaseComment.objects.count(), XtdComment.objects.count(), Comment.objects.count()),
            (150, 150, 150),
        )
        self.assertEqual(SearchDocument.objects.count(), 12)

    def test_the_demo_data_says_what_it_is(self):
        seed(**SMALL)
        user = get_user_model().objects.get(username="demo-data")
        self.assertEqual(user.get_full_name(), "Demo data")
        self.assertFalse(user.has_usable_password())
        self.assertFalse(user.is_staff or user.is_superuser)
        for post in demo_posts():
            self.assertTrue(post.slug.startswith("demo-"), post.slug)
            self.assertTrue(post.body.startswith(OPENING))
            self.assertIn("manage.py seed_demo", post.excerpt)
        for comment in Comment.objects.all():
            self.assertRegex(comment.user_name, r"^Demo reader \d+$")
            self.assertTrue(comment.user_email.endswith("@example.invalid"))
            self.assertIsNone(comment.user_id)

    def test_derived_columns_are_what_saves_would_have_stored(self):
        seed(**SMALL)
        for post in demo_posts().prefetch_related("tags", "references"):
            numbers = [r.number for r in post.references.all()]
            self.assertEqual(post.body_html, render_markdown(post.body, numbers))
            self.assertEqual(post.updated_at, post.published_at)
            citations = [r.citation for r in post.references.all()]
            expected = document_fields(post, (t.name for t in post.tags.all()), citations)
            document = SearchDocument.objects.filter(post=post).values(*expected).get()
            self.assertEqual(document, expected)
            for reference in post.references.all():
                self.assertEqual(post.body.count(f"[{reference.number}]"), 1)
                stored = (reference.citation_key, reference.url_key)
                reference.save()  # Reference.save() fills the keys afresh
                self.assertEqual((reference.citation_key, reference.url_key), stored)

    def test_refuses_a_site_with_posts_someone_wrote_and_writes_nothing(self):
        make_post("A real post", tags=["workforce"])
        before = state()
        with self.assertRaisesMessage(CommandError, "--force"):
            seed(**SMALL)
        self.assertEqual(state(), before)
        self.assertFalse(get_user_model().objects.filter(username="demo-data").exists())

    def test_force_adds_the_demo_data_alongside(self):
        real = make_post("A real post", tags=["workforce"])
        seed(**SMALL, force=True)
        seed(**SMALL, force=True)  # again: replaces its own data only
        self.assertEqual(demo_posts().count(), 12)
        self.assertEqual(Post.objects.count(), 13)
        real.refresh_from_db()
        self.assertEqual(list(real.tags.names()), ["workforce"])
        self.assertTrue(SearchDocument.objects.filter(post=real).exists())

    def test_a_new_run_replaces_the_previous_demo_data(self):
        seed(**SMALL)
        tags = Tag.objects.count()
        seed(posts=5, comments=20, seed=1)
        self.assertEqual(demo_posts().count(), 5)
        self.assertEqual(BaseComment.objects.count(), 20)
        self.assertEqual(XtdComment.objects.count(), 20)
        self.assertEqual(SearchDocument.objects.count(), 5)
        self.assertEqual(
            Reference.objects.count(), sum(len(p.references) for p in plan(5, 20, 1))
        )
        self.assertGreaterEqual(Tag.objects.count(), tags)  # tags are left alone
        seed(posts=0, comments=0)
        self.assertEqual(state()[1:-2], (0, Tag.objects.count(), 0, 0, 0))

    def test_all_or_nothing(self):
        with (
            mock.patch.object(pagecache, "invalidate", side_effect=RuntimeError("boom")),
            self.assertRaisesMessage(RuntimeError, "boom"),
        ):
            seed(**SMALL)
        self.assertEqual(state()[:-1], (0, 0, 0, 0, 0, 0, 0))

    def test_cached_pages_are_dropped(self):
        seed(**SMALL)
        token = ContentVersion.objects.get().token
        seed(**SMALL)
        self.assertNotEqual(ContentVersion.objects.get().token, token)

    def test_comments_are_shared_out_whatever_the_numbers(self):
        def counts(*args, drafts=()):
            return comment_counts(*args, random.Random(1), drafts)

        self.assertEqual(counts(3, 1300)[:2], [1000, 200])
        self.assertEqual(counts(3, 800)[:2], [500, 100])  # five and one eighths
        self.assertEqual(counts(1, 50), [50])
        self.assertEqual(counts(2, 1300), [1100, 200])
        self.assertEqual(counts(4, 1300, drafts={2, 3}), [1100, 200, 0, 0])
        shared = counts(40, 2000, drafts={5, 6})
        self.assertEqual(sum(shared), 2000)
        self.assertEqual(shared[5:7], [0, 0])  # readers never saw the drafts

    def test_comments_need_a_post(self):
        with self.assertRaisesMessage(CommandError, "at least one post"):
            seed(posts=0, comments=5)


class ThreadShapeTests(TestCase):
    """The thread columns the seeder computes are the ones django-comments-xtd computes
    when the same comments are saved one by one."""

    def save_through_the_library(self, post: Post, parents: list[int | None]) -> list[Comment]:
        common = {
            "content_type": ContentType.objects.get_for_model(Post),
            "object_pk": str(post.pk),
            "site": Site.objects.get_current(),
        }
        saved: list[Comment] = []
        for i, parent in enumerate(parents):
            comment = Comment(
                **common,
                user_name=f"Reader {i}",
                user_email=f"reader{i}@example.org",
                comment=f"Comment {i}",
                submit_date=london(2015, 1, 1) + datetime.timedelta(minutes=i),
                parent_id=0 if parent is None else saved[parent].pk,
            )
            comment.save()
            saved.append(comment)
        return comments_of(post)

    def test_a_hand_made_tree(self):
        # Replies to earlier threads after later ones, down to the deepest level.
        parents = [None, 0, 1, None, 0, 2, 3, 1, 7, None, 4, 0, 9, 6, 2]
        stored = self.save_through_the_library(make_post(), parents)
        self.assertEqual(parents_in_order(stored), parents)
        self.assertEqual(thread_columns(stored), places(stored))
        self.assertEqual(max(c.level for c in stored), 3)

    def test_the_seeded_discussion_is_what_the_library_makes_of_it(self):
        seed(posts=3, comments=120, seed=5)
        seeded = comments_of(demo_posts().get(slug="demo-thread-1000"))
        self.assertGreaterEqual(len(seeded), 75)  # five eighths at least
        rebuilt = self.save_through_the_library(make_post(), parents_in_order(seeded))
        self.assertEqual(thread_columns(seeded), thread_columns(rebuilt))
        self.assertEqual({c.level for c in seeded}, {0, 1, 2, 3})


class LargeSeedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed(**LARGE)
        cls.big = demo_posts().get(slug="demo-thread-1000")

    def test_the_two_long_discussions(self):
        medium = demo_posts().get(slug="demo-thread-200")
        self.assertEqual(len(comments_of(self.big)), 1000)
        self.assertEqual(len(comments_of(medium)), 200)
        self.assertEqual(self.big.published_on, datetime.date(2015, 6, 10))
        self.assertEqual(medium.published_on, datetime.date(2015, 6, 11))
        others = [
            len(comments_of(p)) for p in demo_posts().exclude(pk__in=[self.big.pk, medium.pk])
        ]
        self.assertEqual(sum(others), 100)
        self.assertIn(0, others)  # unevenly: some posts have none

    def test_posts_spread_over_ten_years_with_the_fixtures_tags(self):
        days = [p.published_on for p in demo_posts()]
        self.assertGreaterEqual(min(days), datetime.date(2009, 1, 1))
        self.assertLessEqual(max(days), datetime.date(2018, 12, 31))
        self.assertGreater(len({day.year for day in days}), 8)
        self.assertTrue(set(TAGS) >= set(Tag.objects.values_list("name", flat=True)))
        for post in demo_posts().prefetch_related("tags", "references"):
            self.assertIn(len(post.tags.all()), range(1, 5))
            self.assertIn(len(post.references.all()), range(5))

    def test_every_thread_is_consistent(self):
        comments = comments_of(self.big)
        top_level = sum(c.level == 0 for c in comments)
        self.assertTrue(300 <= top_level <= 500, top_level)
        by_pk = {c.pk: c for c in comments}
        answered = {c.parent_id for c in comments if c.level}
        hidden = [c for c in comments if not c.is_visible]
        self.assertTrue(0 < len(hidden) < 30, len(hidden))
        self.assertFalse(answered & {c.pk for c in hidden})  # only unanswered ones
        for comment in comments:
            self.assertLessEqual(comment.level, 3)
            if comment.level:
                parent = by_pk[comment.parent_id]
                self.assertEqual(parent.level, comment.level - 1)
                self.assertGreater(comment.submit_date, parent.submit_date)
            self.assertGreater(comment.submit_date, self.big.published_at)
            self.assertFalse(comment.followup)
        self.assertEqual(thread_columns(comments), places(comments))

    def test_a_reply_through_the_library_fits_the_seeded_thread(self):
        parent = next(
            c for c in comments_of(self.big) if c.level == 1 and c.nested_count and c.is_visible
        )
        reply = Comment(
            content_type=parent.content_type,
            object_pk=parent.object_pk,
            site=parent.site,
            user_name="A real reader",
            user_email="reader@example.org",
            comment="A reply.",
            submit_date=london(2024, 1, 1),
            parent_id=parent.pk,
        )
        reply.save()
        thread = list(Comment.objects.filter(thread_id=parent.thread_id).order_by("pk"))
        orders = [c.order for c in thread]
        self.assertEqual(sorted(orders), list(range(1, len(thread) + 1)))
        self.assertEqual(thread_columns(thread), places(thread))
        self.assertEqual(thread[-1], reply)

    def test_search_finds_a_demo_post(self):
        post = demo_posts().filter(status=Post.Status.PUBLISHED).exclude(pk=self.big.pk).first()
        results = Results(parse_query(post.title))
        self.assertIn(post, results[0 : results.count()])

    def test_the_pages_render(self):
        home = self.client.get("/")
        self.assertEqual(home.status_code, 200)
        self.assertContains(home, demo_posts().published().first().title)
        response = self.client.get(self.big.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, self.big.title)
        self.assertEqual(self.client.get("/tags/workforce/").status_code, 200)
