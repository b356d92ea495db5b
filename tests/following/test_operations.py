"""What staff's tools do with followers: erase_commenter deletes an address's
followings and its e-mails, the hourly purge forgets unconfirmed requests, backups hold
followers and restore them, and the privacy page says all this."""

from __future__ import annotations

import datetime
import io
import tempfile
from pathlib import Path
from unittest import mock

import time_machine
from django.core.management import call_command
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from taggit.models import Tag

from blog.models import Follower, OutgoingMail
from blog.operations import privacy

from ..factories import london, make_post
from ..html import soup, text
from . import follow, follow_and_confirm

NOW = london(2014, 6, 1, 12)


@time_machine.travel(NOW, tick=False)
class OperationsTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_post("Stepping up", published_at=london(2014, 4, 15, 9), tags=["Ofsted"])

    def setUp(self):
        self.ann = follow_and_confirm(Client(), "Ann@Example.org", tag="ofsted")
        follow(Client(REMOTE_ADDR="192.0.2.2"), "ann@example.org", frequency="weekly")
        self.bob = follow_and_confirm(Client(REMOTE_ADDR="192.0.2.3"), "bob@example.org")


def erase(*args: str) -> str:
    out = io.StringIO()
    call_command("erase_commenter", *args, stdout=out)
    return out.getvalue()


class EraseTests(OperationsTestCase):
    def test_erase_commenter_deletes_the_followings_and_the_outbox_rows(self):
        self.assertEqual(OutgoingMail.objects.filter(to="ann@example.org").count(), 2)
        dry = erase("ANN@example.org", "--dry-run")
        self.assertIn("Following by e-mail: new posts tagged “Ofsted”", dry)
        self.assertIn("unconfirmed", dry)
        self.assertIn("Dry run: 2 followings and 2 e-mails would be erased", dry)
        self.assertEqual(Follower.objects.filter(email="ann@example.org").count(), 2)

        output = erase("ANN@example.org")
        self.assertIn("Deleted 2 followings by e-mail and 2 e-mails in the outbox", output)
        self.assertEqual(list(Follower.objects.values_list("email", flat=True)),
                         ["bob@example.org"])  # fmt: skip
        self.assertFalse(OutgoingMail.objects.filter(to__iexact="ann@example.org").exists())
        self.assertTrue(OutgoingMail.objects.filter(to="bob@example.org").exists())
        self.assertEqual(
            erase("ann@example.org"), "No comments by ann@example.org: nothing to erase.\n"
        )

    def test_erase_person_counts_what_went(self):
        erased = privacy.erase_person(" ann@EXAMPLE.org ")
        self.assertEqual((erased.comments, erased.followings, erased.emails), (0, 2, 2))


class PurgeTests(OperationsTestCase):
    def setUp(self):
        super().setUp()
        clock = mock.patch.object(privacy, "monotonic", lambda: 5000.0)
        clock.start()
        self.addCleanup(clock.stop)
        self.addCleanup(setattr, privacy, "_next_purge_at", privacy._next_purge_at)
        privacy._next_purge_at = 0.0  # a process that has served nothing yet

    @override_settings(BLOG_FORGET_UNCONFIRMED_FOLLOWERS=True)
    def test_the_hourly_purge_forgets_unconfirmed_requests_after_a_week(self):
        with time_machine.travel(NOW + datetime.timedelta(days=7, seconds=1), tick=False):
            self.client.get("/")
        self.assertEqual(sorted(Follower.objects.values_list("email", "confirmed_at")),
                         [("ann@example.org", NOW), ("bob@example.org", NOW)])  # fmt: skip
        self.assertFalse(OutgoingMail.objects.filter(kind="follow-confirm").exists())

    @override_settings(BLOG_FORGET_UNCONFIRMED_FOLLOWERS=True)
    def test_not_before_a_week(self):
        with time_machine.travel(NOW + datetime.timedelta(days=6), tick=False):
            self.client.get("/")
        self.assertEqual(Follower.objects.count(), 3)

    def test_off_it_runs_no_query(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            self.client.get("/")
        self.assertFalse([q for q in queries if q["sql"].startswith("DELETE")])


class BackupTests(OperationsTestCase):
    def test_followers_are_backed_up_and_restored(self):
        before = list(Follower.objects.order_by("pk").values())
        with tempfile.TemporaryDirectory() as folder:
            call_command("backup", output=Path(folder), stdout=io.StringIO())
            [path] = Path(folder).glob("cpsw-*.jsonl.gz")
            Follower.objects.all().delete()
            Follower.objects.create(email="later@example.org")
            call_command("restore", str(path), output=Path(folder) / "copies",
                         interactive=False, stdout=io.StringIO())  # fmt: skip
        self.assertEqual(list(Follower.objects.order_by("pk").values()), before)
        self.assertEqual(Follower.objects.get(pk=self.ann.pk).tag, Tag.objects.get(name="Ofsted"))


@time_machine.travel(NOW, tick=False)
class PrivacyPageTests(TestCase):
    def test_says_what_is_kept_for_how_long(self):
        page = soup(self.client.get(reverse("blog:privacy")))
        section = text(page.select_one("main"))
        for said in (
            "Following the blog by e-mail",
            "Your e-mail address",
            "what you follow",
            "how often",
            "when you asked",
            "the request is deleted 7 days after it was made",
            "3 in all, within a day",
            "counted for an hour",
            "kept for as long as you follow",
            "Stopping deletes everything kept about that following",
            "followers included",
        ):
            self.assertIn(said, section)
        self.assertIsNotNone(page.select_one("h2#following"))
        # The form's link to it lands on that section.
        self.assertIsNotNone(page.select_one('footer a[href="/privacy/#following"]'))
