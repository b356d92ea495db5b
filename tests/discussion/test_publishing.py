"""One way to publish a comment (blog.discussion.publishing.publish_comment), whether a
signed-in reader posts it or an anonymous reader follows the link e-mailed to them: the
same moderation, follow-up e-mails, moderators' notice and renewed page cache; and one
rule for the same comment sent twice (sent_before), on both paths."""

from __future__ import annotations

from dataclasses import dataclass
from unittest import mock

from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.http import HttpResponse
from django.test import Client, RequestFactory, TestCase, override_settings
from django_comments_xtd.models import TmpXtdComment
from django_comments_xtd.signals import confirmation_received

from blog import pagecache
from blog.discussion import links, publishing
from blog.models import Comment

from ..factories import make_post, make_user
from . import confirmation_path, get, post_comment, press, row_counts

SIGNED_IN, CONFIRMED = "signed in", "confirmed"
PATHS = (SIGNED_IN, CONFIRMED)
FOLLOWER = "fay@example.org"
HELD_TEXT = "x https://a.example https://b.example https://c.example"  # too many links


@dataclass
class Outcome:
    response: HttpResponse
    published: list[TmpXtdComment]  # what publish_comment was given, in order
    emails: list  # sent by the step that publishes (posting or confirming)
    token_renewed: bool

    def to(self, address: str) -> list:
        return [message for message in self.emails if message.to == [address]]


# Each test posts more than the rate limit allows one address in a minute.
@override_settings(BLOG_COMMENTS_RATE_LIMIT=0)
class PublishingTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Supervision", "What good supervision looks like.")
        cls.reader = make_user("reader", first_name="Rita", last_name="Reader",
                               email="reader@example.org")  # fmt: skip
        follower = Comment(content_object=cls.post, site_id=1, user_name="Fay Follower",
                           user_email=FOLLOWER, comment="Tell me.", followup=True)  # fmt: skip
        follower.save()
        cls.follower = follower

    def client_for(self, path: str) -> Client:
        client = Client()
        if path == SIGNED_IN:
            client.force_login(self.reader)
        return client

    def send(self, path: str, client: Client | None = None, **fields) -> Outcome:
        """A reader's comment, from the form to the step that publishes it: the post
        itself when signed in, the confirmation link otherwise."""
        client = client or self.client_for(path)
        spy = mock.patch.object(publishing, "publish_comment", wraps=publishing.publish_comment)
        with spy as publish:
            mail.outbox.clear()
            token = pagecache.current_token()
            response = post_comment(client, self.post, **fields)
            self.assertEqual(response.status_code, 302)
            if path == CONFIRMED:
                self.assertEqual(publish.call_count, 0, "posting only e-mails the link")
                link = confirmation_path()
                mail.outbox.clear()
                token = pagecache.current_token()
                response = press(client, link)
            published = [call.args[0] for call in publish.call_args_list]
        return Outcome(response, published, list(mail.outbox), pagecache.current_token() != token)


class BothPathsTests(PublishingTestCase):
    def test_both_paths_publish_through_publish_comment(self):
        for path in PATHS:
            with self.subTest(path):
                outcome = self.send(path, comment=f"Through one door ({path}).")
                [pending] = outcome.published
                comment = Comment.objects.get(comment=f"Through one door ({path}).")
                self.assertEqual(pending.xtd_comment, comment)

    def test_a_visible_comment_is_announced_and_shown_the_same_way(self):
        for path in PATHS:
            with self.subTest(path):
                outcome = self.send(path, comment=f"Plain words ({path}).")
                comment = Comment.objects.get(comment=f"Plain words ({path}).")
                self.assertTrue(comment.is_visible)
                # Signed in: by the library's "sent" page, which leads on to the comment.
                expected = (f"/comments/sent/?c={comment.pk}" if path == SIGNED_IN
                            else comment.get_absolute_url())  # fmt: skip
                self.assertRedirects(outcome.response, expected, fetch_redirect_response=False)
                [followup] = outcome.to(FOLLOWER)
                self.assertIn(f"Plain words ({path}).", followup.body)
                [notice] = outcome.to("moderator@example.org")
                self.assertIn("(published)", notice.subject)
                self.assertEqual(len(outcome.emails), 2)
                self.assertTrue(outcome.token_renewed)
                self.assertContains(self.client.get(self.post.get_absolute_url()), comment.comment)

    def test_a_held_comment_is_held_the_same_way(self):
        for path in PATHS:
            with self.subTest(path):
                outcome = self.send(path, comment=f"{HELD_TEXT} ({path})")
                comment = Comment.objects.get(comment=f"{HELD_TEXT} ({path})")
                self.assertFalse(comment.is_visible)
                self.assertEqual(outcome.to(FOLLOWER), [])  # not until it is approved
                [notice] = outcome.to("moderator@example.org")
                self.assertIn("(awaiting approval)", notice.subject)
                self.assertIn("AWAITING YOUR APPROVAL", notice.body)
                self.assertTrue(outcome.token_renewed)

    def test_a_comment_refused_on_confirmation_is_not_saved_on_either_path(self):
        def refuse(sender, comment, request, **kwargs) -> bool:
            return False

        confirmation_received.connect(refuse, sender=TmpXtdComment, dispatch_uid="test-refuse")
        self.addCleanup(confirmation_received.disconnect, dispatch_uid="test-refuse",
                        sender=TmpXtdComment)  # fmt: skip
        before = row_counts()
        for path in PATHS:
            with self.subTest(path):
                client = self.client_for(path)
                mail.outbox.clear()
                response = post_comment(client, self.post, comment=f"Refused ({path}).")
                if path == CONFIRMED:
                    response = press(client, confirmation_path())
                self.assertContains(response, "was not published", status_code=403)
                self.assertEqual(row_counts(), before)
                self.assertEqual(outcome_addresses(mail.outbox), [])


def outcome_addresses(messages: list) -> list[str]:
    """Who was told of a comment (the reader's own confirmation request aside)."""
    return [m.to[0] for m in messages if "/comments/confirm/" not in m.body]


class SentTwiceTests(PublishingTestCase):
    """One rule (publishing.sent_before) for a second sending of the same comment."""

    def test_the_same_words_sent_twice_are_one_comment_on_either_path(self):
        for path in PATHS:
            with self.subTest(path):
                client = self.client_for(path)
                words = f"Sent twice ({path})."
                first = self.send(path, client, comment=words)
                again = self.send(path, client, comment=words)
                comment = Comment.objects.get(comment=words)
                self.assertEqual(again.response["Location"], first.response["Location"])
                # Nothing is announced the second time.
                self.assertEqual(outcome_addresses(again.emails), [])
                self.assertEqual(first.published[0].xtd_comment, comment)

    def test_an_anonymous_double_click_e_mails_two_links_that_publish_one_comment(self):
        client = Client()
        post_comment(client, self.post, comment="Clicked twice.")
        post_comment(client, self.post, comment="Clicked twice.")
        first, second = (confirmation_path(m) for m in mail.outbox[-2:])
        self.assertNotEqual(first, second)
        press(client, second)
        press(client, first)
        comment = Comment.objects.get(comment="Clicked twice.")
        self.assertRedirects(get(client, first), comment.get_absolute_url(),
                             fetch_redirect_response=False)  # fmt: skip

    def test_other_words_or_another_place_are_comments_of_their_own_on_either_path(self):
        for path in PATHS:
            with self.subTest(path):
                client = self.client_for(path)
                self.send(path, client, comment=f"Mine ({path}).")
                self.send(path, client, comment=f"Also mine ({path}).")
                self.send(path, client, comment=f"Mine ({path}).", reply_to=self.follower.pk)
                self.assertEqual(Comment.objects.filter(comment=f"Mine ({path}).").count(), 2)
                self.assertEqual(Comment.objects.filter(comment=f"Also mine ({path}).").count(), 1)

    def test_a_confirmation_link_followed_again_is_its_comment_whatever_became_of_it(self):
        client = Client()
        post_comment(client, self.post, comment="Confirmed once.")
        link = confirmation_path()
        press(client, link)
        comment = Comment.objects.get(comment="Confirmed once.")
        count = Comment.objects.count()
        # A moderator edits it: the link, used, still leads to it.
        Comment.objects.filter(pk=comment.pk).update(comment="Confirmed, then edited.")
        for again in (get(client, link), press(client, link)):
            self.assertContains(again, "This link has already been used")
            self.assertContains(again, f'href="{comment.get_absolute_url()}"')
        # A moderator removes it: following the link again does not bring it back.
        Comment.objects.filter(pk=comment.pk).update(is_removed=True)
        again = press(client, link)
        self.assertContains(again, "This link has already been used")
        self.assertNotContains(again, f"#c{comment.pk}")
        self.assertEqual(Comment.objects.count(), count)
        self.assertFalse(Comment.objects.get(pk=comment.pk).is_visible)

    def test_publish_comment_itself_publishes_a_second_sending_once(self):
        # What two confirmations of one link, arriving together, each hand it.
        post_comment(Client(), self.post, comment="Arrived together.")
        key = confirmation_path().rstrip("/").rsplit("/", 1)[1]
        request = RequestFactory().get("/")
        request.user = AnonymousUser()
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            first = publishing.publish_comment(links.read_confirmation(key), request)
            second = publishing.publish_comment(links.read_confirmation(key), request)
        self.assertEqual(first, second)
        self.assertEqual(Comment.objects.filter(comment="Arrived together.").count(), 1)
        self.assertEqual(outcome_addresses(mail.outbox), [FOLLOWER, "moderator@example.org"])

    def test_a_removed_comment_sent_again_by_a_signed_in_reader_is_a_new_one(self):
        client = self.client_for(SIGNED_IN)
        self.send(SIGNED_IN, client, comment="Removed, then sent again.")
        Comment.objects.filter(comment="Removed, then sent again.").update(is_removed=True)
        self.send(SIGNED_IN, client, comment="Removed, then sent again.")
        self.assertEqual(
            Comment.objects.visible().filter(comment="Removed, then sent again.").count(), 1
        )
