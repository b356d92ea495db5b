"""Hostile input in the comment form, anonymous and signed in: each payload refused with
a message and no row written, or kept and shown inert on the page, in e-mails and feeds."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from blog.models import Comment, Post

from ..discussion import confirmation_path, form_data, post_comment, press, row_counts
from ..factories import make_post, make_user
from ..html import soup, text
from . import corpus
from .base import COMMENT_FEED, HostileTestCase, batches

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


@override_settings(BLOG_COMMENTS_RATE_LIMIT=10_000)
class CommentFormTests(HostileTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Hostile ground", "Some text.")
        cls.draft = make_post("A draft", status=Post.Status.DRAFT)
        cls.closed = make_post("Closed", allow_comments=False)
        cls.reader = make_user("signed-in-reader", email="reader@example.org")

    def confirm(self) -> Comment:
        response = press(self.client, confirmation_path())
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
        # Opened (GET), the page's button (POST), and a mail program's one-click
        # unsubscription, which comes with no CSRF cookie (the mute address takes it).
        provider = Client(enforce_csrf_checks=True)
        sends = {
            "GET": lambda path: self.client.get(path),
            "POST": lambda path: self.client.post(path),
            "one-click": lambda path: provider.post(
                path, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
            ),
        }
        for payload in corpus.GARBAGE_KEYS:
            for name in ("comments-xtd-confirm", "comments-xtd-mute"):
                for method, send in sends.items():
                    if method == "one-click" and name == "comments-xtd-confirm":
                        continue  # a forged POST there: CSRF-refused (test_link_buttons)
                    with self.subTest(f"{name}:{method}:{payload.id}"):
                        before = row_counts()
                        path = reverse(name, args=["KEY"]).replace("KEY", quote(payload.value, "%"))
                        response = send(path)
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
