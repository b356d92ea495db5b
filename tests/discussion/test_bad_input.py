"""Spam, bad and hostile input: refused with the reader's text kept and no row written,
and what gets through shown inert, with no e-mail address on any page."""

from __future__ import annotations

import datetime
import hashlib

import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from blog.models import Comment

from ..html import soup
from . import DiscussionTestCase, comment_and_confirm, form_data, post_comment, row_counts


class SpamDefenceTests(DiscussionTestCase):
    @override_settings(BLOG_COMMENTS_RATE_LIMIT=5, BLOG_COMMENTS_RATE_PERIOD=60)
    def test_five_comments_a_minute_per_address(self):
        # Frozen at the start of a minute, so all six fall in one counting period.
        minute = timezone.now().replace(second=5, microsecond=0) + datetime.timedelta(days=1)
        with time_machine.travel(minute, tick=False):
            for n in range(5):
                response = post_comment(self.client, self.post, comment=f"Comment {n}")
                self.assertEqual(response.status_code, 302)
            sixth = post_comment(self.client, self.post, comment="The sixth")
            self.assertContains(sixth, "Please wait a minute", status_code=429)
            self.assertEqual(soup(sixth).select_one("#id_comment").text.strip(), "The sixth")
            # Another address is not held back.
            other = self.client.post(
                "/comments/post/", form_data(self.post), REMOTE_ADDR="192.0.2.7"
            )
            self.assertEqual(other.status_code, 302)
        self.assertEqual(len(mail.outbox), 6)
        with time_machine.travel(minute + datetime.timedelta(minutes=1), tick=False):
            self.assertEqual(post_comment(self.client, self.post).status_code, 302)

    def test_honeypot(self):
        response = post_comment(self.client, self.post, honeypot="http://spam.example")
        self.assertContains(response, "spam robots", status_code=400)
        self.assertEqual((row_counts(), len(mail.outbox)), ((0, 0, 0), 0))
        self.assertEqual(soup(response).select_one("#id_honeypot").get("value"), None)

    def test_the_honeypot_is_out_of_sight_and_out_of_the_tab_order(self):
        trap = self.page().select_one(".comment-form__trap")
        self.assertEqual(trap["aria-hidden"], "true")
        self.assertEqual(trap.select_one("input")["tabindex"], "-1")


class BadInputTests(DiscussionTestCase):
    """Each refusal: a 4xx page that says what happened, the text back where the reader
    can fix it, and no row written (anonymous or signed in)."""

    TEXT = "My carefully written answer"

    def assert_refused(self, data: dict, status: int, message: str, *, text_kept: bool = True):
        before = row_counts()
        response = self.client.post("/comments/post/", data)
        self.assertEqual(response.status_code, status)
        self.assertIn(message, response.content.decode())
        if text_kept:
            self.assertIn(self.TEXT, response.content.decode())
        self.assertEqual(row_counts(), before)
        return response

    def cases(self, other_reader: Client, deepest: Comment) -> dict:
        post = self.post
        expired_ts = int(timezone.now().timestamp()) - 3 * 60 * 60
        from blog.discussion.forms import CommentForm

        expired_hash = CommentForm(post).initial_security_hash(expired_ts)
        other_comment = comment_and_confirm(other_reader, self.other_post, comment="elsewhere")
        return {
            "reply to a comment that does not exist": (
                form_data(post, 987654, comment=self.TEXT),
                400,
                "not on this post",
            ),
            "reply to a comment on another post": (
                form_data(post, other_comment.pk, comment=self.TEXT),
                400,
                "not on this post",
            ),
            "reply_to not a number": (
                form_data(post, comment=self.TEXT, reply_to="abc"),
                400,
                "which comment",
            ),
            "reply_to missing": (
                {k: v for k, v in form_data(post, comment=self.TEXT).items() if k != "reply_to"},
                400,
                "which comment",
            ),
            "reply_to beyond any database integer": (
                form_data(post, comment=self.TEXT, reply_to="9" * 25),
                400,
                "not on this post",
            ),
            "reply deeper than allowed": (
                form_data(post, deepest.pk, comment=self.TEXT),
                400,
                "cannot nest any deeper",
            ),
            "tampered security hash": (
                form_data(post, comment=self.TEXT, security_hash="0" * 40),
                400,
                "failed its security check",
            ),
            "form older than the timeout": (
                form_data(
                    post, comment=self.TEXT, timestamp=expired_ts, security_hash=expired_hash
                ),
                400,
                "open too long",
            ),
            "over-long comment": (
                form_data(post, comment=self.TEXT + "x" * 3000),
                400,
                "at most 3000 characters",
            ),
            "missing name and bad e-mail": (
                form_data(post, comment=self.TEXT, name="", email="not-an-address"),
                400,
                "correct what is marked",
            ),
            "javascript: website": (
                form_data(post, comment=self.TEXT, url="javascript:alert(1)"),
                400,
                "correct what is marked",
            ),
            "forged content type": (
                form_data(post, comment=self.TEXT, content_type="auth.user", object_pk="1"),
                400,
                "does not belong to a post",
            ),
            "object_pk beyond any database integer": (
                form_data(post, comment=self.TEXT, object_pk="9" * 25),
                400,
                "does not belong to a post",
            ),
            "missing object_pk": (
                {k: v for k, v in form_data(post, comment=self.TEXT).items() if k != "object_pk"},
                400,
                "does not belong to a post",
            ),
        }

    def run_cases(self, *, signed_in: bool = False) -> None:
        other_reader = Client()
        parent = comment_and_confirm(other_reader, self.post, comment="Parent")
        chain = [parent]
        for _ in range(3):
            chain.append(comment_and_confirm(other_reader, self.post, reply_to=chain[-1].pk))
        cases = self.cases(other_reader, chain[-1])
        mail.outbox.clear()
        if signed_in:  # name, e-mail and website come from the account, not the form
            del cases["missing name and bad e-mail"], cases["javascript: website"]
        for name, (data, status, message) in cases.items():
            with self.subTest(name):
                self.assert_refused(data, status, message)
        self.assertEqual(mail.outbox, [])

    def test_anonymous(self):
        self.run_cases()

    def test_signed_in(self):
        # Signed-in comments are saved at once: the path where the library's own view
        # would leave an orphan row behind a bad reply_to.
        self.signed_in_reader()
        self.run_cases(signed_in=True)

    def test_a_renewed_form_can_be_sent_again(self):
        expired_ts = int(timezone.now().timestamp()) - 3 * 60 * 60
        from blog.discussion.forms import CommentForm

        data = form_data(
            self.post,
            comment=self.TEXT,
            timestamp=expired_ts,
            security_hash=CommentForm(self.post).initial_security_hash(expired_ts),
        )
        page = soup(self.client.post("/comments/post/", data))
        renewed = {
            field["name"]: field.get("value", "")
            for field in page.select("#comment-form input[type=hidden]")
        }
        renewed.update(name="Ann Reader", email="ann@example.org", comment=self.TEXT)
        self.assertEqual(self.client.post("/comments/post/", renewed).status_code, 302)

    def test_pages_for_impossible_ids_are_not_found(self):
        huge = "9" * 25
        for path in (
            f"/comments/reply/{huge}/",
            "/comments/reply/0/",
            f"/comments/sent/?c={huge}",
            f"/comments/approved/?c={huge}",
            f"/comments/deleted/?c={huge}",
            f"/comments/delete/{huge}/",
        ):
            with self.subTest(path=path):
                self.assertEqual(self.client.get(path).status_code, 404)
        for query in ("?c=forged", "", "?c="):
            self.assertEqual(self.client.get(f"/comments/sent/{query}").status_code, 404)

    def test_a_missing_security_cookie_keeps_the_text(self):
        browser = Client(enforce_csrf_checks=True)
        response = browser.post("/comments/post/", form_data(self.post, comment=self.TEXT))
        self.assertContains(response, "security cookie", status_code=403)
        self.assertContains(response, self.TEXT, status_code=403)
        self.assertEqual(row_counts(), (0, 0, 0))
        self.assertEqual(browser.post("/admin/login/", {}).status_code, 403)

    def test_get_is_not_allowed(self):
        self.assertEqual(self.client.get("/comments/post/").status_code, 405)


class SafetyTests(DiscussionTestCase):
    def test_xss_in_name_website_and_text_is_inert(self):
        payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
        comment = comment_and_confirm(
            self.client,
            self.post,
            name=payload[:50],
            url='https://ok.example/"><script>alert(3)</script>',
            comment=f"{payload}\njavascript:alert(4) <a href=javascript:alert(5)>x</a>",
        )
        html = self.client.get(self.post.get_absolute_url()).content.decode()
        article = soup(self.client.get(self.post.get_absolute_url())).select_one(f"#c{comment.pk}")
        self.assertEqual(article.select("script, img, [onerror]"), [])
        for link in article.select("a[href]"):
            self.assertFalse(link["href"].startswith("javascript:"), link)
        self.assertNotIn("<script>alert", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)

    def test_text_links_are_nofollow_ugc_noopener(self):
        comment = comment_and_confirm(self.client, self.post, comment="Read https://a.example/x")
        link = self.page().select_one(f"#c{comment.pk} .comment__text a")
        self.assertEqual(link["href"], "https://a.example/x")
        self.assertEqual(link["rel"], ["nofollow", "ugc", "noopener"])

    def test_no_email_address_or_hash_of_it_on_any_page(self):
        email = "Secret.Person@Example.org"
        comment = comment_and_confirm(self.client, self.post, email=email, followup="on")
        variants = {email, email.lower()}
        hashes = {
            getattr(hashlib, algorithm)(v.encode()).hexdigest()
            for v in variants
            for algorithm in ("md5", "sha1", "sha256")
        }
        pages = [
            self.post.get_absolute_url(),
            "/",
            "/discussions/",
            f"/comments/reply/{comment.pk}/",
            self.post.get_absolute_url() + "?page=1",
        ]
        for url in pages:
            with self.subTest(url=url):
                html = self.client.get(url).content.decode().lower()
                for secret in {v.lower() for v in variants} | hashes:
                    self.assertNotIn(secret, html)
