"""Posting a comment: nothing is published before the e-mailed link is followed (signed-in
readers aside), replies nest three deep, and a closed post still gives the text back."""

from __future__ import annotations

import datetime
import itertools

import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from blog.models import Comment, Post

from ..factories import make_post
from ..html import soup, text, texts
from . import (
    BOB,
    DiscussionTestCase,
    comment_and_confirm,
    confirmation_path,
    get,
    post_comment,
    press,
    row_counts,
)


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

        confirmed = press(self.client, confirmation_path())
        comment = Comment.objects.get()
        self.assertRedirects(confirmed, f"{self.post.get_absolute_url()}#c{comment.pk}")
        self.assertTrue(comment.is_public)
        self.assertEqual(texts(self.page(), "#comments .comment__text"), ["First answer."])

    def test_following_the_link_again_says_it_was_used_and_links_to_the_comment(self):
        post_comment(self.client, self.post)
        path = confirmation_path()
        press(self.client, path)
        comment = Comment.objects.get()
        for again in (get(self.client, path), press(self.client, path)):
            self.assertContains(again, "This link has already been used")
            self.assertContains(again, f'href="{comment.get_absolute_url()}"')
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
        response = press(self.client, confirmation_path())
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
        press(self.client, confirmation_path())
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
        self.assertEqual(len(page.select("#comments > .comment-list > li > article")), 1)
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
