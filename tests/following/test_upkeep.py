"""The worker's own round of mail upkeep (blog.upkeep): one chain of rounds, started by
the first task a worker finishes, each doing what a cron job would otherwise do."""

from __future__ import annotations

import datetime

import time_machine
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from blog import outbox, upkeep
from blog.models import OutgoingMail

from ..factories import london, make_staff
from .mailing_fixtures import (  # noqa: F401 (_forget_rendered: a fixture for each test)
    DB_TASKS,
    _forget_rendered,
    follow,
    publish,
    run_worker,
    tasks,
)

NOW = london(2026, 5, 6, 10, 0)
Status = OutgoingMail.Status


@time_machine.travel(NOW, tick=False)
@DB_TASKS
class ChainTests(TestCase):
    def test_the_first_task_a_worker_finishes_starts_one_chain_of_rounds(self):
        outbox.send(mail.EmailMessage("Hello", "Text", to=["ann@example.org"]), kind="moderator")
        self.assertEqual(tasks("do_round"), [])
        run_worker()
        [first] = tasks("do_round")
        self.assertEqual(first.run_after, NOW + upkeep.EVERY)
        # More tasks finished: still one round waiting.
        outbox.send(mail.EmailMessage("Again", "Text", to=["bob@example.org"]), kind="moderator")
        run_worker()
        self.assertEqual(len(tasks("do_round")), 1)
        self.assertEqual(len(mail.outbox), 2)

    def test_a_round_schedules_the_next(self):
        upkeep.schedule()
        with time_machine.travel(NOW + upkeep.EVERY, tick=False):
            run_worker()
            rounds = tasks("do_round")
        self.assertEqual([r.status for r in rounds], ["SUCCESSFUL", "READY"])
        self.assertEqual(rounds[1].run_after, NOW + 2 * upkeep.EVERY)

    def test_the_unit_tests_backend_schedules_nothing(self):
        with (
            self.settings(
                TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
            ),
            self.assertNumQueries(0),
        ):
            self.assertFalse(upkeep.schedule())


@time_machine.travel(NOW, tick=False)
@DB_TASKS
class RoundTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()
        for n in range(3):
            follow(f"reader{n}@example.org")

    def test_a_mailing_whose_start_was_lost_is_started(self):
        post = publish("Lost", user=self.staff)
        # Its run_mailing task lost with a worker that died starting it.
        tasks("run_mailing")[0].delete()
        self.assertIsNone(post.mailing.started_at)
        done = upkeep.run()
        self.assertEqual(done["started"], 3)
        run_worker()
        self.assertEqual(len(mail.outbox), 3)

    def test_a_killed_workers_batch_is_released_and_long_late_mail_requeued(self):
        def queue(to: str) -> OutgoingMail:
            [row] = outbox.send(mail.EmailMessage("Hi", "Text", to=[to]), kind="moderator")
            return row

        # A worker killed two hours ago while sending ``uncertain`` (the lower id of its
        # claim: it may have gone, and stays), with ``untried`` after it in its batch;
        # ``late`` lost its task (an RQ enqueue after a commit the process did not outlive).
        uncertain, untried, late = (queue(f"{n}@example.org") for n in ("eve", "cat", "dan"))
        DBTaskResult.objects.all().delete()
        two_hours_ago = timezone.now() - datetime.timedelta(hours=2)
        OutgoingMail.objects.filter(pk__in=[uncertain.pk, untried.pk]).update(
            status=Status.SENDING, claim="dead", claimed_at=two_hours_ago
        )
        OutgoingMail.objects.filter(pk=late.pk).update(next_attempt_at=two_hours_ago)
        done = upkeep.run()
        self.assertEqual((done["released"], done["requeued"]), (1, 1))
        run_worker()
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox), ["cat@example.org", "dan@example.org"]
        )
        self.assertEqual(OutgoingMail.objects.get(pk=uncertain.pk).status, Status.SENDING)

    def test_email_done_with_is_forgotten_after_the_days_the_privacy_page_gives(self):
        with time_machine.travel(NOW - datetime.timedelta(days=31), tick=False):
            old = outbox.send(
                mail.EmailMessage("Old", "Text", to=["old@example.org"]), kind="moderator"
            )
            waiting = outbox.send(
                mail.EmailMessage("Wait", "Text", to=["w@example.org"]), kind="moderator"
            )
        OutgoingMail.objects.filter(pk=old[0].pk).update(status=Status.SENT)
        recent = outbox.send(
            mail.EmailMessage("New", "Text", to=["new@example.org"]), kind="moderator"
        )
        self.assertEqual(upkeep.run()["forgotten"], 1)
        self.assertEqual(sorted(OutgoingMail.objects.values_list("pk", flat=True)),
                         [waiting[0].pk, recent[0].pk])  # fmt: skip
        page = self.client.get(reverse("blog:privacy"))
        self.assertContains(page, "it is kept for 30 days")
