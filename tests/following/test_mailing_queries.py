"""A mailing costs the same queries for 5 followers as for 50 (but for one insert every
500 rows and one task every 100), and renders its templates once, not once a follower:
what lets one worker mail 10,000 followers (bench/mailing.py measures that)."""

from __future__ import annotations

from unittest import mock

import time_machine
from django.contrib.sites.models import Site
from django.db import connection
from django.template.loader import render_to_string
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from blog import outbox
from blog.following import mailing
from blog.models import Follower, OutgoingMail

from ..factories import london, make_staff
from .mailing_fixtures import DB_TASKS, _forget_rendered, follow, publish, tasks  # noqa: F401

NOW = london(2026, 5, 6, 10, 0)


@time_machine.travel(NOW, tick=False)
@DB_TASKS
class MailingQueryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()

    def setUp(self):
        Site.objects.get_current()  # Django keeps it for the process: counted in neither

    def followers(self, n: int) -> None:
        Follower.objects.all().delete()
        for i in range(n):
            # Half follow all posts, half the post's tag; one address both.
            follow(f"reader{n}-{i:03}@example.org", "Ofsted" if i % 2 else None)
        follow(f"reader{n}-000@example.org", "Ofsted")
        follow(f"unconfirmed{n}@example.org", confirmed=False)

    def start(self, n: int) -> tuple[int, int]:
        """The queries of starting a mailing to ``n`` followers, and the rows written."""
        self.followers(n)
        post = publish(f"For {n}", tags=["Ofsted"], user=self.staff)
        pk = post.mailing.pk
        with CaptureQueriesContext(connection) as queries:
            mailing.run_mailing.call(pk)
        return len(queries), OutgoingMail.objects.filter(mailing=post.mailing).count()

    def test_starting_a_mailing_takes_the_same_queries_for_5_or_50_followers(self):
        five, rows5 = self.start(5)
        fifty, rows50 = self.start(50)
        self.assertEqual((rows5, rows50), (5, 50))
        self.assertEqual(five, fifty)
        # Lock the mailing, read its post, its followers (tags in the same query), insert
        # the rows, read their ids, mark it started, enqueue their delivery; and the
        # savepoint's two.
        self.assertEqual(fifty, 9)

    def send(self, n: int) -> tuple[int, int]:
        """The queries of sending the first batch of a mailing to ``n`` followers."""
        self.followers(n)
        post = publish(f"Send {n}", tags=["Ofsted"], user=self.staff)
        mailing.run_mailing.call(post.mailing.pk)
        [ids] = [task.args_kwargs["args"][0] for task in tasks("deliver") if len(
            task.args_kwargs["args"][0]) == n]  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            sent = outbox.send_rows(ids)
        return len(queries), sent

    def test_sending_costs_one_update_an_email_and_a_fixed_few(self):
        mailing.forget_rendered()
        five, _ = self.send(5)
        mailing.forget_rendered()
        fifty, sent = self.send(50)
        self.assertEqual(sent, 50)
        # Each e-mail's own update; the rest (claim, read, the post's text once, its
        # author and references, the Site, the finished mailing) does not grow.
        self.assertEqual(fifty - 50, five - 5)

    def test_the_templates_are_rendered_once_a_mailing_and_kind_of_follower(self):
        self.followers(50)
        post = publish("Rendered once", tags=["Ofsted"], user=self.staff)
        mailing.run_mailing.call(post.mailing.pk)
        with mock.patch(
            "blog.following.mailing.render_to_string", side_effect=render_to_string
        ) as render:
            for task in tasks("deliver"):
                outbox.send_rows(task.args_kwargs["args"][0])
        # The text and the HTML, for followers of all posts and for the tag's.
        self.assertEqual(render.call_count, 4)
        self.assertEqual(OutgoingMail.objects.filter(status="sent").count(), 50)
