"""Asking to follow (blog.following.views.follow): double opt-in, the same answer for
every address, and limits no one can use to fill a stranger's inbox."""

from __future__ import annotations

import datetime
from unittest import mock

import time_machine
from django.core import mail
from django.db import DatabaseError
from django.test import Client, TestCase, override_settings
from django.utils import timezone

from blog import outbox
from blog.following import subscriptions
from blog.models import Follower, OutgoingMail

from ..factories import london, make_post
from ..html import soup, text
from . import SENT, confirm_path, confirmations, follow, follow_and_confirm, press

NOW = london(2014, 6, 1, 12)


@time_machine.travel(NOW, tick=False)
class FollowTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_post("Stepping up", published_at=london(2014, 4, 15, 9), tags=["workforce", "Ofsted"])
        make_post("A draft", status="draft", tags=["unpublished tag"])


class AskingTests(FollowTestCase):
    def test_a_request_writes_an_unconfirmed_row_and_sends_only_the_confirmation(self):
        response = follow(self.client, "Ann@Example.org", frequency="weekly")
        self.assertEqual(response.status_code, 303)
        self.assertEqual(response["Location"], SENT)
        follower = Follower.objects.get()
        self.assertEqual((follower.email, follower.tag, follower.frequency, follower.confirmed_at),
                         ("ann@example.org", None, "weekly", None))  # fmt: skip
        [message] = mail.outbox
        self.assertEqual(message.to, ["ann@example.org"])
        self.assertEqual(
            message.subject, "Confirm you want new posts by e-mail – Child Protection Social Work"
        )
        for said in ("every new post", "in a weekly digest", "works for 7 days",
                     "ignore this e-mail: nothing more will be sent"):  # fmt: skip
            self.assertIn(said, message.body)
        self.assertNotIn("List-Unsubscribe", message.extra_headers)
        row = OutgoingMail.objects.get()
        self.assertEqual(
            (row.kind, row.to), (OutgoingMail.Kind.FOLLOW_CONFIRMATION, follower.email)
        )

    def test_a_tag_is_followed_by_its_slug(self):
        follow(self.client, tag="ofsted")
        follower = Follower.objects.get()
        self.assertEqual(follower.tag.name, "Ofsted")
        [message] = mail.outbox
        self.assertIn("‘Ofsted’", message.subject)
        self.assertIn("asked for new posts tagged “Ofsted”", message.body)
        self.assertIn("each one as it is published", message.body)

    def test_a_tag_no_reader_can_see_is_refused(self):
        for slug in ("unpublished-tag", "no-such-tag", "x" * 300):
            with self.subTest(slug=slug):
                response = follow(self.client, tag=slug)
                self.assertContains(response, "cannot be followed", status_code=400)
        self.assertFalse(Follower.objects.exists())

    def test_the_check_your_inbox_page(self):
        page = soup(self.client.get(SENT))
        self.assertEqual(text(page.h1), "Check your inbox")
        self.assertIn("The link works for 7 days", text(page.select_one("main")))
        self.assertEqual(page.select_one("meta[name=robots]")["content"], "noindex")

    def test_the_honeypot_sends_nothing(self):
        response = follow(self.client, honeypot="https://spam.example/")
        self.assertContains(response, "a field meant to stay empty was filled in", status_code=400)
        self.assertEqual((Follower.objects.count(), len(mail.outbox)), (0, 0))

    def test_a_frequency_that_is_not_offered_is_refused(self):
        response = follow(self.client, frequency="daily")
        self.assertContains(response, "Please choose how often", status_code=400)

    def test_only_post_acts(self):
        self.assertEqual(self.client.get("/follow/").status_code, 200)
        self.assertEqual(self.client.put("/follow/").status_code, 405)
        self.assertFalse(Follower.objects.exists())

    def test_the_row_and_its_email_are_written_together_or_not_at_all(self):
        with (
            mock.patch.object(outbox, "enqueue", side_effect=DatabaseError("down")),
            self.assertRaises(DatabaseError),
        ):
            follow(self.client)
        self.assertEqual((Follower.objects.count(), OutgoingMail.objects.count()), (0, 0))


class NoEnumerationTests(FollowTestCase):
    """Whoever types an address learns nothing of whether it follows."""

    def answer(self, email: str, **kwargs) -> tuple[int, str]:
        response = follow(Client(), email, **kwargs)
        return response.status_code, response["Location"]

    def test_the_same_answer_for_a_new_a_waiting_and_a_confirmed_address(self):
        follow_and_confirm(Client(), "confirmed@example.org")
        follow(Client(), "waiting@example.org")
        mail.outbox.clear()
        answers = {
            email: self.answer(email)
            for email in ("new@example.org", "waiting@example.org", "confirmed@example.org")
        }
        self.assertEqual(set(answers.values()), {(303, SENT)})
        # The new address was asked to confirm; the others got nothing new.
        self.assertEqual([m.to for m in mail.outbox], [["new@example.org"]])

    def test_a_confirmed_following_is_not_changed_by_someone_typing_its_address(self):
        follower = follow_and_confirm(Client(), "ann@example.org")
        follow(Client(), "ann@example.org", frequency="weekly")
        follower.refresh_from_db()
        self.assertEqual(follower.frequency, "post")
        self.assertIsNotNone(follower.confirmed_at)


@override_settings(BLOG_FOLLOW_RATE_LIMIT=3, BLOG_FOLLOW_RATE_PERIOD=3600,
                   BLOG_FOLLOW_CONFIRMATIONS_PER_ADDRESS=2,
                   BLOG_FOLLOW_CONFIRMATION_PERIOD=86400)  # fmt: skip
class LimitTests(FollowTestCase):
    def test_one_network_is_limited_per_period_with_a_429(self):
        for n in range(3):
            self.assertEqual(follow(self.client, f"r{n}@example.org").status_code, 303)
        response = follow(self.client, "r3@example.org")
        self.assertContains(response, "not taken. Please try again in an hour", status_code=429)
        self.assertEqual(Follower.objects.count(), 3)
        # Another network is not held back; the same one is again after the period.
        other = Client(REMOTE_ADDR="192.0.2.7")
        self.assertEqual(follow(other, "r3@example.org").status_code, 303)
        with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
            self.assertEqual(follow(self.client, "r4@example.org").status_code, 303)

    def test_one_confirmation_per_following_per_period_whoever_asks(self):
        for n in range(5):
            client = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")  # many networks
            self.assertEqual(follow(client, "victim@example.org").status_code, 303)
        self.assertEqual(len(confirmations()), 1)
        with time_machine.travel(NOW + datetime.timedelta(days=1, seconds=1), tick=False):
            follow(Client(), "victim@example.org", frequency="weekly")
        self.assertEqual(len(confirmations()), 2)
        # The new e-mail says what is asked now, and the row follows it.
        self.assertIn("weekly digest", confirmations()[-1].body)
        self.assertEqual(Follower.objects.get().frequency, "weekly")

    def test_an_address_gets_at_most_so_many_confirmations_in_all(self):
        for tag in ("", "workforce", "ofsted"):
            follow(Client(REMOTE_ADDR="192.0.2.9"), "victim@example.org", tag=tag)
        self.assertEqual(len(confirmations()), 2)
        # The third was not even written: nothing waits that no e-mail asked about.
        self.assertEqual(Follower.objects.count(), 2)
        # Other addresses are not held back by it.
        follow(Client(), "other@example.org", tag="ofsted")
        self.assertEqual(len(confirmations()), 3)

    def test_the_limits_answer_as_everything_else_does(self):
        follow(self.client, "victim@example.org")
        again = follow(Client(), "victim@example.org")
        self.assertEqual((again.status_code, again["Location"]), (303, SENT))

    def test_a_request_that_waited_past_the_period_can_be_asked_again(self):
        follow(self.client, "ann@example.org")
        with time_machine.travel(NOW + datetime.timedelta(days=6), tick=False):
            follow(Client(), "ann@example.org")
            press(Client(), confirm_path())
        self.assertTrue(Follower.objects.get().is_confirmed)


class DigestTests(FollowTestCase):
    def test_confirming_a_weekly_following_asks_for_the_digest_to_be_scheduled(self):
        ensure = mock.Mock()
        with mock.patch.dict("sys.modules", {"blog.following.mailing": mock.Mock(
                ensure_digest_scheduled=ensure)}):  # fmt: skip
            follow_and_confirm(self.client, "ann@example.org", frequency="weekly")
            follow_and_confirm(self.client, "bob@example.org", frequency="post")
        ensure.assert_called_once_with()

    def test_without_the_mailing_module_confirming_still_works(self):
        with mock.patch.dict("sys.modules", {"blog.following.mailing": None}):
            follower = follow_and_confirm(self.client, frequency="weekly")
        self.assertTrue(follower.is_confirmed)

    def test_forgetting_the_unconfirmed_after_a_week(self):
        follow(self.client, "waiting@example.org")
        follow_and_confirm(Client(), "confirmed@example.org")
        later = timezone.now() + datetime.timedelta(days=7, seconds=1)
        self.assertEqual(subscriptions.forget_unconfirmed(later), 1)
        self.assertEqual(list(Follower.objects.values_list("email", flat=True)),
                         ["confirmed@example.org"])  # fmt: skip
        self.assertFalse(OutgoingMail.objects.filter(kind="follow-confirm").exists())
