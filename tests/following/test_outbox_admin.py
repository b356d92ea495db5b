"""What staff see of the e-mail the site sends (blog.admin_mail, the desk): every e-mail
read-only, what waits, failed or is stuck, "Send again now"; each mailing's progress,
counted for the whole list in its one query."""

from __future__ import annotations

import datetime

import time_machine
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blog.models import Mailing, OutgoingMail

from ..factories import london, make_post, make_staff
from ..html import soup, texts
from .mailing_fixtures import _forget_rendered, follow  # noqa: F401 (a fixture)

NOW = london(2026, 5, 6, 10, 0)
MAILS = reverse("admin:blog_outgoingmail_changelist")
MAILINGS = reverse("admin:blog_mailing_changelist")
Status = OutgoingMail.Status


def a_mailing(title: str, statuses: list[str]) -> Mailing:
    """A started mailing of a new post with one e-mail in each of ``statuses``."""
    post = make_post(title, published_at=NOW)
    mailing = Mailing.objects.create(
        kind=Mailing.Kind.POST, post=post, due_at=NOW, started_at=NOW, recipients=len(statuses)
    )
    for i, status in enumerate(statuses):
        follower = follow(f"{post.slug}-{i}@example.org")
        OutgoingMail.objects.create(
            kind=OutgoingMail.Kind.NEW_POST, to=follower.email, mailing=mailing,
            follower=follower, status=status, sent_at=NOW if status == Status.SENT else None,
            last_error="SMTPRecipientsRefused: 550 no such user" if status == Status.FAILED else "",
        )  # fmt: skip
    return mailing


@time_machine.travel(NOW, tick=False)
class MailingAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()

    def setUp(self):
        self.client.force_login(self.staff)

    def test_each_mailing_shows_its_progress(self):
        statuses = [Status.SENT, Status.SENT, Status.QUEUED, Status.FAILED, Status.CANCELLED]
        sent = a_mailing("Thresholds", statuses)
        Mailing.objects.create(kind=Mailing.Kind.POST, post=make_post("Later"), due_at=NOW)
        page = soup(self.client.get(MAILINGS))
        rows = page.select("#result_list tbody tr")
        self.assertEqual(len(rows), 2)
        progress = {
            row.select_one(".field-name").get_text(strip=True): " ".join(
                row.select_one(".field-progress").get_text(" ", strip=True).split()
            )
            for row in rows
        }
        self.assertEqual(
            progress,
            {
                "New post: Thresholds": "2 of 5 sent · 1 waiting · 1 failed · 1 not sent",
                "New post: Later": "Not started",
            },
        )
        bar = page.select_one(".mailing-progress__bar")
        self.assertEqual(
            [span["class"][0] for span in bar.select("span")],
            ["mailing-progress__sent", "mailing-progress__waiting",
             "mailing-progress__failed", "mailing-progress__cancelled"],
        )  # fmt: skip
        self.assertEqual(bar.select_one(".mailing-progress__sent")["style"], "width: 40.00%")
        link = page.select_one(".mailing-progress__text")["href"]
        self.assertEqual(link, f"{MAILS}?mailing={sent.pk}")

    def test_the_list_counts_in_one_query_however_many_mailings(self):
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.client.get(MAILINGS).status_code, 200)
            return len(captured)

        a_mailing("One", [Status.SENT])
        one = queries()
        for n in range(3):
            a_mailing(f"More {n}", [Status.SENT, Status.FAILED, Status.QUEUED])
        self.assertEqual(queries(), one)

    def test_a_mailings_page_links_to_its_emails(self):
        mailing = a_mailing("Thresholds", [Status.SENT, Status.FAILED])
        a_mailing("Other", [Status.SENT])
        page = soup(self.client.get(reverse("admin:blog_mailing_change", args=[mailing.pk])))
        self.assertIsNone(page.select_one("input[type=submit][name=_save]"))
        links = {a.get_text(strip=True): a["href"] for a in page.select(".field-emails a")}
        self.assertEqual(links["All"], f"{MAILS}?mailing={mailing.pk}")
        self.assertEqual(links["Failed"], f"{MAILS}?mailing={mailing.pk}&status=failed")
        emails = soup(self.client.get(links["All"]))
        self.assertEqual(
            sorted(texts(emails, "#result_list .field-to")),
            ["thresholds-0@example.org", "thresholds-1@example.org"],
        )
        failed = soup(self.client.get(links["Failed"]))
        self.assertEqual(texts(failed, "#result_list .field-to"), ["thresholds-1@example.org"])
        # The chosen mailing is named among the filters.
        self.assertIn("New post: Thresholds", failed.select_one("#changelist-filter").get_text())

    def test_no_one_adds_or_deletes_a_mailing(self):
        mailing = a_mailing("Thresholds", [Status.SENT])
        self.assertEqual(self.client.get(reverse("admin:blog_mailing_add")).status_code, 403)
        delete = reverse("admin:blog_mailing_delete", args=[mailing.pk])
        self.assertEqual(self.client.post(delete, {"post": "yes"}).status_code, 403)
        self.assertTrue(Mailing.objects.filter(pk=mailing.pk).exists())


@time_machine.travel(NOW, tick=False)
class OutgoingMailAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()
        cls.mailing = a_mailing(
            "Thresholds", [Status.SENT, Status.FAILED, Status.QUEUED, Status.SENDING]
        )
        cls.notice = OutgoingMail.objects.create(
            kind=OutgoingMail.Kind.MODERATOR_NOTICE, to="editor@example.org",
            subject="New comment (awaiting approval) on ‘Thresholds’", body="…",
            status=Status.FAILED, attempts=30, last_error="ConnectionRefusedError: refused",
        )  # fmt: skip
        # Being sent by a worker that stopped a quarter of an hour ago.
        OutgoingMail.objects.filter(status=Status.SENDING).update(
            claim="dead", claimed_at=NOW - datetime.timedelta(minutes=15)
        )

    def setUp(self):
        self.client.force_login(self.staff)

    def addresses(self, query: str = "") -> list[str]:
        return sorted(texts(soup(self.client.get(f"{MAILS}{query}")), "#result_list .field-to"))

    def test_the_list_says_what_each_is_and_where_it_stands(self):
        page = soup(self.client.get(MAILS))
        self.assertEqual(page.select_one("h1").get_text(strip=True), "Outgoing e-mail")
        self.assertIsNone(page.select_one(".object-tools .addlink"))
        row = next(
            tr
            for tr in page.select("#result_list tbody tr")
            if tr.select_one(".field-to").get_text(strip=True) == "editor@example.org"
        )
        self.assertEqual(row.select_one(".field-kind_name").get_text(), "Moderators' notice")
        self.assertIn("New comment (awaiting approval)", row.select_one(".field-what").get_text())
        self.assertEqual(row.select_one(".field-state").get_text(strip=True), "Failed")
        self.assertEqual(row.select_one(".field-attempts").get_text(), "30")
        self.assertEqual(
            row.select_one(".field-error").get_text(), "ConnectionRefusedError: refused"
        )
        mailing_row = page.select_one("#result_list .field-what a")
        self.assertEqual(
            mailing_row["href"], reverse("admin:blog_mailing_change", args=[self.mailing.pk])
        )

    def test_filters_and_search(self):
        self.assertEqual(self.addresses("?status=failed"),
                         ["editor@example.org", "thresholds-1@example.org"])  # fmt: skip
        self.assertEqual(self.addresses("?kind=moderator"), ["editor@example.org"])
        self.assertEqual(self.addresses("?stuck=yes"), ["thresholds-3@example.org"])
        self.assertEqual(self.addresses("?q=THRESHOLDS-2"), ["thresholds-2@example.org"])
        with time_machine.travel(NOW - datetime.timedelta(minutes=6), tick=False):
            # Claimed nine minutes before then... a worker may still be at it.
            OutgoingMail.objects.filter(status=Status.SENDING).update(
                claimed_at=NOW - datetime.timedelta(minutes=15)
            )
            self.assertEqual(self.addresses("?stuck=yes"), [])

    def test_an_email_is_read_not_edited(self):
        url = reverse("admin:blog_outgoingmail_change", args=[self.notice.pk])
        page = soup(self.client.get(url))
        self.assertIsNone(page.select_one("input[name=_save]"))
        self.assertIsNone(page.select_one("textarea, input[name=to]"))
        self.assertIn("editor@example.org", page.get_text())
        self.assertEqual(self.client.post(url, {"to": "x@example.org"}).status_code, 403)
        self.notice.refresh_from_db()
        self.assertEqual(self.notice.to, "editor@example.org")
        self.assertEqual(self.client.get(reverse("admin:blog_outgoingmail_add")).status_code, 403)

    def test_send_again_now(self):
        chosen = OutgoingMail.objects.exclude(status=Status.QUEUED)
        response = self.client.post(
            MAILS,
            {"action": "send_again", "_selected_action": [row.pk for row in chosen]},
            follow=True,
        )
        self.assertIn(
            "3 e-mail(s) queued to be sent now. 1 already sent, left as they are.",
            texts(soup(response), ".messagelist li"),
        )
        # The unit tests' task backend sends at once: the failed, and the stuck one
        # staff chose to send again.
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox),
            ["editor@example.org", "thresholds-1@example.org", "thresholds-3@example.org"],
        )
        self.assertEqual(OutgoingMail.objects.filter(status=Status.QUEUED).count(), 1)
        self.mailing.refresh_from_db()
        self.assertIsNone(self.mailing.finished_at)  # one still waits

    def test_the_desk_says_what_waits_failed_or_is_stuck(self):
        page = soup(self.client.get(reverse("admin:index")))
        panel = page.select_one("[aria-labelledby=desk-mail]")
        self.assertEqual(
            texts(panel, ".desk-list__title"),
            ["1 e-mail waiting to be sent", "2 failed in the last week",
             "1 stuck while being sent"],
        )  # fmt: skip
        self.assertEqual(panel.select_one(".desk-list__title")["href"], f"{MAILS}?status=queued")
        OutgoingMail.objects.exclude(status=Status.SENT).update(status=Status.SENT)
        panel = soup(self.client.get(reverse("admin:index"))).select_one(
            "[aria-labelledby=desk-mail]"
        )
        self.assertEqual(texts(panel, ".desk-panel__empty"), ["Nothing is waiting to be sent."])
