"""Each new post e-mailed to its followers, once (blog.following.mailing): who gets it,
which writes announce a post and which do not, scheduled posts, exactly once."""

from __future__ import annotations

import datetime
import io

import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from blog import outbox
from blog.following import mailing
from blog.models import Follower, Mailing, OutgoingMail, Post
from blog.writing import post_writes, save_post

from ..factories import admin_post_form, london, make_post, make_staff
from .mailing_fixtures import (  # noqa: F401 (_forget_rendered: a fixture for each test)
    DB_TASKS,
    _forget_rendered,
    follow,
    mails_to,
    publish,
    run_worker,
    tasks,
)

NOW = london(2026, 5, 6, 10, 0)  # a Wednesday
Status = OutgoingMail.Status


def send_queued_mail() -> None:
    call_command("send_queued_mail", stdout=io.StringIO())


@time_machine.travel(NOW, tick=False)
class WhoGetsItTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()
        follow("ann@example.org")
        follow("bob@example.org", confirmed=False)
        follow("cat@example.org", "Ofsted")
        follow("dan@example.org")
        follow("dan@example.org", "Ofsted")
        follow("eve@example.org", weekly=True)

    def test_each_confirmed_follower_gets_a_tagged_post_once(self):
        post = publish("Inspections", tags=["Ofsted"], user=self.staff)
        self.assertEqual(
            {address: len(mails_to(address)) for address in self.addresses()},
            {"ann@example.org": 1, "bob@example.org": 0, "cat@example.org": 1,
             "dan@example.org": 1, "eve@example.org": 0},
        )  # fmt: skip
        sent = Mailing.objects.get(post=post)
        self.assertEqual((sent.kind, sent.due_at, sent.recipients), ("post", NOW, 3))
        self.assertEqual((sent.started_at, sent.finished_at), (NOW, NOW))
        self.assertEqual(
            sorted(OutgoingMail.objects.values_list("to", "status", "kind")),
            [(a, "sent", "new-post") for a in ("ann@example.org", "cat@example.org",
                                               "dan@example.org")],
        )  # fmt: skip

    def test_a_tags_followers_get_only_the_posts_with_that_tag(self):
        publish("Adoption", tags=["Adoption"], user=self.staff)
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox), ["ann@example.org", "dan@example.org"]
        )

    def test_an_address_following_all_posts_and_a_tag_is_told_of_all_posts(self):
        # Dan's e-mail comes from the following of all posts: its footer and its link.
        publish("Inspections", tags=["Ofsted"], user=self.staff)
        [message] = mails_to("dan@example.org")
        self.assertIn("every new post", message.body)
        dan_all = Follower.objects.get(email="dan@example.org", tag=None)
        self.assertEqual(OutgoingMail.objects.get(to="dan@example.org").follower, dan_all)

    def addresses(self) -> list[str]:
        return sorted(set(Follower.objects.values_list("email", flat=True)))


@time_machine.travel(NOW, tick=False)
class WhichWritesAnnounceTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()
        follow("ann@example.org")

    def test_writes_with_no_person_mail_no_one(self):
        # The importers, the fixture, a restore, the demo data: no user in their scope.
        make_post("Imported", published_at=NOW)
        with post_writes(reason="Loaded from the April 2014 fixture") as writes:
            post = Post.objects.create(
                title="Loaded", body="Text.", author=self.staff, published_at=NOW,
                status=Post.Status.PUBLISHED,
            )  # fmt: skip
            writes.add(post)
        with post_writes(revisions=False) as writes:
            writes.add(post)
        self.assertEqual((Mailing.objects.count(), len(mail.outbox)), (0, 0))

    def test_a_person_who_publishes_nothing_mails_no_one(self):
        # The media admin's re-rendering of the posts that show an image.
        post = make_post("Live", published_at=NOW)
        with post_writes(user=self.staff, revisions=False, announce=False) as writes:
            writes.add(post)
        self.assertEqual(Mailing.objects.count(), 0)

    def test_a_draft_is_not_mailed(self):
        publish("Draft", status=Post.Status.DRAFT, user=self.staff)
        self.assertEqual((Mailing.objects.count(), len(mail.outbox)), (0, 0))

    def test_a_backdated_post_is_not_mailed(self):
        publish("Archive", published_at=NOW - datetime.timedelta(days=1, minutes=1),
                user=self.staff)  # fmt: skip
        self.assertEqual((Mailing.objects.count(), len(mail.outbox)), (0, 0))
        publish("Yesterday", published_at=NOW - datetime.timedelta(hours=23), user=self.staff)
        self.assertEqual(len(mails_to("ann@example.org")), 1)

    def test_publish_now_in_the_editor(self):
        self.client.force_login(self.staff)
        data = admin_post_form(self.staff, title="Caseloads", body="Too high [1].")
        data.update(status="draft", _publish="publish")
        response = self.client.post(reverse("admin:blog_post_add"), data)
        self.assertEqual(response.status_code, 302)
        [message] = mails_to("ann@example.org")
        self.assertIn("Caseloads", message.subject)
        self.assertIn("A source", message.body)  # its reference, saved by the inline

    def test_publish_from_the_posts_list(self):
        draft = make_post("Drafted", status=Post.Status.DRAFT, published_at=NOW)
        self.client.force_login(self.staff)
        self.client.post(
            reverse("admin:blog_post_changelist"),
            {"action": "publish", "_selected_action": [draft.pk]},
        )
        self.assertEqual([m.subject for m in mails_to("ann@example.org")],
                         ["New post: ‘Drafted’ – Child Protection Social Work"])  # fmt: skip

    def test_a_draft_started_days_ago_and_published_from_the_list_is_dated_now_and_mailed(self):
        draft = make_post("Old draft", status=Post.Status.DRAFT,
                          published_at=NOW - datetime.timedelta(days=5))  # fmt: skip
        later = make_post("Scheduled draft", status=Post.Status.DRAFT,
                          published_at=NOW + datetime.timedelta(days=2))  # fmt: skip
        self.client.force_login(self.staff)
        self.client.post(
            reverse("admin:blog_post_changelist"),
            {"action": "publish", "_selected_action": [draft.pk, later.pk]},
        )
        draft.refresh_from_db()
        later.refresh_from_db()
        self.assertEqual(draft.published_at, NOW)
        self.assertEqual(later.published_at, NOW + datetime.timedelta(days=2))
        self.assertEqual([m.subject for m in mails_to("ann@example.org")],
                         ["New post: ‘Old draft’ – Child Protection Social Work"])  # fmt: skip

    def test_a_post_is_mailed_once(self):
        post = publish("Once", user=self.staff)
        post.title = "Once, edited"
        save_post(post, user=self.staff)
        post.status = Post.Status.DRAFT
        save_post(post, user=self.staff)
        post.status = Post.Status.PUBLISHED
        save_post(post, user=self.staff)
        self.assertEqual(len(mails_to("ann@example.org")), 1)
        self.assertEqual(Mailing.objects.count(), 1)


@time_machine.travel(NOW, tick=False)
class ScheduledPostTests(TestCase):
    """With the unit tests' task backend, which defers nothing: what is due later is
    started by `send_queued_mail` once due (the database queue's own deferred task is
    tested below)."""

    LATER = NOW + datetime.timedelta(hours=2)

    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()
        follow("ann@example.org")

    def test_a_scheduled_post_is_mailed_when_it_goes_live(self):
        post = publish("Tomorrow's", published_at=self.LATER, user=self.staff)
        scheduled = Mailing.objects.get(post=post)
        self.assertEqual((scheduled.due_at, scheduled.started_at), (self.LATER, None))
        # Run early (a worker's clock, a stray task): nothing.
        self.assertEqual(mailing.run_mailing.call(scheduled.pk), 0)
        send_queued_mail()
        self.assertEqual(mail.outbox, [])
        with time_machine.travel(self.LATER + datetime.timedelta(minutes=1), tick=False):
            send_queued_mail()
            send_queued_mail()
        self.assertEqual(len(mails_to("ann@example.org")), 1)
        scheduled.refresh_from_db()
        self.assertIsNotNone(scheduled.finished_at)

    def test_a_post_moved_later_is_mailed_at_its_new_time(self):
        post = publish("Moved", published_at=self.LATER, user=self.staff)
        post.published_at = self.LATER + datetime.timedelta(hours=3)
        save_post(post, user=self.staff)
        self.assertEqual(Mailing.objects.get().due_at, post.published_at)
        with time_machine.travel(self.LATER + datetime.timedelta(hours=1), tick=False):
            send_queued_mail()
        self.assertEqual(mail.outbox, [])
        with time_machine.travel(post.published_at, tick=False):
            send_queued_mail()
        self.assertEqual(len(mails_to("ann@example.org")), 1)

    def test_a_scheduled_post_moved_back_into_the_archive_is_not_mailed(self):
        post = publish("Backdated later", published_at=self.LATER, user=self.staff)
        post.published_at = NOW - datetime.timedelta(days=30)
        save_post(post, user=self.staff)
        self.assertEqual(mailing.run_mailing.call(post.mailing.pk), 0)
        with time_machine.travel(self.LATER, tick=False):
            send_queued_mail()
        self.assertEqual(mail.outbox, [])

    def test_a_post_unpublished_before_its_time_is_not_mailed(self):
        post = publish("Withdrawn", published_at=self.LATER, user=self.staff)
        post.status = Post.Status.DRAFT
        save_post(post, user=self.staff)
        with time_machine.travel(self.LATER + datetime.timedelta(days=3), tick=False):
            send_queued_mail()
        self.assertEqual(mail.outbox, [])
        self.assertIsNone(Mailing.objects.get().started_at)


@time_machine.travel(NOW, tick=False)
@DB_TASKS
class DatabaseQueueTests(TestCase):
    """The queue as the site runs it: each task a row of the database, for a worker."""

    LATER = NOW + datetime.timedelta(hours=2)

    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()
        follow("ann@example.org")
        follow("bob@example.org")

    def test_a_scheduled_post_enqueues_its_mailing_for_its_time(self):
        post = publish("Later", published_at=self.LATER, user=self.staff)
        [task] = tasks("run_mailing")
        self.assertEqual((task.run_after, task.args_kwargs["args"]),
                         (self.LATER, [post.mailing.pk]))  # fmt: skip
        # Moved: a task for the new time; the old one will find the post not live.
        post.published_at = self.LATER + datetime.timedelta(hours=1)
        save_post(post, user=self.staff)
        self.assertEqual([t.run_after for t in tasks("run_mailing")],
                         [self.LATER, post.published_at])  # fmt: skip
        with time_machine.travel(self.LATER, tick=False):
            self.assertEqual(mailing.run_mailing.call(post.mailing.pk), 0)
        with time_machine.travel(post.published_at, tick=False):
            self.assertEqual(mailing.run_mailing.call(post.mailing.pk), 2)
        # Written and queued for the worker, not sent in the writer's process.
        self.assertEqual(mail.outbox, [])
        [deliver] = tasks("deliver")
        self.assertEqual(len(deliver.args_kwargs["args"][0]), 2)

    def test_the_worker_runs_it(self):
        post = publish("Now", user=self.staff)
        self.assertEqual(mail.outbox, [])  # the publishing request sent nothing
        run_worker()
        self.assertEqual(sorted(m.to[0] for m in mail.outbox),
                         ["ann@example.org", "bob@example.org"])  # fmt: skip
        post.mailing.refresh_from_db()
        self.assertIsNotNone(post.mailing.finished_at)


@time_machine.travel(NOW, tick=False)
@DB_TASKS
class ExactlyOnceTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()
        cls.followers = [follow(f"reader{i:03}@example.org") for i in range(150)]

    def start(self) -> Mailing:
        post = publish("Once each", user=self.staff)
        mailing.run_mailing.call(post.mailing.pk)
        return post.mailing

    def deliveries(self) -> list[list[int]]:
        return [task.args_kwargs["args"][0] for task in tasks("deliver")]

    def test_starting_a_mailing_twice_writes_its_emails_once(self):
        started = self.start()
        self.assertEqual(mailing.run_mailing.call(started.pk), 0)
        self.assertEqual(OutgoingMail.objects.filter(mailing=started).count(), 150)
        self.assertEqual([len(ids) for ids in self.deliveries()], [100, 50])

    def test_a_worker_stopped_half_way_sends_each_the_rest_once(self):
        started = self.start()
        first, second = self.deliveries()
        outbox.send_rows(first)  # the worker stops after its first task …
        self.assertEqual(len(mail.outbox), 100)
        # … and starts again: the second task, and the first run again (a task the
        # stopped worker had taken and not marked done).
        outbox.send_rows(second)
        outbox.send_rows(first)
        outbox.send_rows(second)
        self.assertEqual(sorted(m.to[0] for m in mail.outbox),
                         sorted(f.email for f in self.followers))  # fmt: skip
        started.refresh_from_db()
        self.assertEqual((started.recipients, started.finished_at), (150, NOW))

    def test_a_row_being_sent_when_a_worker_died_is_not_sent_again(self):
        started = self.start()
        first, _ = self.deliveries()
        OutgoingMail.objects.filter(pk=first[0]).update(status=Status.SENDING, claim="dead")
        outbox.send_rows(first)
        self.assertEqual(len(mail.outbox), 99)
        self.assertEqual(OutgoingMail.objects.get(pk=first[0]).status, Status.SENDING)
        started.refresh_from_db()
        self.assertIsNone(started.finished_at)  # staff decide: the admin lists it as stuck

    def test_a_batch_whose_worker_was_killed_sends_the_rest_once_not_the_uncertain_one(self):
        self.start()
        first, _ = self.deliveries()
        # Killed while sending its third e-mail, an hour and more ago: the first two
        # went; whether the third did is not known; the rest were never tried.
        with time_machine.travel(NOW - datetime.timedelta(hours=2), tick=False):
            OutgoingMail.objects.filter(pk__in=first).update(
                status=Status.SENDING, claim="dead", claimed_at=timezone.now()
            )
            OutgoingMail.objects.filter(pk__in=first[:2]).update(status=Status.SENT)
        self.assertEqual(outbox.release_stuck(), 97)
        self.assertEqual(outbox.release_stuck(), 0)
        outbox.send_rows(tasks("deliver")[-1].args_kwargs["args"][0])
        rest = OutgoingMail.objects.filter(pk__in=first[3:])
        self.assertEqual(sorted(m.to[0] for m in mail.outbox), sorted(r.to for r in rest))
        self.assertEqual(OutgoingMail.objects.get(pk=first[2]).status, Status.SENDING)

    def test_a_batch_claimed_less_than_an_hour_ago_is_left_to_its_worker(self):
        self.start()
        first, _ = self.deliveries()
        with time_machine.travel(NOW - datetime.timedelta(minutes=50), tick=False):
            OutgoingMail.objects.filter(pk__in=first).update(
                status=Status.SENDING, claim="slow", claimed_at=timezone.now()
            )
        self.assertEqual(outbox.release_stuck(), 0)

    def test_a_mailing_started_again_writes_no_second_email_to_an_address(self):
        # A run stopped before it was marked started (a mailing's rows are written in
        # one transaction, so only a crash of the database could leave this): started
        # again after the same address confirmed a second following, it writes nothing
        # new, as the (mailing, address) record holds.
        started = self.start()
        Mailing.objects.filter(pk=started.pk).update(started_at=None)
        follow("reader000@example.org", "Ofsted")
        post = started.post
        save_post(post, tags=["Ofsted"], user=self.staff)
        self.assertEqual(mailing.run_mailing.call(started.pk), 150)
        self.assertEqual(OutgoingMail.objects.filter(mailing=started).count(), 150)

    def test_a_follower_who_unsubscribes_before_their_email_goes_gets_none(self):
        started = self.start()
        gone = self.followers[0]
        gone.delete()  # unsubscribing deletes the following
        for ids in self.deliveries():
            outbox.send_rows(ids)
        self.assertEqual(len(mail.outbox), 149)
        self.assertEqual(mails_to(gone.email), [])
        row = OutgoingMail.objects.get(mailing=started, to=gone.email)
        self.assertEqual((row.status, row.follower), (Status.CANCELLED, None))
        started.refresh_from_db()
        self.assertIsNotNone(started.finished_at)

    def test_a_post_withdrawn_while_its_mailing_is_sent_is_not_sent_further(self):
        started = self.start()
        first, second = self.deliveries()
        outbox.send_rows(first)
        post = started.post
        post.status = Post.Status.DRAFT
        save_post(post, user=self.staff)
        outbox.send_rows(second)
        self.assertEqual(len(mail.outbox), 100)
        self.assertEqual(
            set(OutgoingMail.objects.filter(pk__in=second).values_list("status", "last_error")),
            {(Status.CANCELLED, "The post is no longer published.")},
        )
