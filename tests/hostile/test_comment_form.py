"""Hostile input (tests/hostile/corpus.py) sent everywhere the site takes input: the
comment form, search, the admin's forms, the editor's preview, and every ``next``.

Each payload gets a clear 4xx with a message, or is kept and shown inert (no script,
event handler or dangerous URL in the page, the e-mails or the feeds); never a 500,
and never a row written for a refusal. Every subtest is named by the payload's id.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode, urljoin, urlsplit

from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django_comments.models import Comment as BaseComment
from taggit.models import Tag

from blog.faults import nulbytes
from blog.models import Comment, Post, Reference

from ..discussion import confirmation_path, form_data, get, post_comment, row_counts
from ..factories import admin_post_form, make_post, make_staff, make_user
from ..html import soup, text
from . import corpus
from .inert import feed_problems, html_problems, response_problems

COMMENT_FEED = reverse("blog:feed-comments")
ATOM_FEED = reverse("blog:feed-atom")
RSS_FEED = reverse("blog:feed-rss")
SEARCH = reverse("blog:search")
POST_COMMENT = reverse("comments-post-comment")


def visible(value: str) -> str:
    """Text as a reader sees it: white space folded (HTML folds it too)."""
    return " ".join(value.split())


def shown_text(node) -> str:
    """The text of rendered comment HTML, its line breaks and paragraphs as white space
    (what the pipeline turns line separators of every kind into)."""
    for br in node.find_all("br"):
        br.replace_with("\n")
    for paragraph in node.find_all("p"):
        paragraph.append("\n")
    return visible(node.get_text())


class HostileTestCase(TestCase):
    def assertNoServerError(self, response) -> None:
        self.assertLess(response.status_code, 500, response.content[:500])

    def assertInert(self, response) -> None:
        self.assertNoServerError(response)
        self.assertEqual(response_problems(response), [])

    def assertInertFeed(self, url: str) -> None:
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200, response.content[:500])
        self.assertEqual(feed_problems(response.content), [])

    def assertStaysOnSite(self, response, page: str) -> None:
        """A redirect a browser would follow to this site: read as browsers read it
        (backslashes as slashes, tabs and newlines ignored), against the page it came
        from."""
        self.assertEqual(response.status_code, 302)
        location = re.sub(r"[\t\n\r]", "", response["Location"]).strip().replace("\\", "/")
        target = urlsplit(urljoin(f"http://testserver{page}", location))
        self.assertEqual((target.scheme, target.netloc), ("http", "testserver"), location)

    def assertRefused(self, response, rows_before: tuple[int, ...]) -> None:
        """A 4xx page that says why, and nothing written."""
        self.assertTrue(400 <= response.status_code < 500, response.status_code)
        self.assertEqual(response_problems(response), [])
        page = soup(response)
        message = page.select_one("[role=alert]") or page.select_one(".errorlist")
        self.assertIsNotNone(message, "a refusal must say why")
        self.assertTrue(text(message))
        self.assertEqual(row_counts(), rows_before)


# The comment form ---------------------------------------------------------------------


def batches(payloads: list, size: int):
    for start in range(0, len(payloads), size):
        yield payloads[start : start + size]


@override_settings(BLOG_COMMENTS_RATE_LIMIT=10_000)
class CommentFormTests(HostileTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Hostile ground", "Some text.")
        cls.draft = make_post("A draft", status=Post.Status.DRAFT)
        cls.closed = make_post("Closed", allow_comments=False)
        cls.reader = make_user("signed-in-reader", email="reader@example.org")

    def confirm(self) -> Comment:
        response = get(self.client, confirmation_path())
        self.assertEqual(response.status_code, 302, response.content[:500])
        return Comment.objects.latest("submit_date", "pk")

    def check_shown(self, post: Post, accepted: list[tuple[str, Comment]], shown) -> None:
        """The post's page and the comments feed, once for a batch of comments (a page
        costs more than a comment): inert, and each comment's ``shown(node)`` holds."""
        ids = ",".join(name for name, _ in accepted)
        response = Client().get(post.get_absolute_url())
        with self.subTest(f"page with {ids}"):
            self.assertInert(response)
        page = soup(response)
        for name, comment in accepted:
            with self.subTest(f"{name} shown"):
                node = page.select_one(f"#{comment.anchor}")
                if comment.is_public:
                    self.assertIsNotNone(node)
                    shown(comment, node)
        with self.subTest(f"feed with {ids}"):
            self.assertInertFeed(COMMENT_FEED)

    def test_hostile_text_is_refused_or_shown_inert_as_typed(self):
        # Signed in, so that each comment is one request (the text takes the same path).
        self.client.force_login(self.reader)

        def shown(comment: Comment, node) -> None:
            self.assertEqual(shown_text(node.select_one(".comment__text")),
                             visible(comment.comment))  # fmt: skip

        for batch in batches(corpus.TEXT, 25):
            post = make_post("Batch")
            accepted = []
            for payload in batch:
                with self.subTest(payload.id):
                    before = row_counts()
                    response = post_comment(self.client, post, comment=payload.value)
                    if response.status_code != 302:
                        self.assertRefused(response, before)
                        continue
                    comment = Comment.objects.latest("pk")
                    # Kept as typed (the form only trims the ends).
                    self.assertEqual(comment.comment, payload.value.strip())
                    accepted.append((payload.id, comment))
            self.check_shown(post, accepted, shown)

    def test_anonymous_readers_hostile_text_and_names_by_email_and_link(self):
        post = make_post("Anonymous")
        accepted = []
        for payload in [*corpus.ESCAPING, *corpus.SIZES[:1]]:
            with self.subTest(payload.id):
                mail.outbox.clear()
                before = row_counts()
                response = post_comment(
                    self.client, post, name=payload.value, comment=f"Text: {payload.value}"
                )
                if response.status_code != 302:
                    self.assertRefused(response, before)
                    continue
                # Plain-text e-mail only: nothing a reader wrote is sent as HTML.
                (request,) = mail.outbox
                self.assertEqual(request.content_subtype, "plain")
                self.assertFalse(getattr(request, "alternatives", []))
                self.assertNotIn("\n", request.subject)
                accepted.append((payload.id, self.confirm()))
                for message in mail.outbox[1:]:
                    self.assertEqual(message.content_subtype, "plain")

        def shown(comment: Comment, node) -> None:
            self.assertIn(visible(comment.user_name), visible(node.get_text()))
            self.assertIn(visible(comment.comment), shown_text(node.select_one(".comment__text")))

        self.check_shown(post, accepted, shown)

    def test_preview_of_hostile_text_is_inert(self):
        for payload in [*corpus.ESCAPING, *corpus.XSS[:10]]:
            with self.subTest(payload.id):
                before = row_counts()
                response = post_comment(self.client, self.post, comment=payload.value, preview="1")
                if response.status_code != 200:
                    self.assertRefused(response, before)
                    continue
                self.assertInert(response)
                preview = soup(response).select_one(".comment-preview .comment__text")
                self.assertIn(visible(payload.value), shown_text(preview))
                self.assertEqual(row_counts(), before)

    def test_invalid_emails_are_refused(self):
        for payload in corpus.INVALID_EMAILS:
            with self.subTest(payload.id):
                mail.outbox.clear()
                before = row_counts()
                response = post_comment(self.client, self.post, email=payload.value)
                self.assertEqual(response.status_code, 400)
                self.assertRefused(response, before)
                self.assertEqual(mail.outbox, [])

    def test_hostile_websites_are_refused_or_kept_as_web_links(self):
        post = make_post("Websites")
        accepted = []
        for payload in corpus.HOSTILE_URLS:
            with self.subTest(payload.id):
                before = row_counts()
                response = post_comment(self.client, post, url=payload.value)
                if response.status_code != 302:
                    self.assertRefused(response, before)
                    continue
                accepted.append((payload.id, self.confirm()))

        def shown(comment: Comment, node) -> None:
            link = node.select_one(".comment__author a")
            self.assertRegex(link["href"], r"^https?://[^\s\"'<>]+$")

        self.check_shown(post, accepted, shown)

    def test_forged_security_fields_are_refused_and_nothing_is_written(self):
        for payload in corpus.FORGED_SECURITY:
            with self.subTest(payload.id):
                before = row_counts()
                data = form_data(self.post)
                for name, value in payload.value.items():
                    if value is None:
                        del data[name]
                    else:
                        data[name] = value
                with self.captureOnCommitCallbacks(execute=True):
                    response = self.client.post(POST_COMMENT, data)
                self.assertRefused(response, before)
                self.assertEqual(mail.outbox, [])

    def test_forms_for_drafts_closed_posts_and_missing_posts_are_refused(self):
        for label, post_pk in [
            ("draft", self.draft.pk),
            ("closed", self.closed.pk),
            ("deleted", 10**9),
        ]:
            with self.subTest(label):
                before = row_counts()
                data = form_data(self.post, object_pk=post_pk)
                response = self.client.post(POST_COMMENT, data)
                self.assertRefused(response, before)

    def test_a_next_field_never_leads_off_the_site(self):
        for payload in corpus.OPEN_REDIRECTS:
            with self.subTest(payload.id):
                response = post_comment(self.client, self.post, next=payload.value)
                self.assertStaysOnSite(response, POST_COMMENT)
                self.assertTrue(response["Location"].startswith(reverse("comments-xtd-sent")))

    def test_garbage_confirmation_and_mute_keys_are_refused(self):
        for payload in corpus.GARBAGE_KEYS:
            for name in ("comments-xtd-confirm", "comments-xtd-mute"):
                with self.subTest(f"{name}:{payload.id}"):
                    before = row_counts()
                    path = reverse(name, args=["KEY"]).replace("KEY", quote(payload.value, "%"))
                    response = self.client.get(path)
                    self.assertIn(response.status_code, (400, 404))
                    self.assertInert(response)
                    self.assertEqual(row_counts(), before)

    def test_a_body_over_the_upload_limit_is_a_400(self):
        from django.conf import settings

        too_big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
        strict = Client(enforce_csrf_checks=True)
        for label, client in [("csrf-exempt", self.client), ("csrf-enforced", strict)]:
            with self.subTest(label):
                before = row_counts()
                response = client.post(POST_COMMENT, form_data(self.post, comment=too_big))
                self.assertEqual(response.status_code, 400)
                self.assertEqual(row_counts(), before)

    def test_too_many_fields_is_a_400(self):
        data = form_data(self.post)
        data.update({f"extra{n}": "x" for n in range(1100)})
        before = row_counts()
        response = self.client.post(POST_COMMENT, data)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(row_counts(), before)

    def test_a_megabyte_comment_is_refused_with_its_length(self):
        before = row_counts()
        response = post_comment(self.client, self.post, comment=corpus.ONE_MB)
        self.assertRefused(response, before)
        self.assertIn("at most 3000 characters", text(soup(response)))

    def test_invalid_utf8_in_a_form_body_is_replaced_not_a_500(self):
        security = urlencode(form_data(self.post, comment="")).encode()
        for payload in corpus.INVALID_UTF8:
            with self.subTest(payload.id):
                mail.outbox.clear()
                before = row_counts()
                body = security + b"&comment=Hello+" + payload.value.encode() + b"+there"
                with self.captureOnCommitCallbacks(execute=True):
                    response = self.client.generic(
                        "POST", POST_COMMENT, body, "application/x-www-form-urlencoded"
                    )
                if response.status_code != 302:
                    self.assertRefused(response, before)
                    continue
                comment = self.confirm()
                self.assertTrue(comment.comment.startswith("Hello"))
                self.assertTrue(comment.comment.endswith("there"))

    def test_raw_invalid_utf8_bytes_in_a_multipart_body_are_not_a_500(self):
        boundary = "BoUnDaRy"
        fields = form_data(self.post, comment="")
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            .encode()
            for name, value in fields.items()
            if name != "comment"
        ]  # fmt: skip
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="comment"\r\n\r\n'.encode()
            + b"Hello \xff\xfe\xed\xa0\x80 there\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        before = row_counts()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.generic(
                "POST", POST_COMMENT, body, f"multipart/form-data; boundary={boundary}"
            )
        if response.status_code != 302:
            self.assertRefused(response, before)
        else:
            self.assertIn("\ufffd", self.confirm().comment)


# Search -------------------------------------------------------------------------------


class SearchTests(HostileTestCase):
    @classmethod
    def setUpTestData(cls):
        # Posts that carry hostile text themselves, so that results and snippets show it.
        body = "\n\n".join(f"alert {payload.value}" for payload in corpus.XSS)
        make_post("<script>alert(1)</script> alert", body, tags=["<b>alert</b>"])
        make_post("'; DROP TABLE blog_post; -- alert", "alert " * 50)

    def assertSearchAnswers(self, response) -> None:
        self.assertIn(response.status_code, (200, 400))
        self.assertInert(response)
        if response.status_code == 400:
            self.assertTrue(text(soup(response).select_one("[role=alert], .notice")))

    def test_every_payload_as_a_query(self):
        for payload in [*corpus.TEXT, *corpus.SIZES]:
            with self.subTest(payload.id):
                response = self.client.get(SEARCH, {"q": payload.value})
                self.assertSearchAnswers(response)

    def test_hostile_text_around_a_word_that_matches(self):
        for payload in [*corpus.XSS, *corpus.SQL, *corpus.CONTROL]:
            with self.subTest(payload.id):
                response = self.client.get(SEARCH, {"q": f"alert {payload.value}"[:200]})
                self.assertSearchAnswers(response)

    def test_invalid_utf8_and_nul_in_the_query_string(self):
        for payload in corpus.INVALID_UTF8:
            with self.subTest(payload.id):
                response = self.client.get(SEARCH, QUERY_STRING=f"q=alert{payload.value}")
                self.assertSearchAnswers(response)
                response = self.client.get(SEARCH, QUERY_STRING=f"q=x&page={payload.value}")
                self.assertNoServerError(response)

    def test_a_query_too_long_is_a_400_that_says_so(self):
        response = self.client.get(SEARCH, {"q": corpus.TEN_THOUSAND})
        self.assertEqual(response.status_code, 400)
        self.assertIn("200 characters at most", text(soup(response)))


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
