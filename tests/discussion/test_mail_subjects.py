"""Every e-mail the discussion sends names the blog and the post in its subject, not the
library's lower-case "comment confirmation request" and "new comment posted"."""

from __future__ import annotations

from django.core import mail
from django.test import Client, override_settings

from ..factories import make_post
from . import DiscussionTestCase, comment_and_confirm, confirmation_path, post_comment, press

BLOG = "Child Protection Social Work"
HELD = "x https://a.example https://b.example https://c.example"  # too many links: held


@override_settings(MANAGERS=[("Mo", "mo@example.org")])
class SubjectTests(DiscussionTestCase):
    def subjects_to(self, address: str) -> list[str]:
        return [m.subject for m in mail.outbox if m.to == [address]]

    def test_the_confirmation_request(self):
        post_comment(self.client, self.post, email="new@example.org")
        self.assertEqual(
            self.subjects_to("new@example.org"),
            [f"Confirm your comment on ‘Learning Organisations’ – {BLOG}"],
        )

    def test_the_follow_up_and_the_moderators_notices(self):
        comment_and_confirm(Client(), self.post, email="ann@example.org", followup="on")
        self.assertEqual(
            self.subjects_to("mo@example.org"),
            [f"New comment (published) on ‘Learning Organisations’ – {BLOG}"],
        )
        mail.outbox.clear()
        comment_and_confirm(Client(), self.post, name="Bob", email="bob@example.org")
        self.assertEqual(
            self.subjects_to("ann@example.org"),
            [f"New comment on ‘Learning Organisations’ – {BLOG}"],
        )
        mail.outbox.clear()
        post_comment(Client(), self.post, name="Cy", email="cy@example.org", comment=HELD)
        press(Client(), confirmation_path())
        self.assertEqual(
            self.subjects_to("mo@example.org"),
            [f"New comment (awaiting approval) on ‘Learning Organisations’ – {BLOG}"],
        )

    @override_settings(SITE_NAME="Practice Notes")
    def test_the_blogs_name_comes_from_settings(self):
        post_comment(self.client, self.post, email="new@example.org")
        (subject,) = self.subjects_to("new@example.org")
        self.assertTrue(subject.endswith("– Practice Notes"), subject)

    def test_an_untitled_post_by_its_opening_words_on_one_line(self):
        untitled = make_post("", "I’m not really surprised to hear,\nagain, that this is so.")
        post_comment(self.client, untitled, email="new@example.org")
        (subject,) = self.subjects_to("new@example.org")
        self.assertEqual(
            subject, f"Confirm your comment on ‘I’m not really surprised to hear…’ – {BLOG}"
        )
        self.assertNotIn("\n", subject)
