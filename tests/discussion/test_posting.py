"""The threaded reader discussion: posting, confirming, replying, moderation, closing,
follow-ups, and the counts and pages that show it."""

from __future__ import annotations

import datetime
import hashlib
import itertools

import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client, TestCase, override_settings
from django.utils import timezone

from blog.models import Comment, Post

from ..factories import make_post, make_staff, make_user
from ..html import soup, text, texts
from . import (
    comment_and_confirm,
    confirmation_path,
    form_data,
    get,
    mute_path,
    post_comment,
    row_counts,
)

BOB = {"name": "Bob", "email": "bob@example.org"}  # a second reader


class DiscussionTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post(
            "Learning Organisations",
            "Is your organisation safe to learn in?",
            call_for_answers="Does your organisation learn from its mistakes?",
        )
        cls.other_post = make_post("Pressure of Work", "Caseloads.")

    def page(self, post: Post | None = None):
        response = self.client.get((post or self.post).get_absolute_url())
        self.assertEqual(response.status_code, 200)
        return soup(response)

    def signed_in_reader(self, username: str = "reader", **fields):
        user = make_user(
            username,
            first_name="Rita",
            last_name="Reader",
            email=f"{username}@example.org",
            **fields,
        )
        self.client.force_login(user)
        return user


class AnonymousCommentTests(DiscussionTestCase):
    def test_comment_is_published_only_after_the_emailed_link_is_followed(self):
        response = post_comment(self.client, self.post, comment="First answer.")
        self.assertEqual(response.status_code, 302)
        sent = self.client.get(response["Location"])
        self.assertContains(sent, "Check your e-mail to publish your comment")
        self.assertEqual(row_counts(), (0, 0, 0))  # nothing saved before confirmation

        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["ann@example.org"])
        self.assertIn("First answer.", message.body)
        self.assertIn("http://127.0.0.1:8000/comments/confirm/", message.body)
        self.assertNotIn("example.com", message.body)
        self.assertEqual(texts(self.page(), "#comments .comment__text"), [])

        confirmed = get(self.client, confirmation_path())
        comment = Comment.objects.get()
        self.assertRedirects(confirmed, f"{self.post.get_absolute_url()}#c{comment.pk}")
        self.assertTrue(comment.is_public)
        self.assertEqual(texts(self.page(), "#comments .comment__text"), ["First answer."])

    def test_following_the_link_again_leads_to_the_same_comment(self):
        post_comment(self.client, self.post)
        path = confirmation_path()
        get(self.client, path)
        comment = Comment.objects.get()
        again = get(self.client, path)
        self.assertRedirects(again, comment.get_absolute_url())
        self.assertEqual(Comment.objects.count(), 1)

    def test_a_broken_confirmation_link_says_so(self):
        post_comment(self.client, self.post)
        path = confirmation_path()
        for broken in (path[:-10] + "/", path.replace(".", "x", 1), "/comments/confirm/abc/"):
            with self.subTest(broken=broken):
                response = self.client.get(broken)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, "confirmation link is not valid", status_code=400)
        self.assertEqual(row_counts(), (0, 0, 0))

    def test_a_link_confirmed_after_comments_closed_keeps_the_text_but_posts_nothing(self):
        post_comment(self.client, self.post, comment="Late words.")
        Post.objects.filter(pk=self.post.pk).update(allow_comments=False)
        response = get(self.client, confirmation_path())
        self.assertContains(response, "Comments are closed", status_code=403)
        self.assertContains(response, "Late words.", status_code=403)
        self.assertEqual(row_counts(), (0, 0, 0))

    def test_a_reply_whose_parent_went_before_confirmation_becomes_a_comment(self):
        parent = comment_and_confirm(self.client, self.post)
        post_comment(
            self.client,
            self.post,
            reply_to=parent.pk,
            **BOB,
            comment="Still worth saying.",
        )
        Comment.objects.filter(pk=parent.pk).update(is_removed=True)
        get(self.client, confirmation_path())
        reply = Comment.objects.get(comment="Still worth saying.")
        self.assertEqual((reply.level, reply.parent_id), (0, reply.pk))

    def test_preview_shows_the_rendered_text_and_saves_nothing(self):
        response = post_comment(self.client, self.post, comment="Line one\nline two", preview="1")
        self.assertEqual(response.status_code, 200)
        page = soup(response)
        self.assertEqual(
            str(page.select_one(".comment-preview .comment__text p")),
            "<p>Line one<br/>line two</p>",
        )
        self.assertEqual(page.select_one("#id_comment").text.strip(), "Line one\nline two")
        self.assertEqual((row_counts(), len(mail.outbox)), ((0, 0, 0), 0))


class SignedInCommentTests(DiscussionTestCase):
    def test_signed_in_reader_is_published_at_once_under_their_name(self):
        user = self.signed_in_reader()
        page = self.page()
        self.assertIsNone(page.select_one("#id_email[type=email]"))  # not asked
        response = post_comment(
            self.client,
            self.post,
            name="Someone Else",
            email="forged@example.org",
            comment="Signed in.",
        )
        comment = Comment.objects.get()
        self.assertRedirects(response, f"/comments/sent/?c={comment.pk}", target_status_code=302)
        self.assertEqual(
            (comment.user, comment.user_name, comment.user_email),
            (user, "Rita Reader", "reader@example.org"),
        )
        self.assertTrue(comment.is_public)
        self.assertEqual(texts(self.page(), ".comment__author"), ["Rita Reader"])
        # Not even on the page that sends the form back to them.
        refused = post_comment(self.client, self.post, comment="x" * 3001)
        self.assertEqual(refused.status_code, 400)
        self.assertNotIn("reader@example.org", refused.content.decode())
        # No confirmation request: only the moderators' notice.
        self.assertEqual([m.to for m in mail.outbox], [["moderator@example.org"]])


    def test_the_same_comment_sent_again_is_stored_once(self):
        # A double click, or the form sent again after a 503 whose commit went through.
        self.signed_in_reader()
        first = post_comment(self.client, self.post, comment="Sent twice.")
        again = post_comment(self.client, self.post, comment="Sent twice.")
        comment = Comment.objects.get()
        self.assertEqual(first.url, f"/comments/sent/?c={comment.pk}")
        self.assertEqual(again.url, first.url)
        # Different words, or an answer to a comment, are comments of their own...
        post_comment(self.client, self.post, comment="Something else.")
        post_comment(self.client, self.post, reply_to=comment.pk, comment="Sent twice.")
        post_comment(self.client, self.post, reply_to=comment.pk, comment="Sent twice.")
        self.assertEqual(Comment.objects.count(), 3)
        # ...and so is the same text a while later, or from someone else.
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
            post_comment(self.client, self.post, comment="Sent twice.")
        self.signed_in_reader("another")
        post_comment(self.client, self.post, comment="Sent twice.")
        self.assertEqual(Comment.objects.filter(comment="Sent twice.", level=0).count(), 3)


class ThreadingTests(DiscussionTestCase):
    def test_replies_nest_inside_their_parents_article_to_three_levels(self):
        top = comment_and_confirm(self.client, self.post, comment="Top")
        chain = [top]
        for level in (1, 2, 3):
            chain.append(
                comment_and_confirm(
                    self.client,
                    self.post,
                    reply_to=chain[-1].pk,
                    name=f"Level {level}",
                    comment=f"L{level}",
                )
            )
        self.assertEqual([c.level for c in chain], [0, 1, 2, 3])
        page = self.page()
        for parent, child in itertools.pairwise(chain):
            article = page.select_one(f"article#c{parent.pk}")
            self.assertIsNotNone(article.select_one(f"article#c{child.pk}"))
        self.assertEqual(len(page.select("#comments > .comment-list > article")), 1)
        # Every comment but the deepest offers a reply link (to the no-JS reply page).
        reply_links = [a["href"] for a in page.select("a.comment__reply")]
        self.assertEqual(reply_links, [f"/comments/reply/{c.pk}/" for c in chain[:3]])

        deepest = chain[-1]
        self.assertContains(
            self.client.get(f"/comments/reply/{deepest.pk}/"),
            "cannot nest any deeper",
            status_code=403,
        )
        before = row_counts()
        response = post_comment(self.client, self.post, reply_to=deepest.pk, comment="Too deep")
        self.assertContains(response, "Replies cannot nest any deeper", status_code=400)
        self.assertContains(response, "Too deep", status_code=400)
        self.assertEqual(row_counts(), before)

    def test_the_reply_page_has_the_form_for_that_comment(self):
        top = comment_and_confirm(self.client, self.post, comment="Top")
        page = soup(self.client.get(f"/comments/reply/{top.pk}/"))
        self.assertEqual(text(page.h1), "Reply to Ann Reader")
        self.assertEqual(page.select_one("#comment-form [name=reply_to]")["value"], str(top.pk))
        self.assertEqual(page.select_one("#comment-form")["action"], "/comments/post/")

    def test_no_reply_page_for_hidden_comments_or_unknown_ones(self):
        top = comment_and_confirm(self.client, self.post)
        Comment.objects.filter(pk=top.pk).update(is_removed=True)
        for pk in (top.pk, 999999):
            self.assertEqual(self.client.get(f"/comments/reply/{pk}/").status_code, 404)

    def test_comment_article_shows_name_link_date_text_and_permalink(self):
        comment = comment_and_confirm(
            self.client,
            self.post,
            url="https://ann.example.org/",
            comment="Para one.\n\nPara two\nsame para.",
        )
        article = self.page().select_one(f"article#c{comment.pk}")
        link = article.select_one(".comment__author a")
        self.assertEqual(
            (link["href"], link["rel"]), ("https://ann.example.org/", ["nofollow", "ugc"])
        )
        self.assertEqual(
            article.select_one(".comment__permalink")["href"],
            f"{self.post.get_absolute_url()}#c{comment.pk}",
        )
        self.assertTrue(article.select_one("time")["datetime"].startswith(str(timezone.now().year)))
        self.assertEqual(
            [str(p) for p in article.select(".comment__text p")],
            ["<p>Para one.</p>", "<p>Para two<br/>same para.</p>"],
        )


class ModerationTests(DiscussionTestCase):
    def assert_held(self, **fields) -> Comment:
        response = post_comment(self.client, self.post, **fields)
        self.assertEqual(response.status_code, 302)
        held = get(self.client, confirmation_path())
        self.assertContains(held, "Your comment is awaiting approval")
        comment = Comment.objects.latest("pk")
        self.assertFalse(comment.is_public)
        self.assertNotIn(comment.comment, text(self.page()))
        return comment

    def test_more_than_two_links_is_held(self):
        self.assert_held(comment="See https://a.example http://b.example and www.c.example")

    def test_two_links_are_not_held(self):
        comment = comment_and_confirm(
            self.client, self.post, comment="See https://a.example and www.b.example"
        )
        self.assertTrue(comment.is_public)

    @override_settings(BLOG_COMMENTS_HOLD_WORDS=["prize draw"])
    def test_a_listed_word_is_held(self):
        self.assert_held(comment="Enter our PRIZE DRAW today")
        ok = comment_and_confirm(self.client, self.post, comment="The prize drawer is here")
        self.assertTrue(ok.is_public)

    @override_settings(BLOG_COMMENTS_MODERATE_AFTER_DAYS=30)
    def test_comments_on_old_posts_are_held_when_configured(self):
        Post.objects.filter(pk=self.post.pk).update(
            published_at=timezone.now() - datetime.timedelta(days=31)
        )
        self.post.refresh_from_db()
        self.assert_held(comment="Old post")
        new_post = make_post("Fresh", "Fresh post")
        self.assertTrue(comment_and_confirm(self.client, new_post).is_public)

    def test_old_posts_are_not_held_by_default(self):
        old = make_post("Old", "Old", published_at=timezone.now() - datetime.timedelta(days=4000))
        self.assertTrue(comment_and_confirm(self.client, old).is_public)

    def test_moderators_get_an_email_for_every_new_comment_with_links(self):
        comment = self.assert_held(
            comment="a https://a.example b https://b.example c https://c.example"
        )
        notice = mail.outbox[-1]
        self.assertEqual(notice.to, ["moderator@example.org"])
        self.assertIn("AWAITING YOUR APPROVAL", notice.body)
        self.assertIn("more than 2 links", notice.body)
        base = "http://127.0.0.1:8000"
        self.assertIn(f"{base}/comments/approve/{comment.pk}/", notice.body)
        self.assertIn(f"{base}/comments/delete/{comment.pk}/", notice.body)
        self.assertIn(f"{base}/admin/blog/comment/{comment.pk}/change/", notice.body)

        published = comment_and_confirm(self.client, self.post, comment="Plain")
        self.assertIn("has been published", mail.outbox[-1].body)
        self.assertIn(f"{base}{published.get_absolute_url()}", mail.outbox[-1].body)

    def test_blocklisted_domains_are_refused(self):
        from django_comments_xtd.models import BlackListedDomain

        BlackListedDomain.objects.create(domain="spam.example")
        for fields in ({"email": "x@mail.spam.example"}, {"url": "https://spam.example/x"}):
            with self.subTest(**fields):
                response = post_comment(self.client, self.post, comment="Buy", **fields)
                self.assertContains(response, "not accepted here", status_code=403)
                self.assertContains(response, "Buy", status_code=403)
        self.assertEqual((row_counts(), len(mail.outbox)), ((0, 0, 0), 0))


class ClosedTests(DiscussionTestCase):
    def assert_closed(self, post: Post) -> None:
        page = self.page(post)
        self.assertIsNone(page.select_one("#comment-form"))
        self.assertEqual(text(page.select_one(".discussion__closed")), "Comments are closed.")
        self.assertEqual(page.select("a.comment__reply"), [])
        response = post_comment(self.client, post, comment="My closed words")
        self.assertContains(response, "Comments are closed on this post", status_code=403)
        self.assertContains(response, "My closed words", status_code=403)
        self.assertEqual(len(mail.outbox), 0)

    def test_allow_comments_off(self):
        comment = comment_and_confirm(self.client, self.post)
        mail.outbox.clear()
        Post.objects.filter(pk=self.post.pk).update(allow_comments=False)
        self.post.refresh_from_db()
        before = row_counts()
        self.assert_closed(self.post)
        self.assertEqual(row_counts(), before)
        # What was said stays readable.
        self.assertIn(f"c{comment.pk}", [a.get("id") for a in self.page().select("article")])

    @override_settings(BLOG_COMMENTS_CLOSE_AFTER_DAYS=14)
    def test_older_than_the_configured_days(self):
        old = make_post("Old", "Old", published_at=timezone.now() - datetime.timedelta(days=15))
        self.assert_closed(old)
        self.assertIsNotNone(self.page().select_one("#comment-form"))

    def test_drafts_take_no_comments(self):
        draft = make_post("Draft", "Draft", status=Post.Status.DRAFT)
        response = post_comment(self.client, draft)
        self.assertContains(response, "does not belong to a post", status_code=400)
        self.assertEqual(row_counts(), (0, 0, 0))


class FollowUpTests(DiscussionTestCase):
    def test_notify_me_of_replies_and_mute(self):
        first = comment_and_confirm(self.client, self.post, followup="on", comment="Tell me")
        mail.outbox.clear()
        comment_and_confirm(
            self.client,
            self.post,
            reply_to=first.pk,
            **BOB,
            comment="A reply",
        )
        followups = [m for m in mail.outbox if m.to == ["ann@example.org"]]
        self.assertEqual(len(followups), 1)
        self.assertIn("A reply", followups[0].body)
        self.assertIn("Bob", followups[0].body)

        muted = self.client.get(mute_path(followups[0]))
        self.assertContains(muted, "You will get no more e-mails about this discussion")
        self.assertContains(self.client.get(mute_path(followups[0])), "no more e-mails")
        mail.outbox.clear()
        comment_and_confirm(self.client, self.post, name="Cy", email="cy@example.org")
        self.assertEqual([m for m in mail.outbox if m.to == ["ann@example.org"]], [])

    def test_a_removed_comment_follows_nothing(self):
        removed = comment_and_confirm(self.client, self.post, followup="on", comment="Spam")
        Comment.objects.filter(pk=removed.pk).update(is_removed=True)
        mail.outbox.clear()
        comment_and_confirm(self.client, self.post, **BOB, comment="A comment")
        self.assertEqual([m for m in mail.outbox if m.to == ["ann@example.org"]], [])
        # Following through another comment of theirs still works.
        comment_and_confirm(self.client, self.post, followup="on", comment="Tell me")
        mail.outbox.clear()
        comment_and_confirm(self.client, self.post, **BOB, comment="Another")
        self.assertEqual(len([m for m in mail.outbox if m.to == ["ann@example.org"]]), 1)

    def test_a_broken_mute_link_says_so(self):
        response = self.client.get("/comments/mute/not-a-real-key/")
        self.assertContains(response, "link to stop e-mails is not valid", status_code=400)

    def test_no_followup_without_asking(self):
        comment_and_confirm(self.client, self.post)
        mail.outbox.clear()
        comment_and_confirm(self.client, self.post, **BOB)
        self.assertEqual([m for m in mail.outbox if m.to == ["ann@example.org"]], [])

    def test_approving_a_held_comment_sends_the_followups(self):
        comment_and_confirm(self.client, self.post, followup="on")
        mail.outbox.clear()
        post_comment(
            self.client,
            self.post,
            **BOB,
            comment="x https://a.example https://b.example https://c.example",
        )
        get(self.client, confirmation_path())
        held = Comment.objects.get(user_name="Bob")
        self.assertFalse(held.is_public)
        self.assertEqual([m for m in mail.outbox if m.to == ["ann@example.org"]], [])

        self.client.force_login(make_staff("editor"))
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/admin/blog/comment/",
                {"action": "approve_comments", "_selected_action": [held.pk]},
            )
        self.assertEqual(response.status_code, 302)
        held.refresh_from_db()
        self.assertTrue(held.is_public)
        followups = [m for m in mail.outbox if m.to == ["ann@example.org"]]
        self.assertEqual(len(followups), 1)
        self.assertIn("https://a.example", followups[0].body)

    def test_approving_from_the_emailed_link_or_the_change_form_sends_them_too(self):
        comment_and_confirm(self.client, self.post, followup="on")
        self.client.force_login(make_staff("editor"))
        for way in ("approve page", "change form"):
            with self.subTest(way):
                mail.outbox.clear()
                post_comment(
                    Client(),
                    self.post,
                    name=way,
                    email="bob@example.org",
                    comment="x https://a.example https://b.example https://c.example",
                )
                get(self.client, confirmation_path())
                held = Comment.objects.get(user_name=way)
                self.assertFalse(held.is_public)
                with self.captureOnCommitCallbacks(execute=True):
                    if way == "approve page":
                        url = f"/comments/approve/{held.pk}/"
                        self.assertContains(self.client.get(url), "Approve this comment?")
                        self.client.post(url)
                    else:
                        url = f"/admin/blog/comment/{held.pk}/change/"
                        self.client.post(
                            url,
                            {
                                "user_name": way,
                                "user_email": "bob@example.org",
                                "user_url": "",
                                "comment": held.comment,
                                "is_public": "on",
                            },
                        )
                held.refresh_from_db()
                self.assertTrue(held.is_public)
                to_ann = [m for m in mail.outbox if m.to == ["ann@example.org"]]
                self.assertEqual(len(to_ann), 1)


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


class ModeratorOnSiteTests(DiscussionTestCase):
    def test_moderators_see_remove_links_and_can_remove(self):
        comment = comment_and_confirm(self.client, self.post, comment="Remove me")
        self.assertEqual(self.page().select("a.comment__remove"), [])
        moderator = make_user("mod", is_staff=True)
        moderator.user_permissions.add(
            Permission.objects.get(
                codename="can_moderate", content_type__app_label="django_comments"
            )
        )
        self.client.force_login(moderator)
        link = self.page().select_one(f"#c{comment.pk} a.comment__remove")
        self.assertEqual(link["href"], f"/comments/delete/{comment.pk}/")
        confirm_page = soup(self.client.get(link["href"]))
        self.assertIn("Remove me", text(confirm_page))
        response = self.client.post(link["href"], {"next": self.post.get_absolute_url()})
        self.assertEqual(response.status_code, 302)
        comment.refresh_from_db()
        self.assertTrue(comment.is_removed)
        self.assertNotIn("Remove me", text(self.page()))

    def test_readers_cannot_remove(self):
        comment = comment_and_confirm(self.client, self.post)
        self.signed_in_reader()
        self.assertEqual(self.client.post(f"/comments/delete/{comment.pk}/").status_code, 403)


class AnswersPleaseTests(DiscussionTestCase):
    def test_the_prompt_sits_right_above_the_discussion_and_the_form_invites_an_answer(self):
        page = self.page()
        prompt = page.select_one("aside.answers-please")
        self.assertEqual(text(prompt.h2), "Answers please")
        self.assertIn("learn from its mistakes", text(prompt))
        self.assertEqual(prompt.find_next_sibling()["id"], "comments")
        self.assertEqual(text(page.select_one("#comment-form-heading")), "Your answer")
        self.assertEqual(
            text(page.select_one("#comment-form button[name=post]")), "Post your answer"
        )

    def test_no_prompt_without_a_call(self):
        page = self.page(self.other_post)
        self.assertIsNone(page.select_one("aside.answers-please"))
        self.assertEqual(text(page.select_one("#comment-form-heading")), "Leave a comment")

    def test_staff_highlight_answers_shown_with_the_prompt(self):
        answer = comment_and_confirm(self.client, self.post, comment="We learn by trying.")
        other = comment_and_confirm(self.client, self.post, name="Bob", comment="Not an answer")
        self.client.force_login(make_staff("editor"))
        self.client.post(
            "/admin/blog/comment/", {"action": "highlight_answers", "_selected_action": [answer.pk]}
        )
        self.client.logout()
        page = self.page()
        answers = page.select("aside.answers-please .answers-please__answers li")
        self.assertEqual(len(answers), 1)
        self.assertEqual(answers[0].a["href"], f"#c{answer.pk}")
        self.assertIn("We learn by trying.", text(answers[0]))
        self.assertIn("comment--answer", page.select_one(f"#c{answer.pk}")["class"])
        self.assertNotIn("comment--answer", page.select_one(f"#c{other.pk}")["class"])


class CountsAndDiscussionsPageTests(DiscussionTestCase):
    def test_lists_show_each_posts_published_comment_count(self):
        self.post.tags.add("workforce")
        comment_and_confirm(self.client, self.post)
        comment_and_confirm(self.client, self.post, name="Bob")
        held = comment_and_confirm(
            self.client, self.post, name="Held", comment="https://a.x https://b.x https://c.x"
        )
        self.assertFalse(held.is_public)
        day = self.post.published_on
        for url in (
            "/",
            f"/{day:%Y}/",
            f"/{day:%Y/%m}/",
            f"/{day:%Y/%m/%d}/",
            "/tags/workforce/",
            self.post.get_absolute_url(),
        ):
            with self.subTest(url=url):
                page = soup(self.client.get(url))
                counts = dict(
                    zip(
                        [a["href"] for a in page.select("a.post-meta__comments")],
                        [text(a).split(" on ")[0] for a in page.select("a.post-meta__comments")],
                        strict=True,
                    )
                )
                self.assertEqual(counts[f"{self.post.get_absolute_url()}#comments"], "2 comments")

    def test_discussions_lists_calls_and_discussed_posts_latest_comment_first(self):
        quiet = make_post("Quiet", "Nobody has commented.")  # neither: not listed
        comment_and_confirm(self.client, self.other_post, comment="Early words on pressure")
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
            comment_and_confirm(
                self.client,
                self.post,
                name="Bob",
                comment="The newest answer of all, which is long enough",
            )
        call_only = make_post("Tell us", "What do you think?", call_for_answers="Tell us.")
        page = soup(self.client.get("/discussions/"))
        self.assertEqual(
            texts(page, ".discussion-summary__title"),
            ["Learning Organisations", "Pressure of Work", "Tell us"],
        )
        first = page.select_one(".discussion-summary")
        self.assertIn("1 comment", text(first))
        self.assertIn("Answers please", text(first))
        self.assertIn("Bob: “The newest answer of all", text(first))
        self.assertNotIn(quiet.title, text(page))
        self.assertIn(
            call_only.get_absolute_url() + "#comments",
            [a["href"] for a in page.select(".discussion-summary__title a")],
        )


class DeletionTests(DiscussionTestCase):
    def test_deleting_a_post_deletes_its_comments(self):
        top = comment_and_confirm(self.client, self.post)
        comment_and_confirm(self.client, self.post, reply_to=top.pk)
        kept = comment_and_confirm(self.client, self.other_post)
        self.post.delete()
        self.assertEqual(row_counts(), (1, 1, 1))
        self.assertTrue(Comment.objects.filter(pk=kept.pk).exists())
