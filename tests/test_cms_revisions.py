"""Revisions of posts (blog.revisions, blog.admin_revisions): every save through the
write path keeps one, with who, when and the whole content; the admin lists them,
compares any two, and restores one through the write path (rendered, indexed, the page
cache renewed, itself a new revision). No revision holds a commenter's data."""

from __future__ import annotations

import json

import time_machine
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import TestCase
from django.urls import reverse
from reversion.models import Revision, Version
from taggit.models import Tag

from blog.models import Post, Reference, TaggedPost
from blog.pagecache import current_token
from blog.revisions import versions_of
from blog.writing import save_post

from .factories import london, make_post, make_staff, make_user
from .html import soup, text, texts
from .test_backup import BackupTestCase, add_comment
from .test_search import found

OLD_WORD = "quinquennial"  # only in the first version's body


def revisions_url(post: Post) -> str:
    return reverse("admin:blog_post_revisions", args=[post.pk])


def compare_url(post: Post, old: Version | str, new: Version | str = "current") -> str:
    url = reverse("admin:blog_post_revisions_compare", args=[post.pk])
    return f"{url}?from={getattr(old, 'pk', old)}&to={getattr(new, 'pk', new)}"


def restore_url(post: Post, version: Version) -> str:
    return reverse("admin:blog_post_revisions_restore", args=[post.pk, version.pk])


def edit(post: Post, user, *, title: str, body: str, references: dict[int, str],
         tags: list[str], **fields) -> Post:  # fmt: skip
    """A save through the write path, as the admin's is: by ``user``."""
    post = Post.objects.get(pk=post.pk)
    post.title, post.body = title, body
    for name, value in fields.items():
        setattr(post, name, value)
    refs = [Reference(number=n, citation=c) for n, c in references.items()]
    return save_post(post, references=refs, tags=tags, user=user)


class RevisionTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor", first_name="Eve", last_name="Editor")
        with time_machine.travel(london(2024, 3, 1, 9), tick=False):
            cls.post = make_post(
                "Thresholds",
                f"A {OLD_WORD} review [1].\nSecond line.\nThird line.",
                author=cls.staff,
                published_at=london(2024, 2, 1, 9),
                tags=["Ofsted", "thresholds"],
                references={1: "Munro (2011).", 2: "Laming (2009)."},
            )
        with time_machine.travel(london(2024, 3, 2, 10), tick=False):
            edit(cls.post, cls.staff, title="Thresholds, revised",
                 body="A fresh review [1].\nSecond line.\nThird line.",
                 references={1: "Munro (2011).", 3: "Ofsted (2023)."},
                 tags=["Ofsted", "workforce"], status=Post.Status.DRAFT)  # fmt: skip
        cls.first, cls.second = sorted(versions_of(cls.post), key=lambda v: v.pk)

    def setUp(self):
        self.client.force_login(self.staff)


class RecordingTests(RevisionTestCase):
    def test_every_save_keeps_who_when_and_the_whole_content(self):
        revision = self.second.revision
        assert revision.user == self.staff
        assert revision.date_created == london(2024, 3, 2, 10)
        assert self.first.revision.user is None  # make_post names nobody
        parts = [
            (v.content_type.model, v.field_dict.get("number"), v.field_dict.get("name"))
            for v in revision.version_set.all()
        ]
        assert ("post", None, None) in parts
        assert {("reference", 1, None), ("reference", 3, None)} <= set(parts)
        assert {("tag", None, "Ofsted"), ("tag", None, "workforce")} <= set(parts)
        assert sum(1 for p in parts if p[0] == "taggedpost") == 2
        fields = self.second.field_dict
        assert fields["title"] == "Thresholds, revised"
        assert fields["body"].startswith("A fresh review")
        assert fields["status"] == Post.Status.DRAFT
        assert fields["published_at"] == london(2024, 2, 1, 9)
        assert "updated_at" in fields
        assert "body_html" not in fields  # derived: made again on a restore

    def test_no_revision_holds_a_commenters_data(self):
        reader = make_user("reader", email="reader@example.org")
        add_comment(self.post, comment="A private worry.", user=reader, user_name="Ann Reader",
                    user_email="ann@example.org")  # fmt: skip
        edit(self.post, self.staff, title="Again", body="Body.", references={}, tags=[])
        models = set(Version.objects.values_list("content_type__model", flat=True))
        assert models == {"post", "reference", "taggedpost", "tag"}
        for data in Version.objects.values_list("serialized_data", flat=True):
            assert "A private worry" not in data
            assert "ann@example.org" not in data and "Ann Reader" not in data
            assert "comments" not in json.loads(data)[0]["fields"]


class ListTests(RevisionTestCase):
    def test_the_list_shows_when_who_and_why_with_links(self):
        response = self.client.get(revisions_url(self.post))
        assert response.status_code == 200
        page = soup(response)
        rows = page.select(".revisions__table tbody tr")
        assert [text(row.th) for row in rows] == ["2 Mar 2024, 10:00", "1 Mar 2024, 09:00",
                                                   "Current version"]  # fmt: skip
        assert "Eve Editor" in text(rows[0])
        assert rows[0].select_one("a.revisions__restore")["href"] == restore_url(
            self.post, self.second
        )
        assert "Restore the revision of 2 Mar 2024, 10:00" in texts(rows[0], "a")
        assert f"from={self.first.pk}&to=current" in rows[1].select("a")[0]["href"]
        assert "Revisions" in texts(page, ".breadcrumbs")[0]

    def test_the_list_is_paged(self):
        from unittest import mock

        from blog.admin import PostAdmin

        with mock.patch.object(PostAdmin, "revisions_per_page", 1):
            first = soup(self.client.get(revisions_url(self.post)))
            second = soup(self.client.get(revisions_url(self.post), {"page": 2}))
        assert texts(first, ".revisions__table tbody th")[0] == "2 Mar 2024, 10:00"
        assert texts(second, ".revisions__table tbody th")[0] == "1 Mar 2024, 09:00"
        assert "Page 2 of 2 (2 revisions)" in texts(second, ".paginator")[0]

    def test_the_change_form_links_to_the_revisions_beside_history(self):
        response = self.client.get(reverse("admin:blog_post_change", args=[self.post.pk]))
        tools = soup(response).select(".object-tools a")
        assert revisions_url(self.post) in [a["href"] for a in tools]
        assert "History" in [text(a) for a in tools]

    def test_query_counts_do_not_grow_with_revisions_or_references(self):
        def count(url: str) -> int:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as queries:
                assert self.client.get(url).status_code == 200
            return len(queries)

        small = (count(revisions_url(self.post)), count(compare_url(self.post, self.first)),
                 count(compare_url(self.post, self.first, self.second)))  # fmt: skip
        for i in range(4):
            edit(self.post, self.staff, title=f"Edit {i}", body=f"Body {i}.",
                 references={n: f"Source {n}" for n in range(1, 6 + i)},
                 tags=[f"tag {n}" for n in range(i + 3)])  # fmt: skip
        latest = versions_of(self.post).first()
        large = (count(revisions_url(self.post)), count(compare_url(self.post, self.first)),
                 count(compare_url(self.post, self.first, latest)))  # fmt: skip
        assert large == small


class CompareTests(RevisionTestCase):
    def test_the_diff_shows_title_body_references_and_tags(self):
        response = self.client.get(compare_url(self.post, self.first, self.second))
        assert response.status_code == 200
        page = soup(response)
        fields = {text(row.th): [text(td) for td in row.select("td")]
                  for row in page.select(".revisions__fields tbody tr")}  # fmt: skip
        assert fields["Title"] == ["Thresholds", "Thresholds, revised"]
        assert fields["Status"] == ["Published", "Draft"]
        assert texts(page, ".diff .diff__removed .diff__text") == [
            f"Removed: A {OLD_WORD} review [1]."
        ]
        assert texts(page, ".diff .diff__added .diff__text") == ["Added: A fresh review [1]."]
        assert "Second line." in texts(page, ".diff .diff__context .diff__text")
        items = texts(page, ".revisions__list li")
        assert "Removed [2] Laming (2009)." in items
        assert "Added [3] Ofsted (2023)." in items
        assert "Removed thresholds" in items and "Added workforce" in items

    def test_html_in_a_body_is_shown_escaped(self):
        edit(self.post, self.staff, title="<b>Bold</b>", body="<script>alert(1)</script>",
             references={1: "<img src=x onerror=alert(1)>"}, tags=["<i>tag</i>"])  # fmt: skip
        response = self.client.get(compare_url(self.post, self.first))
        html = response.content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x" not in html and "<b>Bold</b>" not in html
        assert "<i>tag</i>" not in html and "&lt;i&gt;tag&lt;/i&gt;" in html

    def test_a_version_of_another_post_is_not_found(self):
        other = make_post("Another", author=self.staff)
        theirs = versions_of(other).first()
        assert self.client.get(compare_url(self.post, theirs)).status_code == 404
        assert self.client.get(restore_url(self.post, theirs)).status_code == 404
        assert self.client.post(restore_url(self.post, theirs)).status_code == 404
        assert self.client.get(compare_url(self.post, "nonsense")).status_code == 400

    def test_an_id_beyond_what_the_database_holds_is_not_found(self):
        # SQLite raises OverflowError (a 500) when asked for a number this large.
        huge = "9" * 25
        base = revisions_url(self.post)
        assert self.client.get(f"{base}compare/?from={huge}&to=current").status_code == 404
        assert self.client.get(f"{base}compare/?from={self.first.pk}&to={huge}").status_code == 404
        assert self.client.post(f"{base}{huge}/restore/").status_code == 404


class RestoreTests(RevisionTestCase):
    def test_restore_puts_back_the_content_through_the_write_path(self):
        assert found(OLD_WORD) == []
        token = current_token()
        page = soup(self.client.get(restore_url(self.post, self.first)))
        assert "Thresholds, revised" in text(page.select_one(".revisions__fields"))

        with time_machine.travel(london(2024, 3, 3, 11), tick=False):
            response = self.client.post(restore_url(self.post, self.first))
        assert response.status_code == 302
        message = [str(m) for m in self.client.get(response.url).context["messages"]]
        assert message == ["“Thresholds” is restored from the revision of 1 Mar 2024, 09:00 by "
                           "a command."]  # fmt: skip
        post = Post.objects.get(pk=self.post.pk)
        assert post.title == "Thresholds" and post.status == Post.Status.PUBLISHED
        assert post.body.startswith(f"A {OLD_WORD} review [1].")
        assert OLD_WORD in post.body_html and 'href="#ref-1"' in post.body_html
        assert [(r.number, r.citation) for r in post.references.all()] == [
            (1, "Munro (2011)."), (2, "Laming (2009)."),
        ]  # fmt: skip
        assert sorted(post.tags.names()) == ["Ofsted", "thresholds"]
        assert found(OLD_WORD) == ["Thresholds"]  # reindexed
        assert current_token() != token  # the page cache renewed
        newest = versions_of(post).first()
        assert newest.revision.user == self.staff
        assert newest.revision.comment == (
            "Restored from the revision of 1 Mar 2024, 09:00 by a command"
        )
        assert newest.revision.date_created == london(2024, 3, 3, 11)
        assert Version.objects.get_for_object(post).count() == 3
        assert self.client.get(post.get_absolute_url()).status_code == 200

    def test_a_deleted_tag_comes_back(self):
        Tag.objects.filter(name="thresholds").delete()
        self.client.post(restore_url(self.post, self.first))
        assert sorted(Post.objects.get(pk=self.post.pk).tags.names()) == ["Ofsted", "thresholds"]

    def test_a_slug_taken_since_is_kept_as_it_is(self):
        old_slug = self.first.field_dict["slug"]
        post = Post.objects.get(pk=self.post.pk)
        post.slug = "moved"
        save_post(post)
        make_post("Squatter", slug=old_slug, author=self.staff)
        response = self.client.post(restore_url(self.post, self.first), follow=True)
        assert Post.objects.get(pk=self.post.pk).slug == "moved"
        assert "Kept as it was" in response.content.decode()

    def test_restore_by_get_changes_nothing(self):
        before = (Revision.objects.count(), Post.objects.get(pk=self.post.pk).title)
        assert self.client.get(restore_url(self.post, self.first)).status_code == 200
        assert self.client.put(restore_url(self.post, self.first)).status_code == 405
        assert (Revision.objects.count(), Post.objects.get(pk=self.post.pk).title) == before

    def test_restore_needs_the_csrf_token(self):
        self.client.handler.enforce_csrf_checks = True
        assert self.client.post(restore_url(self.post, self.first)).status_code == 403
        assert Post.objects.get(pk=self.post.pk).title == "Thresholds, revised"


class PermissionTests(RevisionTestCase):
    def test_readers_are_sent_to_sign_in(self):
        self.client.logout()
        self.client.force_login(make_user("reader"))
        for url in (revisions_url(self.post), compare_url(self.post, self.first),
                    restore_url(self.post, self.first)):  # fmt: skip
            assert self.client.get(url).status_code == 302
        assert self.client.post(restore_url(self.post, self.first)).status_code == 302
        assert Post.objects.get(pk=self.post.pk).title == "Thresholds, revised"

    def test_staff_without_the_change_permission_are_refused(self):
        viewer = make_user("viewer", is_staff=True)
        posts = ContentType.objects.get_for_model(Post)
        viewer.user_permissions.add(
            Permission.objects.get(codename="view_post", content_type=posts)
        )
        self.client.force_login(viewer)
        for url in (revisions_url(self.post), compare_url(self.post, self.first),
                    restore_url(self.post, self.first)):  # fmt: skip
            assert self.client.get(url).status_code == 403
        assert self.client.post(restore_url(self.post, self.first)).status_code == 403
        assert Post.objects.get(pk=self.post.pk).title == "Thresholds, revised"


class BackupTests(BackupTestCase):
    def test_revisions_survive_a_backup_and_a_restore(self):
        edit(self.post, self.staff, title="Retitled", body="New words.", references={},
             tags=["changed"])  # fmt: skip
        before = [(v.pk, v.revision.user_id, v.revision.comment, v.serialized_data)
                  for v in versions_of(self.post)]  # fmt: skip
        assert len(before) == 2
        path = self.back_up()
        Revision.objects.all().delete()
        self.restore(path)
        after = [(v.pk, v.revision.user_id, v.revision.comment, v.serialized_data)
                 for v in versions_of(Post.objects.get(pk=self.post.pk))]  # fmt: skip
        assert after == before
        assert TaggedPost.objects.filter(content_object_id=self.post.pk).count() == 1


class PageRevisionTests(TestCase):
    """The same code serves pages (their admin adds the mixin): a page's diff and restore."""

    def test_a_page_is_compared_and_restored(self):
        from blog.admin_revisions import Snapshot, diff, restore
        from blog.models import Page
        from blog.writing import save_page

        staff = make_staff()
        page = save_page(Page(title="About", slug="about", body="We are <b>social workers</b>."),
                         user=staff)  # fmt: skip
        page.title, page.body, page.in_navigation = "About us", "We write.", True
        save_page(page, user=staff)
        first = versions_of(page).last()
        first_snapshot = Snapshot.of_versions(Page, list(first.revision.version_set.all()))
        changes = diff(Page, Snapshot.of_object(page), first_snapshot)
        assert [(c.label, c.old, c.new) for c in changes.fields] == [
            ("Title", "About us", "About"), ("In the navigation", "Yes", "No"),
        ]  # fmt: skip
        assert [row[0] for row in changes.body] == ["removed", "added"]
        assert not changes.has_references

        page, _ = restore(page, first_snapshot, user=staff, reason="Back")
        assert (page.title, page.in_navigation) == ("About", False)
        assert page.body_html == "<p>We are social workers.</p>"  # rendered again
        assert versions_of(page).first().revision.comment == "Back"

    def test_a_pages_revisions_in_the_admin(self):
        from blog.models import Page
        from blog.writing import save_page

        staff = make_staff("pages")
        self.client.force_login(staff)
        page = save_page(Page(title="About", slug="about", body="First words."), user=staff)
        page.body = "Second words."
        save_page(page, user=staff)
        first = versions_of(page).last()
        revisions = reverse("admin:blog_page_revisions", args=[page.pk])
        change = self.client.get(reverse("admin:blog_page_change", args=[page.pk]))
        assert revisions in change.content.decode()  # the change form links to them
        assert len(soup(self.client.get(revisions)).select("tbody tr")) == 3  # 2 and current
        compare = reverse("admin:blog_page_revisions_compare", args=[page.pk])
        diff_page = soup(self.client.get(f"{compare}?from={first.pk}&to=current"))
        assert "Removed: First words." in texts(diff_page, ".diff .diff__removed .diff__text")
        restore_url = reverse("admin:blog_page_revisions_restore", args=[page.pk, first.pk])
        assert self.client.post(restore_url).status_code == 302
        page.refresh_from_db()
        assert page.body_html == "<p>First words.</p>"
        assert "First words." in self.client.get(page.get_absolute_url()).content.decode()
