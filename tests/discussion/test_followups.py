"""Follow-ups: readers who ask are e-mailed the replies (once approved) until they
follow the link to stop."""

from __future__ import annotations

from django.core import mail
from django.test import Client

from blog.models import Comment

from ..factories import make_staff
from . import (
    BOB,
    DiscussionTestCase,
    comment_and_confirm,
    confirmation_path,
    mute_path,
    post_comment,
    press,
)


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

        muted = press(self.client, mute_path(followups[0]))
        self.assertContains(muted, "You will get no more e-mails about this discussion")
        self.assertContains(press(self.client, mute_path(followups[0])), "no more e-mails")
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
        press(self.client, confirmation_path())
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
                press(self.client, confirmation_path())
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
