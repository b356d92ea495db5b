"""Moderation: what is held back for a moderator and how they hear of it, removing comments
on the site, the answers staff highlight, and comments going with their post."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Permission
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from blog.models import Comment, Post

from ..factories import make_post, make_staff, make_user
from ..html import soup, text
from . import (
    DiscussionTestCase,
    comment_and_confirm,
    confirmation_path,
    post_comment,
    press,
    row_counts,
)


class ModerationTests(DiscussionTestCase):
    def assert_held(self, **fields) -> Comment:
        response = post_comment(self.client, self.post, **fields)
        self.assertEqual(response.status_code, 302)
        held = press(self.client, confirmation_path())
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


class DeletionTests(DiscussionTestCase):
    def test_deleting_a_post_deletes_its_comments(self):
        top = comment_and_confirm(self.client, self.post)
        comment_and_confirm(self.client, self.post, reply_to=top.pk)
        kept = comment_and_confirm(self.client, self.other_post)
        self.post.delete()
        self.assertEqual(row_counts(), (1, 1, 1))
        self.assertTrue(Comment.objects.filter(pk=kept.pk).exists())
