"""Hostile input in the staff's pages (the admin's forms, searches and login, the moderators'
one-click pages, the editor's preview): refused whole or kept inert, never sent off the site."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django_comments.models import Comment as BaseComment
from taggit.models import Tag

from blog.faults import nulbytes
from blog.models import Comment, Post, Reference

from ..factories import admin_post_form, make_post, make_staff, make_user
from ..html import soup
from . import corpus
from .base import COMMENT_FEED, HostileTestCase, batches
from .inert import html_problems

ATOM_FEED = reverse("blog:feed-atom")
RSS_FEED = reverse("blog:feed-rss")


# The admin ----------------------------------------------------------------------------


class AdminTests(HostileTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("hostile-editor")

    def setUp(self):
        self.client.force_login(self.staff)

    def counts(self) -> tuple[int, ...]:
        return Post.objects.count(), Reference.objects.count(), Tag.objects.count()

    def assertShownInert(self, posts: list[Post]) -> None:
        """What the admin saved, on the public pages and feeds that show it: each post's
        page, the lists and feeds (which hold all of a batch), a hostile tag's page and
        feed."""
        reader = Client()
        urls = [post.get_absolute_url() for post in posts]
        urls += [reverse("blog:post-index"), reverse("blog:tag-list"), reverse("blog:discussions")]
        tags = (
            Tag.objects.filter(blog_taggedpost_items__content_object__in=posts)
            .exclude(name="safe")
            .order_by("pk")
        )
        for tag in tags[:2]:
            urls.append(reverse("blog:tag-detail", args=[tag.slug]))
        for url in urls:
            with self.subTest(url):
                self.assertInert(reader.get(url))
        feeds = [reverse("blog:tag-feed", args=[tag.slug]) for tag in tags[:2]]
        for url in [ATOM_FEED, RSS_FEED, *feeds]:
            with self.subTest(url):
                self.assertInertFeed(url)

    def add(self, **fields):
        before = self.counts()
        response = self.client.post(
            reverse("admin:blog_post_add"), admin_post_form(self.staff, **fields)
        )
        self.assertNoServerError(response)
        if response.status_code == 200:
            # The form again, with what is wrong marked, and nothing half-saved.
            self.assertTrue(soup(response).select(".errorlist, .errornote"))
            self.assertEqual(self.counts(), before)
            return None
        self.assertEqual(response.status_code, 302)
        return Post.objects.latest("pk")

    def test_hostile_posts_are_saved_inert_or_refused_whole(self):
        # Six payloads to a post, five posts to a batch of public pages (a page costs
        # more than a post): the problems found name the payload's own text.
        for batch in batches(list(batches(corpus.TEXT, 6)), 5):
            saved = []
            for group in batch:
                values = [payload.value for payload in group]
                with self.subTest("+".join(payload.id for payload in group)):
                    post = self.add(
                        title=values[0][:200],
                        body="\n\n".join(["Opening words.", *values, "[1]"]),
                        tags=", ".join(["safe", *(v[:60].replace(",", " ") for v in values)]),
                        call_for_answers="\n".join(values),
                        **{"references-0-citation": "\n".join(values)},
                    )
                    if post is not None:
                        saved.append(post)
            self.assertShownInert(saved)

    def test_hostile_reference_addresses_refuse_the_whole_post(self):
        saved = []
        for payload in [*corpus.HOSTILE_URLS[:6], *corpus.OPEN_REDIRECTS]:
            with self.subTest(payload.id):
                post = self.add(**{"references-0-url": payload.value})
                if post is not None:
                    self.assertRegex(post.references.get().url, r"^https?://")
                    saved.append(post)
        self.assertShownInert(saved)

    def test_a_megabyte_body_is_saved_and_shown_inert(self):
        post = self.add(body=corpus.ONE_MB + " <script>alert(1)</script>")
        self.assertIsNotNone(post)
        self.assertInert(Client().get(post.get_absolute_url()))

    def test_oversized_fields_refuse_the_whole_post(self):
        for field in ("title", "tags", "slug"):
            with self.subTest(field):
                self.assertIsNone(self.add(**{field: corpus.TEN_THOUSAND}))

    def test_the_comment_change_form_with_hostile_values(self):
        post = make_post("Discussed")

        def new_comment() -> Comment:
            return Comment.objects.create(
                content_object=post, site_id=1, user_name="Ann", user_email="a@example.org",
                comment="Fine.", is_public=True,
            )  # fmt: skip

        # The form's own fields, as the admin's page sends them.
        page = soup(self.client.get(reverse("admin:blog_comment_change", args=[new_comment().pk])))
        form = page.select_one("form#comment_form")
        data = {
            field["name"]: field.get("value", "")
            for field in form.select("input[name]")
            if field.get("type") not in ("checkbox", "submit") or field.has_attr("checked")
        }
        data.update({area["name"]: area.get_text() for area in form.select("textarea[name]")})
        for select in form.select("select[name]"):
            chosen = select.select_one("option[selected]")
            data[select["name"]] = chosen["value"] if chosen else ""
        for payload in corpus.ESCAPING:
            with self.subTest(payload.id):
                comment = new_comment()
                url = reverse("admin:blog_comment_change", args=[comment.pk])
                response = self.client.post(
                    url, {**data, "comment": payload.value, "user_name": payload.value[:50]}
                )
                self.assertNoServerError(response)
                comment.refresh_from_db()
                if response.status_code == 302:
                    self.assertEqual(comment.comment, payload.value)
                else:
                    self.assertTrue(soup(response).select(".errorlist, .errornote"))
                    self.assertEqual(comment.comment, "Fine.")
        self.assertInert(Client().get(post.get_absolute_url()))
        self.assertInertFeed(COMMENT_FEED)

    def test_changelist_searches_and_filters_with_hostile_values(self):
        probes = [*corpus.CONTROL[2:5], *corpus.SQL[:1], corpus.SQL[5], corpus.XSS[0]]
        for payload in probes:
            for url in (
                reverse("admin:blog_post_changelist"),
                reverse("admin:blog_comment_changelist"),
            ):
                with self.subTest(f"{url}:{payload.id}"):
                    self.assertInert(self.client.get(url, {"q": payload.value}))
        for name, value in [("object_pk", "1' OR 1=1"), ("object_pk", "9" * 30), ("tags", "x")]:
            with self.subTest(f"filter {name}={value!r}"):
                url = reverse("admin:blog_comment_changelist")
                self.assertNoServerError(self.client.get(url, {name: value}))

    def test_a_nul_in_an_admin_query_string_is_a_400(self):
        # On PostgreSQL a NUL in a changelist's filter reached the database: a 500.
        # (Search reads NUL as a separator: SearchTests.)
        for url in (
            reverse("admin:blog_comment_changelist") + "?object_pk=%00",
            reverse("admin:blog_post_changelist") + "?slug=a%00b",
            reverse("admin:auth_user_changelist") + "?username=%00",
            reverse("admin:blog_post_changelist") + "?q=%00",
            reverse("admin:blog_post_changelist") + "?%00=x",
        ):
            with self.subTest(url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.content.decode(), nulbytes.MESSAGE)

    def test_the_admin_login_never_sends_anyone_off_the_site(self):
        user = make_staff("hostile-login", password="a-long-test-password")
        for payload in corpus.OPEN_REDIRECTS:
            with self.subTest(payload.id):
                client = Client()
                url = reverse("admin:login")
                page = client.get(url, {"next": payload.value})
                self.assertInert(page)
                response = client.post(
                    f"{url}?{urlencode({'next': payload.value})}",
                    {"username": user.username, "password": "a-long-test-password",
                     "next": payload.value},
                )  # fmt: skip
                self.assertStaysOnSite(response, url)


# The moderators' one-click pages --------------------------------------------------------


class ModerationNextTests(HostileTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Moderated")
        cls.moderator = make_user("moderator", is_staff=True)
        can_moderate = Permission.objects.get(
            codename="can_moderate", content_type__app_label="django_comments"
        )
        cls.moderator.user_permissions.add(can_moderate)

    def test_approve_and_delete_never_redirect_off_the_site(self):
        self.client.force_login(self.moderator)
        for payload in corpus.OPEN_REDIRECTS:
            for name in ("comments-approve", "comments-delete"):
                with self.subTest(f"{name}:{payload.id}"):
                    comment = Comment.objects.create(
                        content_object=self.post, site_id=1, user_name="Ann",
                        user_email="a@example.org", comment="Held.", is_public=False,
                    )  # fmt: skip
                    url = reverse(name, args=[comment.pk])
                    if payload is corpus.OPEN_REDIRECTS[0]:
                        self.assertInert(self.client.get(url, {"next": payload.value}))
                    response = self.client.post(url, {"next": payload.value})
                    self.assertStaysOnSite(response, url)
                    self.assertTrue(BaseComment.objects.filter(pk=comment.pk).exists())


# The editor's preview -------------------------------------------------------------------


class PreviewTests(HostileTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("hostile-previewer")
        cls.reader = make_user("hostile-reader")

    def test_every_payload_previews_inert(self):
        self.client.force_login(self.staff)
        for payload in corpus.TEXT:
            with self.subTest(payload.id):
                response = self.client.post(reverse("editor:preview"), {"content": payload.value})
                self.assertNoServerError(response)
                if response.status_code == 200:
                    self.assertEqual(html_problems(response.content.decode()), [])
                else:
                    self.assertEqual(response.status_code, 400)
                    self.assertTrue(response.json()["error"])

    def test_a_megabyte_preview_is_a_400_with_a_message(self):
        self.client.force_login(self.staff)
        response = self.client.post(reverse("editor:preview"), {"content": corpus.ONE_MB})
        self.assertEqual(response.status_code, 400)
        self.assertIn("at most", response.json()["error"])

    def test_readers_are_refused_whatever_they_send(self):
        for label, user in [("anonymous", None), ("reader", self.reader)]:
            client = Client()
            if user:
                client.force_login(user)
            for payload in corpus.XSS[:5]:
                with self.subTest(f"{label}:{payload.id}"):
                    response = client.post(reverse("editor:preview"), {"content": payload.value})
                    self.assertEqual(response.status_code, 403)
                    self.assertNotIn(b"alert", response.content)
