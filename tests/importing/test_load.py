"""The writer (blog.importing.load): records built here, written into the test database."""

from __future__ import annotations

import datetime
from dataclasses import replace
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from taggit.models import Tag

from blog import writing
from blog.importing.load import HELD_ON_OLD_BLOG, PAGE_COMMENTS, load
from blog.importing.records import (
    CommentStatus,
    ImportFileError,
    Kind,
    OldAddress,
    Position,
    PostStatus,
    SourceAuthor,
    SourceBlog,
    SourceComment,
    SourceNote,
    SourcePost,
)
from blog.importing.report import Outcome
from blog.models import Comment, ContentVersion, Page, Post, Redirect, SearchDocument
from tests.factories import london, make_post, make_staff, make_user
from tests.reliability.checks import tree_problems

pytestmark = pytest.mark.django_db

BLOG = SourceBlog("blogger", "The old blog", "https://old.example.org/")
JANE = SourceAuthor("author-1", "jane", "Jane Q Writer", "jane@example.org")
START = london(2014, 4, 1, 9)


def post(n: int, **fields) -> SourcePost:
    values = {
        "source_id": f"blogger:post-{n}",
        "position": Position(n, 10 * n),
        "is_page": False,
        "title": f"Post {n}",
        "body": f"Body of post {n} [1].",
        "status": PostStatus.PUBLISHED,
        "published_at": START + datetime.timedelta(days=n),
        "updated_at": START + datetime.timedelta(days=n, hours=1),
        "author_key": JANE.key,
        "slug": f"post-{n}",
        "tags": ("Ofsted",),
        "notes": (SourceNote(1, "A citation", "https://example.org/1"),),
    }
    return SourcePost(**{**values, **fields})


def comment(n: int, post_n: int = 1, parent: int | None = None, **fields) -> SourceComment:
    values = {
        "source_id": f"blogger:comment-{n}",
        "position": Position(1000 + n),
        "post_source_id": f"blogger:post-{post_n}",
        "parent_source_id": "" if parent is None else f"blogger:comment-{parent}",
        "status": CommentStatus.APPROVED,
        "submit_date": START + datetime.timedelta(days=post_n, hours=2, minutes=n),
        "text": f"Comment {n}",
        "author_name": f"Reader {n}",
        "author_email": f"reader{n}@example.org",
        "ip_address": "192.0.2.1",
    }
    return SourceComment(**{**values, **fields})


def comments_of(source_n: int) -> list[Comment]:
    """A post's comments in the order they were written."""
    post = Post.objects.get(source_id=f"blogger:post-{source_n}")
    return list(Comment.objects.for_post(post).order_by("submit_date", "pk"))


def columns(comments: list[Comment]) -> list[tuple[int, int, int, int, int]]:
    """The thread columns, ids replaced by positions in ``comments``."""
    index = {c.pk: i for i, c in enumerate(comments)}
    return [
        (index[c.thread_id], index[c.parent_id], c.level, c.order, c.nested_count) for c in comments
    ]


def saved_one_by_one(parents: list[int | None]) -> list[Comment]:
    """The same discussion saved through django-comments-xtd, a comment at a time."""
    target = make_post("Saved by the library")
    common = {
        "content_type": ContentType.objects.get_for_model(Post),
        "object_pk": str(target.pk),
        "site": Site.objects.get_current(),
    }
    saved: list[Comment] = []
    for i, parent in enumerate(parents):
        c = Comment(
            **common,
            user_name="R",
            comment=str(i),
            submit_date=START + datetime.timedelta(minutes=i),
            parent_id=0 if parent is None else saved[parent].pk,
        )
        c.save()
        saved.append(c)
    return list(Comment.objects.for_post(target).order_by("submit_date", "pk"))


def rows(comments: list[Comment]) -> list[dict]:
    return [
        {"id": c.pk, "thread_id": c.thread_id, "parent_id": c.parent_id, "level": c.level,
         "order": c.order}
        for c in comments
    ]  # fmt: skip


def counts(report) -> dict:
    return {key: n for key, n in report.counts.items() if n}


def test_created_then_unchanged_then_updated():
    records = [BLOG, JANE, post(1), post(2), comment(1), comment(2, parent=1)]
    first = load(records)
    assert first.get("posts", Outcome.CREATED) == 2
    assert first.get("comments", Outcome.CREATED) == 2
    assert first.get("authors", Outcome.CREATED) == 1
    imported = Post.objects.get(source_id="blogger:post-1")
    assert (imported.slug, imported.title, imported.author.username) == ("post-1", "Post 1", "jane")
    assert imported.published_at == START + datetime.timedelta(days=1)
    assert imported.updated_at == START + datetime.timedelta(days=1, hours=1)
    assert [r.number for r in imported.references.all()] == [1]
    assert 'href="#ref-1"' in imported.body_html

    # Staff edit it here; the export did not change it: it stays as staff left it.
    Post.objects.filter(pk=imported.pk).update(title="Edited here")
    second = load(records)
    assert second.changes == 0
    assert second.get("posts", Outcome.UNCHANGED) == 2
    assert second.get("comments", Outcome.UNCHANGED) == 2
    assert second.get("authors", Outcome.UNCHANGED) == 1
    assert Post.objects.get(pk=imported.pk).title == "Edited here"

    changed = [BLOG, JANE, post(1, title="New title", notes=()), post(2), comment(1, text="New")]
    third = load([*changed, comment(2, parent=1), comment(3, parent=2)])
    assert third.get("posts", Outcome.UPDATED) == 1
    assert third.get("comments", Outcome.UPDATED) == 1
    assert third.get("comments", Outcome.CREATED) == 1
    assert third.get("threads", Outcome.UPDATED) == 1
    imported.refresh_from_db()
    assert (imported.title, imported.slug, imported.references.count()) == (
        "New title",
        "post-1",
        0,
    )
    assert [c.comment for c in comments_of(1)] == ["New", "Comment 2", "Comment 3"]
    assert columns(comments_of(1)) == [(0, 0, 0, 1, 2), (0, 0, 1, 2, 1), (0, 1, 2, 3, 0)]
    assert Post.objects.count() == 2


def test_a_dry_run_writes_nothing_and_reports_the_same():
    records = [BLOG, JANE, post(1), comment(1), comment(2, parent=1)]
    version = ContentVersion.objects.values_list("token", flat=True).first()
    with mock.patch.object(writing, "render_markdown", wraps=writing.render_markdown) as render:
        dry = load(records, dry_run=True)
    assert render.call_count == 0
    assert dry.dry_run
    assert (Post.objects.count(), Comment.objects.count(), Tag.objects.count()) == (0, 0, 0)
    assert not get_user_model().objects.filter(username="jane").exists()
    assert ContentVersion.objects.values_list("token", flat=True).first() == version
    assert counts(load(records)) == counts(dry)


def test_a_failing_reader_halfway_leaves_the_site_as_it_was():
    def records():
        yield BLOG
        yield JANE
        yield post(1)
        yield comment(1)
        raise ImportFileError("item 3, line 30: the file ends in the middle of an entry")

    with pytest.raises(ImportFileError, match="line 30"):
        load(records())
    assert (Post.objects.count(), Comment.objects.count()) == (0, 0)
    assert not get_user_model().objects.filter(username="jane").exists()


def test_a_write_the_database_refuses_says_where_and_writes_nothing():
    # A comment with no date: the database refuses its row, after the post was written.
    records = [BLOG, JANE, post(1), comment(1), comment(2, submit_date=None)]
    with pytest.raises(ImportFileError, match=r"item 1002 \(blogger:comment-2\)") as error:
        load(records)
    assert "Nothing was imported" in str(error.value)
    assert (Post.objects.count(), Comment.objects.count()) == (0, 0)
    assert not get_user_model().objects.filter(username="jane").exists()


def test_authors_cannot_sign_in_and_author_gives_every_post_to_one_account():
    load([BLOG, JANE, post(1)])
    jane = get_user_model().objects.get(username="jane")
    assert not jane.has_usable_password()
    assert (jane.first_name, jane.last_name, jane.email) == ("Jane Q", "Writer", "jane@example.org")
    assert not jane.is_staff

    editor = make_user("editor")
    report = load(
        [BLOG, SourceAuthor("author-2", "bob", "Bob"), post(2, author_key="author-2"),
         comment(1, post_n=2, author_key="author-2")],
        author=editor,
    )  # fmt: skip
    assert report.get("authors", Outcome.CREATED) == 0
    assert not get_user_model().objects.filter(username="bob").exists()
    assert Post.objects.get(source_id="blogger:post-2").author == editor
    assert comments_of(2)[0].user == editor


def test_a_post_with_no_known_author_goes_to_the_first_superuser():
    owner = make_staff("owner")
    load([BLOG, post(1, author_key="")])
    assert Post.objects.get().author == owner


def test_a_post_with_no_author_and_no_superuser_refuses_the_file():
    with pytest.raises(ImportFileError, match="--author"):
        load([BLOG, post(1, author_key="")])
    assert not Post.objects.exists()


def test_tags_merge_case_insensitively_with_existing_ones():
    make_post("Here already", tags=["Ofsted"])
    report = load([BLOG, JANE, post(1, tags=("ofsted", "OFSTED", "Workforce"))])
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Ofsted", "Workforce"]
    assert report.get("tags", Outcome.CREATED) == 1
    assert report.get("tags", Outcome.UNCHANGED) == 1
    imported = Post.objects.get(source_id="blogger:post-1")
    assert sorted(t.name for t in imported.tags.all()) == ["Ofsted", "Workforce"]


def test_tags_beyond_ascii_merge_with_existing_ones_on_every_database():
    # SQLite's LOWER() leaves "É" as it is: the merge must not rely on it alone.
    make_post("Here already", tags=["Éducation"])
    load([BLOG, JANE, post(1, tags=("Éducation",)), post(2, tags=("éducation",))])
    assert list(Tag.objects.values_list("name", flat=True)) == ["Éducation"]
    assert Post.objects.filter(tags__name="Éducation").count() == 3


def test_threads_as_the_library_saves_them_deep_ones_flattened_in_order():
    # 1 ← 2 ← 3 ← 4 (three deep); 5 ← 6 ← 7 ← 8 ← 9 ← 10 (five deep); 11 a reply to
    # 2 written after the deep ones. Listed newest first, as Blogger may.
    parents = {1: None, 2: 1, 3: 2, 4: 3, 5: None, 6: 5, 7: 6, 8: 7, 9: 8, 10: 9, 11: 2}
    records = [comment(n, parent=p) for n, p in reversed(parents.items())]
    report = load([BLOG, JANE, post(1), *records])
    assert report.get("threads", Outcome.CREATED) == 2
    stored = comments_of(1)
    assert [c.comment for c in stored] == [f"Comment {n}" for n in parents]
    # 9 and 10 are too deep: they answer 7 (level 2, the deepest a reply can go
    # under), after 8, in the order written.
    expected_parents = [None, 0, 1, 2, None, 4, 5, 6, 6, 6, 1]
    library = saved_one_by_one(expected_parents)
    assert columns(stored) == columns(library)
    assert max(c.level for c in stored) == 3
    assert tree_problems(rows(stored)) == []


def test_replies_to_left_out_comments_go_under_their_nearest_imported_ancestor():
    records = [
        comment(1),
        comment(2, parent=1, status=CommentStatus.SPAM),
        comment(3, parent=2),
        comment(4, parent=99),  # a parent the file does not hold
        comment(5, status=CommentStatus.TRASH),
        comment(6, status=CommentStatus.PENDING),
        comment(7, post_n=8),  # a post that is not in the file
    ]
    report = load([BLOG, JANE, post(1), *records])
    stored = {c.comment: c for c in comments_of(1)}
    assert set(stored) == {"Comment 1", "Comment 3", "Comment 4", "Comment 6"}
    assert stored["Comment 3"].parent_id == stored["Comment 1"].pk
    assert stored["Comment 4"].level == 0
    held = stored["Comment 6"]
    assert (held.is_public, held.hold_reasons) == (False, [HELD_ON_OLD_BLOG])
    assert stored["Comment 1"].is_public and stored["Comment 1"].ip_address == "192.0.2.1"
    reasons = report.skip_reasons()
    assert reasons["comment", "spam on the old blog"] == 1
    assert reasons["comment", "trash on the old blog"] == 1
    assert reasons["comment", "its post is not in the file"] == 1
    assert report.get("comments", Outcome.SKIPPED) == 3


def test_pages_become_standalone_pages_their_old_addresses_leading_to_them():
    about = post(5, is_page=True, title="About", body="About **us**.", slug="about",
                 old_addresses=(OldAddress("/p/about.html", Kind.PAGE),))  # fmt: skip
    # A page whose old slug is one of the site's own addresses, and a draft.
    search = post(6, is_page=True, title="Search", slug="search")
    draft = post(7, is_page=True, title="Soon", slug="soon", status=PostStatus.DRAFT)
    report = load([BLOG, JANE, about, search, draft, comment(1, post_n=5)])
    assert report.get("pages", Outcome.CREATED) == 3
    assert report.skip_reasons()["comment", f"its post was not imported ({PAGE_COMMENTS})"] == 1
    assert not Post.objects.exists()
    page = Page.objects.get(source_id="blogger:post-5")
    assert (page.slug, page.status) == ("about", Page.Status.PUBLISHED)
    assert "<strong>us</strong>" in page.body_html
    assert Page.objects.get(source_id="blogger:post-6").slug == "search-2"
    assert Page.objects.get(source_id="blogger:post-7").status == Page.Status.DRAFT
    assert Redirect.objects.get(old_path="/p/about.html").target_path() == "/about/"
    # Again: nothing changes.
    again = load([BLOG, JANE, about, search, draft])
    assert again.get("pages", Outcome.UNCHANGED) == 3
    assert Page.objects.count() == 3


def test_a_comment_by_the_blogs_author_is_theirs():
    load([BLOG, JANE, post(1), comment(1, author_key=JANE.key)])
    assert comments_of(1)[0].user.username == "jane"


def test_old_addresses_of_every_kind():
    Redirect.objects.create(old_path="/feed/", new_path="/somewhere/")  # by hand
    addresses = (
        OldAddress("/2014/04/post-1.html", Kind.POST),
        OldAddress("/search/label/Ofsted", Kind.TAG, "Ofsted"),
        OldAddress("/feeds/posts/default", Kind.FEED),
        OldAddress("/comments/feed/", Kind.COMMENTS_FEED),
        OldAddress("/author/jane/", Kind.AUTHOR, JANE.key),
        OldAddress("/home/", Kind.HOME),
        OldAddress("/feed/", Kind.FEED),
    )
    report = load([BLOG, JANE, post(1, old_addresses=addresses)])
    targets = {r.old_path: r.target_path() for r in Redirect.objects.all()}
    imported = Post.objects.get()
    assert targets == {
        "/2014/04/post-1.html": imported.get_absolute_url(),
        "/search/label/Ofsted": "/tags/ofsted/",
        "/feeds/posts/default": "/feeds/atom/",
        "/comments/feed/": "/feeds/comments/",
        "/author/jane/": "/authors/jane-q-writer/",  # the imported author's page
        "/home/": "/",
        "/feed/": "/somewhere/",
    }
    assert report.get("redirects", Outcome.CREATED) == 6
    assert report.skip_reasons()["redirect", "made here by hand; left as it is"] == 1
    again = load([BLOG, JANE, post(1, old_addresses=addresses)])
    assert again.get("redirects", Outcome.UNCHANGED) == 6
    assert again.get("redirects", Outcome.CREATED) == 0


def test_slugs_taken_are_made_unique():
    make_post("Here", slug="post-1")
    load([BLOG, JANE, post(1), post(2, slug="post-1"), post(3, slug="", title="")])
    slugs = sorted(Post.objects.filter(source_id__startswith="b").values_list("slug", flat=True))
    assert slugs == ["body-of-post-3", "post-1-2", "post-1-3"]


def test_rendering_indexing_and_the_page_cache_once():
    records = [BLOG, JANE, *[post(n) for n in range(1, 6)], comment(1), comment(2)]
    with (
        mock.patch.object(writing, "render_markdown", wraps=writing.render_markdown) as render,
        mock.patch.object(writing.search, "index_posts", wraps=writing.search.index_posts) as index,
        CaptureQueriesContext(connection) as queries,
    ):
        load(records)
    token_writes = [
        q["sql"]
        for q in queries.captured_queries
        if "contentversion" in q["sql"].lower() and not q["sql"].upper().startswith("SELECT")
    ]
    assert len(token_writes) == 1, token_writes
    assert render.call_count == 5
    assert index.call_count == 1
    assert SearchDocument.objects.count() == 5


def test_the_number_of_queries_does_not_grow_with_the_export():
    def export(n_posts: int, per_post: int, offset: int) -> list:
        records = [BLOG, JANE]
        for p in range(offset, offset + n_posts):
            records.append(post(p))
        for p in range(offset, offset + n_posts):
            for c in range(per_post):
                n = p * 100 + c
                parent = None if c % 3 == 0 else p * 100 + c - 1
                records.append(comment(n, post_n=p, parent=parent))
        return records

    with CaptureQueriesContext(connection) as small:
        load(export(5, 10, 1))
    with CaptureQueriesContext(connection) as large:
        load(export(50, 10, 100))
    assert Comment.objects.count() == 550
    assert len(large) < 80, len(large)
    assert len(large) - len(small) < 15, (len(small), len(large))


def test_a_field_too_long_is_refused_with_its_place():
    with pytest.raises(ImportFileError, match="item 1, line 10"):
        load([BLOG, JANE, replace(post(1), title="x" * 201)])
