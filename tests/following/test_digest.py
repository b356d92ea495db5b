"""The weekly digest (blog.following.mailing): the week's posts each weekly follower
follows, once a week, the Monday after at 08:00; none in a week without posts; each
week's digest scheduling the next, with no cron."""

from __future__ import annotations

import datetime
import io

import time_machine
from bs4 import BeautifulSoup
from django.core import mail
from django.core.management import call_command
from django.test import TestCase

from blog.following import links, mailing
from blog.models import Follower, Mailing, Post

from ..factories import london, make_post
from .mailing_fixtures import DB_TASKS, _forget_rendered, follow, mails_to, tasks  # noqa: F401

NOW = london(2026, 5, 6, 10, 0)  # Wednesday; the week of Monday 4 May 2026
WEEK = datetime.date(2026, 5, 4)
DUE = london(2026, 5, 11, 8, 0)
UTC = datetime.UTC


def send_queued_mail() -> None:
    call_command("send_queued_mail", stdout=io.StringIO())


class WeekTests(TestCase):
    def test_a_week_runs_monday_to_monday_on_the_sites_clock(self):
        self.assertEqual(mailing.week_of(london(2026, 5, 10, 23, 59)), WEEK)
        self.assertEqual(mailing.week_of(london(2026, 5, 11, 0, 0)), WEEK + datetime.timedelta(7))
        # 23:30 on Sunday in London is Sunday, though it is Monday in UTC+1 and beyond.
        self.assertEqual(mailing.week_of(london(2026, 5, 3, 23, 30)), WEEK - datetime.timedelta(7))
        self.assertEqual(mailing.week_bounds(WEEK), (london(2026, 5, 4), london(2026, 5, 11)))
        self.assertEqual(mailing.digest_due(WEEK), DUE)

    def test_the_week_the_clocks_change_the_digest_is_still_at_eight(self):
        # 29 March 2026: British Summer Time begins.
        week = datetime.date(2026, 3, 23)
        self.assertEqual(mailing.digest_due(week), datetime.datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
        start, end = mailing.week_bounds(week)
        self.assertEqual(end.astimezone(UTC) - start.astimezone(UTC), datetime.timedelta(hours=167))


@time_machine.travel(NOW, tick=False)
class SchedulingTests(TestCase):
    def test_no_weekly_follower_no_digest(self):
        follow("ann@example.org")
        follow("uno@example.org", weekly=True, confirmed=False)
        self.assertIsNone(mailing.ensure_digest_scheduled())
        self.assertFalse(Mailing.objects.exists())

    @DB_TASKS
    def test_this_weeks_digest_is_made_once_with_its_task_for_monday_eight(self):
        follow("wally@example.org", weekly=True)
        digest = mailing.ensure_digest_scheduled()
        self.assertEqual(
            (digest.kind, digest.week, digest.due_at, digest.post), ("digest", WEEK, DUE, None)
        )
        self.assertEqual(mailing.ensure_digest_scheduled(), digest)
        self.assertEqual(Mailing.objects.count(), 1)
        [task] = tasks("run_digest")
        self.assertEqual((task.run_after, task.args_kwargs["args"]), (DUE, [digest.pk]))
        # Run early, it does nothing.
        self.assertEqual(mailing.run_digest.call(digest.pk), 0)
        self.assertIsNone(Mailing.objects.get().started_at)

    def test_send_queued_mail_schedules_it(self):
        follow("wally@example.org", weekly=True)
        send_queued_mail()
        self.assertEqual(Mailing.objects.get().week, WEEK)


@time_machine.travel(NOW, tick=False)
class DigestTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.wally = follow("wally@example.org", weekly=True)
        follow("tess@example.org", "Ofsted", weekly=True)
        follow("ada@example.org", "Adoption", weekly=True)
        follow("dual@example.org", weekly=True)
        follow("dual@example.org", "Ofsted", weekly=True)
        follow("uno@example.org", weekly=True, confirmed=False)
        follow("ann@example.org")  # each post, not the digest
        cls.monday = make_post(
            "Monday's <post>", "The inspectors came on Monday. " * 40,
            published_at=london(2026, 5, 4, 9, 0), tags=["Ofsted"],
        )  # fmt: skip
        cls.friday = make_post("Friday's", "Caseloads.", published_at=london(2026, 5, 8, 12))
        # Scheduled for Sunday: live by the time the digest goes.
        cls.sunday = make_post("Sunday's", "Rest.", published_at=london(2026, 5, 10, 18))
        make_post("The Sunday before", published_at=london(2026, 5, 3, 23, 30))
        make_post("Next Monday's", published_at=london(2026, 5, 11, 7, 30))
        make_post("A draft", status=Post.Status.DRAFT, published_at=london(2026, 5, 5))

    def run_digest(self) -> None:
        mailing.ensure_digest_scheduled()
        with time_machine.travel(DUE, tick=False):
            send_queued_mail()

    def titles(self, address: str) -> list[str]:
        [message] = mails_to(address)
        [(html, _)] = message.alternatives
        page = BeautifulSoup(html, "html.parser")
        return [h2.get_text(strip=True) for h2 in page.select("h2")]

    def test_each_weekly_follower_gets_the_weeks_posts_they_follow_once(self):
        self.run_digest()
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox),
            ["dual@example.org", "tess@example.org", "wally@example.org"],
        )
        self.assertEqual(self.titles("wally@example.org"),
                         ["Monday's <post>", "Friday's", "Sunday's"])  # fmt: skip
        self.assertEqual(self.titles("dual@example.org"), self.titles("wally@example.org"))
        self.assertEqual(self.titles("tess@example.org"), ["Monday's <post>"])
        digest = Mailing.objects.get(week=WEEK)
        self.assertEqual((digest.recipients, digest.started_at, digest.finished_at),
                         (3, DUE, DUE))  # fmt: skip

    def test_the_digests_contents(self):
        self.run_digest()
        [message] = mails_to("tess@example.org")
        self.assertEqual(
            message.subject,
            "1 new post in the week of 4 May 2026 – Child Protection Social Work",
        )
        url = f"http://127.0.0.1:8000{self.monday.get_absolute_url()}"
        tess = Follower.objects.get(email="tess@example.org")
        self.assertEqual(
            message.extra_headers["List-Unsubscribe"], f"<{links.unsubscribe_url(tess)}>"
        )
        [(html, _)] = message.alternatives
        page = BeautifulSoup(html, "html.parser")
        self.assertIn("Monday&#x27;s &lt;post&gt;", html)
        self.assertEqual(page.select_one("h2 a")["href"], url)
        self.assertIn("Monday, 4 May", page.get_text())
        self.assertIn("The inspectors came on Monday.", page.get_text())
        self.assertIn("…", page.get_text())  # the list's excerpt, not the whole post
        self.assertIn("weekly digest of new posts tagged", page.get_text(" ", strip=True))
        text = message.body
        self.assertIn("Monday's <post>\nMonday, 4 May · by ", text)
        self.assertIn(f"Read the post: {url}\n", text)
        self.assertIn(links.unsubscribe_url(tess), text)

    def test_the_next_weeks_digest_is_scheduled_and_a_week_without_posts_sends_none(self):
        self.run_digest()
        second = Mailing.objects.get(week=WEEK + datetime.timedelta(7))
        self.assertEqual(second.due_at, london(2026, 5, 18, 8, 0))
        mail.outbox.clear()
        # Its one post: the one before 08:00 on its Monday, untagged.
        with time_machine.travel(second.due_at, tick=False):
            send_queued_mail()
        self.assertEqual(sorted(m.to[0] for m in mail.outbox),
                         ["dual@example.org", "wally@example.org"])  # fmt: skip
        self.assertEqual(self.titles("wally@example.org"), ["Next Monday's"])
        mail.outbox.clear()
        third = Mailing.objects.get(week=WEEK + datetime.timedelta(14))
        with time_machine.travel(third.due_at, tick=False):
            send_queued_mail()
        self.assertEqual(mail.outbox, [])
        third.refresh_from_db()
        self.assertEqual((third.recipients, third.finished_at), (0, third.due_at))
        self.assertTrue(Mailing.objects.filter(week=WEEK + datetime.timedelta(21)).exists())

    def test_a_digest_started_late_schedules_the_week_after_its_own(self):
        mailing.ensure_digest_scheduled()
        with time_machine.travel(DUE + datetime.timedelta(days=9), tick=False):
            send_queued_mail()
        weeks = sorted(Mailing.objects.values_list("week", flat=True))
        self.assertEqual(weeks, [WEEK + datetime.timedelta(7 * n) for n in range(3)])

    def test_the_digest_is_sent_once(self):
        self.run_digest()
        digest = Mailing.objects.get(week=WEEK)
        with time_machine.travel(DUE, tick=False):
            self.assertEqual(mailing.run_digest.call(digest.pk), 0)
            send_queued_mail()
        self.assertEqual(len(mail.outbox), 3)
