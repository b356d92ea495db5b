"""The one write path of a post (blog.writing): whoever writes a post with its
references and tags, its body is rendered, its search document written and the page
cache's token renewed once, after everything is saved."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from taggit.models import Tag

from blog import markup, revisions
from blog.models import Author, ContentVersion, Post, Reference, SearchDocument
from blog.pagecache import current_token
from blog.writing import post_writes, save_post

from .factories import admin_post_form, make_post, make_staff, make_user

ADD_URL = reverse("admin:blog_post_add")
# 40, and 2 for the revision (blog.revisions.record): one insert of the revision, one of
# the versions of the post, its references and its taggings; and 1 for the images the
# body shows (blog.media.record_uses: the delete of the post's rows; none to insert).
MAX_ADMIN_QUERIES = 43
# Statements, as the database gets them, whatever code sends them.
TOKEN_RENEWAL = re.compile(
    r'^(UPDATE "blog_contentversion" SET .*"token" = |INSERT INTO "blog_contentversion")'
)
INDEX_WRITE = re.compile(r'^INSERT INTO "blog_searchdocument"')


@dataclass
class Writes:
    queries: int = 0
    renders: int = 0
    index_writes: int = 0
    renewals: int = 0
    statements: list[str] | None = None


@contextmanager
def counted() -> Iterator[Writes]:
    """Count the statements, the Markdown renders, the search-index writes and the
    page-cache token renewals of the block."""
    writes = Writes()
    render = mock.Mock(wraps=markup.render_markdown)
    with (
        mock.patch("blog.writing.render_markdown", render),
        mock.patch("blog.models.posts.render_markdown", render),
        CaptureQueriesContext(connection) as queries,
    ):
        yield writes
    statements = [query["sql"] for query in queries.captured_queries]
    writes.queries = len(statements)
    writes.statements = statements
    writes.renders = render.call_count
    writes.index_writes = sum(bool(INDEX_WRITE.match(sql)) for sql in statements)
    writes.renewals = sum(bool(TOKEN_RENEWAL.match(sql)) for sql in statements)


def references_form(post: Post, **changes: str) -> dict[str, str]:
    """The admin's change form of ``post`` as the page sends it, with ``changes``."""
    references = list(post.references.all())
    data = admin_post_form(
        post.author,
        references=(),
        title=post.title,
        body=post.body,
        tags=", ".join(sorted(post.tags.values_list("name", flat=True))),
        slug=post.slug,
    )
    data["references-TOTAL_FORMS"] = str(len(references))
    data["references-INITIAL_FORMS"] = str(len(references))
    for i, ref in enumerate(references):
        data.update({
            f"references-{i}-id": str(ref.pk), f"references-{i}-post": str(post.pk),
            f"references-{i}-number": str(ref.number),
            f"references-{i}-citation": ref.citation, f"references-{i}-url": ref.url,
        })  # fmt: skip
    data.update(changes)
    return data


class AdminWriteTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor")
        # An author who has written before: their first post would also make their
        # profile (blog.models.authors, 3 statements), once.
        Author.objects.ensure_for({cls.staff.pk})

    def setUp(self):
        self.client.force_login(self.staff)
        # As in a process that has served a page: the content types the revisions name
        # are read once and kept (ContentType's own cache).
        ContentType.objects.get_for_models(*revisions.EXCLUDED_FIELDS)
        current_token()  # the version row exists, as on any site that has served a page

    def test_adding_a_post_with_two_references_and_three_new_tags_is_one_write(self):
        data = admin_post_form(
            self.staff,
            title="Retention, again",
            body="Vacancies rose [1], and turnover too [2].",
            tags="mandatory reporting, Ofsted, workforce",
            references=((1, "Workforce statistics, 2014", "https://example.org/stats"),
                        (2, "A second source", "")),
        )  # fmt: skip
        with counted() as writes:
            response = self.client.post(ADD_URL, data)
        self.assertRedirects(response, reverse("admin:blog_post_changelist"))
        self.assertEqual(Tag.objects.count(), 3)
        self.assertEqual(writes.renders, 1)
        self.assertEqual(writes.index_writes, 1)
        self.assertEqual(writes.renewals, 1)
        self.assertLessEqual(writes.queries, MAX_ADMIN_QUERIES, "\n".join(writes.statements))

        # What the one pass made is what readers need: both markers linked, the
        # references' citations and the tags in the search document.
        post = Post.objects.get()
        self.assertIn('href="#ref-1"', post.body_html)
        self.assertIn('href="#ref-2"', post.body_html)
        document = SearchDocument.objects.get(post=post)
        self.assertEqual(document.tags, "Ofsted, mandatory reporting, workforce")
        self.assertEqual(document.citations, "Workforce statistics, 2014\nA second source")

    def test_editing_only_a_reference_is_one_write(self):
        post = make_post(
            "Retention", "Vacancies rose [1], and turnover too [2].", author=self.staff,
            tags=["Ofsted", "workforce"], references={1: "First source", 2: "Second source"},
        )  # fmt: skip
        token = ContentVersion.objects.get().token
        url = reverse("admin:blog_post_change", args=[post.pk])
        with counted() as writes:
            response = self.client.post(url, references_form(post, **{
                "references-1-citation": "Second source, revised edition",
            }))  # fmt: skip
        self.assertRedirects(response, reverse("admin:blog_post_changelist"))
        self.assertLessEqual(writes.renders, 1)
        self.assertEqual(writes.index_writes, 1)
        self.assertEqual(writes.renewals, 1)
        self.assertLessEqual(writes.queries, MAX_ADMIN_QUERIES, "\n".join(writes.statements))
        self.assertNotEqual(ContentVersion.objects.get().token, token)
        self.assertEqual(
            SearchDocument.objects.get(post=post).citations,
            "First source\nSecond source, revised edition",
        )

    def test_a_refused_form_writes_nothing(self):
        data = admin_post_form(self.staff, **{"references-0-number": "0"})
        token = ContentVersion.objects.get().token
        with counted() as writes:
            response = self.client.post(ADD_URL, data)
        self.assertEqual(response.status_code, 200)
        self.assertEqual((writes.renders, writes.index_writes, writes.renewals), (0, 0, 0))
        self.assertFalse(Post.objects.exists())
        self.assertEqual(ContentVersion.objects.get().token, token)


class PathTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.author = make_user("writer")

    def setUp(self):
        current_token()

    def test_save_post_writes_a_post_with_its_references_and_tags_once(self):
        post = Post(title="Caseloads", body="Too high [1].", author=self.author)
        with counted() as writes:
            save_post(
                post, references=[Reference(number=1, citation="A survey")], tags=["workforce"]
            )
        self.assertEqual((writes.renders, writes.index_writes, writes.renewals), (1, 1, 1))
        # The writer's own copy carries the HTML readers get.
        self.assertIn('href="#ref-1"', post.body_html)
        self.assertEqual(Post.objects.get().body_html, post.body_html)
        self.assertEqual(SearchDocument.objects.get(post=post).citations, "A survey")

    def test_many_posts_in_one_scope_are_indexed_in_one_write_and_announced_once(self):
        with counted() as writes, post_writes() as scope:
            for n in range(5):
                post = Post.objects.create(title=f"Post {n}", body="Text.", author=self.author)
                post.tags.add("Ofsted")
                Reference.objects.create(post=post, number=1, citation=f"Source {n}")
            self.assertEqual(len(scope), 5)
            # Nothing is derived before the scope closes.
            self.assertFalse(SearchDocument.objects.exists())
        self.assertEqual(writes.renders, 5)
        self.assertEqual(writes.index_writes, 1)
        self.assertEqual(writes.renewals, 1)
        self.assertEqual(SearchDocument.objects.count(), 5)

    def test_a_scope_that_fails_leaves_nothing_behind(self):
        token = ContentVersion.objects.get().token
        with self.assertRaises(RuntimeError), post_writes():
            Post.objects.create(title="Half", body="Text.", author=self.author)
            raise RuntimeError("the writer fails")
        self.assertFalse(Post.objects.exists())
        self.assertFalse(SearchDocument.objects.exists())
        self.assertEqual(ContentVersion.objects.get().token, token)

    def test_writes_outside_the_path_take_it_on_their_own(self):
        # A shell or a data migration: each write renders, indexes and renews by itself.
        post = Post.objects.create(title="From a shell", body="Cited [1].", author=self.author)
        self.assertNotIn('href="#ref-1"', post.body_html)
        Reference.objects.create(post=post, number=1, citation="A report")
        post.refresh_from_db()
        self.assertIn('href="#ref-1"', post.body_html)
        post.tags.add("workforce")
        self.assertEqual(SearchDocument.objects.get(post=post).tags, "workforce")
        Tag.objects.filter(name="workforce").get().delete()
        self.assertEqual(SearchDocument.objects.get(post=post).tags, "")
        Reference.objects.get().delete()
        post.refresh_from_db()
        self.assertNotIn('href="#ref-1"', post.body_html)

    def test_a_renamed_tag_reindexes_its_posts_in_one_pass(self):
        posts = [make_post(f"Post {n}", tags=["ofsted"], author=self.author) for n in range(3)]
        tag = Tag.objects.get()
        tag.name = "Ofsted"
        with counted() as writes:
            tag.save()
        self.assertEqual((writes.index_writes, writes.renewals), (1, 1))
        for post in posts:
            self.assertEqual(SearchDocument.objects.get(post=post).tags, "Ofsted")

    def test_the_fixture_loader_takes_the_path(self):
        with counted() as writes:
            call_command("load_april_2014", verbosity=0)
        posts = Post.objects.count()
        self.assertGreater(posts, 1)
        self.assertEqual(writes.renders, posts)
        self.assertEqual(writes.index_writes, 1)
        self.assertEqual(writes.renewals, 1)
        self.assertEqual(SearchDocument.objects.count(), posts)


class OtherWritersTests(TestCase):
    """A restore and the demo data write in bulk, through the same path."""

    def setUp(self):
        current_token()

    def test_a_restore_renders_indexes_and_announces_once(self):
        for n in range(3):
            make_post(f"Post {n}", "Cited [1].", tags=["Ofsted"], references={1: f"Source {n}"})
        directory = Path(self.enterContext(tempfile.TemporaryDirectory()))
        call_command("backup", output=directory / "backups", stdout=StringIO())
        (path,) = (directory / "backups").glob("*.jsonl.gz")
        with counted() as writes:
            call_command("restore", str(path), output=directory / "copies",
                         interactive=False, stdout=StringIO())  # fmt: skip
        self.assertEqual((writes.renders, writes.index_writes, writes.renewals), (3, 1, 1))
        self.assertEqual(SearchDocument.objects.count(), 3)
        self.assertTrue(all('href="#ref-1"' in post.body_html for post in Post.objects.all()))

    def test_the_demo_data_renders_indexes_and_announces_once(self):
        with counted() as writes:
            call_command("seed_demo", posts=12, comments=150, seed=7, stdout=StringIO())
        self.assertEqual((writes.renders, writes.index_writes, writes.renewals), (12, 1, 1))
        self.assertEqual(SearchDocument.objects.count(), 12)


    def test_rebuilding_the_search_index_takes_the_path(self):
        for n in range(3):
            make_post(f"Post {n}", tags=["Ofsted"])
        SearchDocument.objects.all().delete()
        with counted() as writes:
            call_command("rebuild_search_index", stdout=StringIO())
        # Cached search results change with the index: the token is renewed too.
        self.assertEqual((writes.renders, writes.index_writes, writes.renewals), (3, 1, 1))
        self.assertEqual(SearchDocument.objects.count(), 3)


class TokenRenewalTests(TestCase):
    """The page cache's token changes at most once per transaction, whatever is
    written in it, and again in the next one."""

    def setUp(self):
        self.author = make_user("writer")
        current_token()

    def token(self) -> str:
        return ContentVersion.objects.get().token

    def test_once_per_transaction_whatever_is_written(self):
        before = self.token()
        with counted() as writes, transaction.atomic():
            post = make_post("One", author=self.author)
            make_post("Two", author=self.author, tags=["Ofsted"])
            post.author.first_name = "Renamed"
            post.author.save()
            Post.objects.filter(pk=post.pk).update(allow_comments=False)
        self.assertEqual(writes.renewals, 1)
        self.assertNotEqual(self.token(), before)

    def test_each_transaction_renews_its_own(self):
        tokens = {self.token()}
        for n in range(3):
            with transaction.atomic():
                make_post(f"Post {n}", author=self.author)
            tokens.add(self.token())
        self.assertEqual(len(tokens), 4)

    def test_a_renewal_rolled_back_with_its_savepoint_is_made_again(self):
        before = self.token()
        with transaction.atomic():
            try:
                with transaction.atomic():
                    make_post("Rolled back", author=self.author)
                    raise RuntimeError
            except RuntimeError:
                pass
            self.assertEqual(self.token(), before)
            make_post("Kept", author=self.author)
            self.assertNotEqual(self.token(), before)
