"""Commenters' privacy (blog.operations.privacy): erasing a commenter, forgetting IP addresses on
demand and on a timer, and the page that says what is kept."""

from __future__ import annotations

import datetime
from io import StringIO
from unittest import mock

import time_machine
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Q
from django.test import Client, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_comments.models import Comment as BaseComment

from blog.durations import in_words
from blog.models import Comment, Post
from blog.operations import privacy
from blog.operations.privacy import ERASED_NAME, ERASED_TEXT
from blog.pagecache import current_token

from .caching import token_queries
from .discussion import comment_and_confirm
from .factories import london, make_post, make_staff, make_user
from .html import soup, text, texts

NOW = london(2014, 6, 1, 12)
ANN = "ann@example.org"
ANN_WORDS = "Supervision saved my practice"
# The thread's shape, and everything about a comment erasure must not touch.
SHAPE = ("pk", "thread_id", "parent_id", "level", "order", "nested_count", "object_pk",
         "submit_date", "is_public", "is_removed")  # fmt: skip
PERSONAL = ("user_id", "user_name", "user_email", "user_url", "ip_address", "comment",
            "followup", "is_highlighted")  # fmt: skip


def erase(email: str, *options: str) -> str:
    out = StringIO()
    call_command("erase_commenter", email, *options, stdout=out)
    return out.getvalue()


def purge(*options: str) -> str:
    out = StringIO()
    call_command("purge_comment_ips", *options, stdout=out)
    return out.getvalue()


def rows(*fields: str) -> list[tuple]:
    return list(Comment.objects.order_by("pk").values_list(*fields))


def comment(post: Post, name: str, email: str, text: str, parent: Comment | None = None,
            **fields) -> Comment:  # fmt: skip
    return Comment.objects.create(
        content_object=post, site_id=settings.SITE_ID, user_name=name, user_email=email,
        comment=text, parent_id=parent.pk if parent else 0,
        submit_date=fields.pop("submit_date", NOW), **fields,
    )  # fmt: skip


@time_machine.travel(NOW, tick=False)
class ErasureTestCase(TestCase):
    """A thread in which Ann writes, is answered, answers back and is answered again;
    Ann also wrote, in capitals, on another post (held for approval there), and once
    while signed in to an account whose address is hers now, under an older one."""

    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Learning Organisations", published_at=london(2014, 4, 9, 9))
        cls.other = make_post("Pressure of Work", published_at=london(2014, 4, 2, 9))
        cls.account = make_user("ann", first_name="Ann", last_name="Reader", email=ANN)
        hours = [NOW - datetime.timedelta(hours=n) for n in range(6, 0, -1)]
        cls.ann = comment(
            cls.post, "Ann Reader", ANN, ANN_WORDS, user_url="https://ann.example.net/",
            ip_address="192.0.2.1", followup=True, is_highlighted=True, submit_date=hours[0],
        )  # fmt: skip
        cls.bob = comment(cls.post, "Bob Answerer", "bob@example.org", "Bob replies here.",
                          cls.ann, ip_address="192.0.2.2", followup=True,
                          submit_date=hours[1])  # fmt: skip
        cls.ann_again = comment(cls.post, "Ann Reader", ANN, "Ann answers Bob.", cls.bob,
                                ip_address="192.0.2.1", submit_date=hours[2])  # fmt: skip
        cls.cy = comment(cls.post, "Cy", "cy@example.org", "Cy has the last word.",
                         cls.ann_again, submit_date=hours[3])  # fmt: skip
        cls.ann_held = comment(cls.other, "ANN READER", "Ann@Example.ORG", "Held words.",
                               is_public=False, ip_address="192.0.2.1",
                               submit_date=hours[4])  # fmt: skip
        # Posted while signed in: the account's name, and its address at the time.
        cls.ann_signed_in = comment(cls.other, "Ann Reader", "ann.old@example.org",
                                    "Signed-in words.", user=cls.account,
                                    submit_date=hours[5])  # fmt: skip
        cls.anns = [cls.ann, cls.ann_again, cls.ann_held, cls.ann_signed_in]
        staff = make_staff("moderator")
        for c in (cls.ann, cls.bob):
            LogEntry.objects.create(
                user=staff, content_type=ContentType.objects.get_for_model(Comment),
                object_id=str(c.pk), object_repr=str(c), action_flag=CHANGE,
            )  # fmt: skip

    def others(self) -> list[tuple]:
        return [row for row in rows(*SHAPE, *PERSONAL) if row[0] not in self.ids(self.anns)]

    @staticmethod
    def ids(comments: list[Comment]) -> set[int]:
        return {c.pk for c in comments}


class EraseCommenterTests(ErasureTestCase):
    def test_the_thread_keeps_its_shape(self):
        shape = rows(*SHAPE)
        self.assertEqual(privacy.erase_commenter(ANN), 4)
        self.assertEqual(rows(*SHAPE), shape)
        self.assertEqual(Comment.objects.count(), 6)

    def test_every_trace_of_the_person_goes_from_the_database(self):
        others = self.others()
        privacy.erase_commenter(ANN)
        erased = (None, ERASED_NAME, "", "", None, ERASED_TEXT, False, False)
        personal = {row[0]: row[1:] for row in rows("pk", *PERSONAL)}
        for c in self.anns:
            self.assertEqual(personal[c.pk], erased)
        self.assertEqual(self.others(), others)  # Bob and Cy as they were
        # Nothing of hers in django-comments' table (whatever model reads it), nor in
        # the admin's history, which named the comment by its author and opening words.
        traces = (Q(user_email__icontains="ann") | Q(user_name__icontains="ann")
                  | Q(comment__icontains="Supervision") | Q(ip_address="192.0.2.1"))  # fmt: skip
        self.assertFalse(BaseComment.objects.filter(traces).exists())
        reprs = dict(LogEntry.objects.values_list("object_id", "object_repr"))
        self.assertEqual(reprs[str(self.ann.pk)], f"{ERASED_NAME}: {ERASED_TEXT[:50]}...")
        self.assertTrue(reprs[str(self.bob.pk)].startswith("Bob Answerer"))
        # The account is the staff's to keep or delete; the comments no longer point at it.
        self.assertTrue(type(self.account).objects.filter(pk=self.account.pk).exists())

    def test_the_address_matches_in_any_case_and_through_the_account(self):
        self.assertEqual(privacy.erase_commenter("  ANN@EXAMPLE.ORG "), 4)
        self.assertEqual(privacy.erase_commenter(ANN), 0)  # nothing left to erase

    def test_an_address_of_nobody_erases_nothing(self):
        before = rows(*SHAPE, *PERSONAL)
        self.assertEqual(privacy.erase_commenter("nobody@example.org"), 0)
        self.assertEqual(rows(*SHAPE, *PERSONAL), before)

    def test_the_post_page_the_feed_the_reply_page_and_discussions_show_the_notice(self):
        pages = {
            "post": self.post.get_absolute_url(),
            "feed": reverse("blog:feed-comments"),
            "reply": reverse("comments-xtd-reply", args=[self.ann_again.pk]),
            "discussions": reverse("blog:discussions"),
        }
        reader = Client()
        for name, url in pages.items():
            self.assertContains(reader.get(url), "Ann Reader", msg_prefix=name)
        token = current_token()
        privacy.erase_commenter(ANN)
        self.assertNotEqual(current_token(), token)
        for name, url in pages.items():
            # The same reader, served by the page cache: the change shows at once.
            response = reader.get(url)
            for gone in ("Ann Reader", ANN, ANN_WORDS, "Ann answers Bob", "ann.example.net"):
                self.assertNotContains(response, gone, msg_prefix=name)
        page = soup(reader.get(pages["post"]))
        self.assertEqual(
            texts(page, ".comment__author"), [ERASED_NAME, "Bob Answerer", ERASED_NAME, "Cy"]
        )
        self.assertEqual(texts(page, ".comment__text")[0], ERASED_TEXT)
        self.assertEqual(text(page.select_one(f"#c{self.bob.pk} .comment__text")),
                         "Bob replies here.")  # fmt: skip
        reply = soup(reader.get(pages["reply"]))
        self.assertEqual(text(reply.h1), f"Reply to {ERASED_NAME}")
        self.assertEqual(text(reply.select_one(".comment-quote .comment__text")), ERASED_TEXT)
        self.assertContains(reader.get(pages["feed"]), f"<name>{ERASED_NAME}</name>")

    def test_no_more_emails_to_the_erased_follower(self):
        comment_and_confirm(Client(), self.post, reply_to=self.ann.pk, name="Di",
                            email="di@example.org", comment="A first reply.")  # fmt: skip
        self.assertEqual(self.followups(ANN), 1)  # she followed the thread until now
        privacy.erase_commenter(ANN)
        mail.outbox.clear()
        # Another reader: with the clock stopped, Di's second comment would look like
        # her first confirmed again.
        comment_and_confirm(Client(), self.post, reply_to=self.ann.pk, name="Ed",
                            email="ed@example.org", comment="A second reply.")  # fmt: skip
        self.assertEqual(self.followups(ANN), 0)
        self.assertEqual(self.followups("bob@example.org"), 1)  # Bob still follows

    @staticmethod
    def followups(address: str) -> int:
        return len([m for m in mail.outbox if [a.lower() for a in m.to] == [address]])


class EraseCommandTests(ErasureTestCase):
    def test_erases_and_says_what_it_did(self):
        output = erase("Ann@example.org")
        self.assertEqual(self.ids(Comment.objects.filter(user_name=ERASED_NAME)),
                         self.ids(self.anns))  # fmt: skip
        for c in self.anns:
            self.assertIn(f"#{c.pk} ", output)
        self.assertIn("“Pressure of Work”", output)
        self.assertIn("Erased 4 comments by Ann@example.org", output)
        self.assertIn("The account 'ann' has this e-mail address", output)

    def test_a_dry_run_lists_and_writes_nothing(self):
        before, token = rows(*SHAPE, *PERSONAL), current_token()
        output = erase(ANN, "--dry-run")
        self.assertEqual(rows(*SHAPE, *PERSONAL), before)
        self.assertEqual(current_token(), token)
        self.assertEqual(sum(line.startswith("#") for line in output.splitlines()), 4)
        self.assertIn("held", output)
        self.assertIn("Dry run: 4 comments would be erased. Nothing was changed.", output)

    def test_an_invalid_address_is_an_error_and_changes_nothing(self):
        before = rows(*SHAPE, *PERSONAL)
        for bad in ("ann", "ann@", "", "ann@example.org; bob@example.org"):
            with (
                self.subTest(bad=bad),
                self.assertRaisesMessage(CommandError, "is not an e-mail address"),
            ):
                erase(bad)
        self.assertEqual(rows(*SHAPE, *PERSONAL), before)

    def test_no_comments_is_a_clean_message(self):
        self.assertEqual(erase("nobody@example.org"),
                         "No comments by nobody@example.org: nothing to erase.\n")  # fmt: skip


@time_machine.travel(NOW, tick=False)
class PurgeTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        post = make_post("Learning Organisations", published_at=london(2014, 1, 9, 9))
        cls.ages = {}
        for days in (90, 31, 30, 29, 1):
            c = comment(post, f"Reader {days}", f"r{days}@example.org", "Words.",
                        ip_address=f"192.0.2.{days}",
                        submit_date=NOW - datetime.timedelta(days=days, minutes=1))  # fmt: skip
            cls.ages[c.pk] = days

    def kept(self) -> list[int]:
        """The ages in days of the comments that still have their address."""
        ips = dict(Comment.objects.values_list("pk", "ip_address"))
        return sorted((self.ages.get(pk, 0) for pk, ip in ips.items() if ip), reverse=True)


class PurgeCommandTests(PurgeTestCase):
    def test_forgets_the_addresses_older_than_the_days_given(self):
        self.assertIn("Forgot the IP address of 3 comments", purge("--days", "30"))
        self.assertEqual(self.kept(), [29, 1])
        self.assertIn("of 0 comments", purge("--days", "30"))
        purge("--days", "0")
        self.assertEqual(self.kept(), [])

    @override_settings(BLOG_COMMENT_IP_RETENTION_DAYS=60)
    def test_the_days_default_to_the_setting(self):
        self.assertIn("(60 days ago)", purge())
        self.assertEqual(self.kept(), [31, 30, 29, 1])

    @override_settings(BLOG_COMMENT_IP_RETENTION_DAYS=None)
    def test_with_no_setting_it_asks_for_days(self):
        with self.assertRaisesMessage(CommandError, "give --days N"):
            purge()
        with self.assertRaisesMessage(CommandError, "--days must be 0 or more"):
            purge("--days", "-1")
        self.assertEqual(self.kept(), [90, 31, 30, 29, 1])

    def test_one_update_of_one_table_and_the_cached_pages_kept(self):
        token = current_token()
        with CaptureQueriesContext(connection) as queries:
            privacy.purge_comment_ips(NOW - datetime.timedelta(days=30))
        statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
        self.assertEqual(len(statements), 1, statements)
        self.assertTrue(statements[0].startswith('UPDATE "django_comments"'), statements)
        self.assertEqual(current_token(), token)  # no page shows an address


class AutomaticRetentionTests(PurgeTestCase):
    """IpRetentionMiddleware: each process forgets old addresses at its first request,
    then at most once an hour (on the monotonic clock, moved here by hand)."""

    def setUp(self):
        self.clock = 1000.0
        patcher = mock.patch.object(privacy, "monotonic", lambda: self.clock)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(setattr, privacy, "_next_purge_at", privacy._next_purge_at)
        privacy._next_purge_at = 0.0  # a process that has served nothing yet

    @override_settings(BLOG_COMMENT_IP_RETENTION_DAYS=30)
    def test_the_first_request_then_hourly(self):
        self.assertEqual(self.client.get("/").status_code, 200)
        self.assertEqual(self.kept(), [29, 1])
        # Two days later, within the hour for this process: nothing yet, not a query.
        with time_machine.travel(NOW + datetime.timedelta(days=2), tick=False):
            self.clock += privacy.PURGE_INTERVAL_SECONDS - 1
            with CaptureQueriesContext(connection) as queries:
                self.client.get("/privacy/")
            self.assertFalse([q for q in queries if "django_comments" in q["sql"]])
            self.assertEqual(self.kept(), [29, 1])
            self.clock += 1
            self.client.get("/privacy/")  # served from the page cache: still counts
            self.assertEqual(self.kept(), [1])

    @override_settings(BLOG_COMMENT_IP_RETENTION_DAYS=None)
    def test_none_keeps_the_addresses(self):
        with CaptureQueriesContext(connection) as queries:
            self.client.get("/")
        self.assertFalse([q for q in queries if q["sql"].startswith("UPDATE")])
        self.assertEqual(self.kept(), [90, 31, 30, 29, 1])

    @override_settings(BLOG_COMMENT_IP_RETENTION_DAYS=30)
    def test_posting_a_comment_keeps_its_address_for_now(self):
        post = Post.objects.get()
        new = comment_and_confirm(self.client, post, comment="New words.")
        self.assertEqual(new.ip_address, "127.0.0.1")
        self.assertEqual(self.kept(), [29, 1, 0])


@time_machine.travel(NOW, tick=False)
class PrivacyPageTests(TestCase):
    def page(self, client: Client | None = None):
        response = (client or self.client).get(reverse("blog:privacy"))
        self.assertEqual(response.status_code, 200)
        return soup(response)

    @override_settings(BLOG_COMMENT_IP_RETENTION_DAYS=30, BLOG_COMMENT_LINK_MAX_AGE=7 * 86400,
                       DEFAULT_FROM_EMAIL="blog@example.org")  # fmt: skip
    def test_says_what_is_kept_and_for_how_long(self):
        page = self.page()
        self.assertEqual(text(page.h1), "Privacy")
        content = text(page.select_one("main"))
        for said in (
            "IP addresses are deleted 30 days after the comment was sent",
            "which works for 7 days",
            "counted for 1 minute",
            "kept for 2 weeks at most",  # the session cookie, staff only
            "Your browser keeps it for a year",  # the CSRF cookie
            f"under the name “{ERASED_NAME}”, its words replaced by: {ERASED_TEXT}",
            "each new e-mail brings a fresh one",
        ):
            self.assertIn(said, content)
        self.assertEqual(page.select_one('main a[href^="mailto:"]')["href"],
                         "mailto:blog@example.org")  # fmt: skip

    def test_the_figures_follow_the_settings(self):
        with override_settings(
            BLOG_COMMENT_IP_RETENTION_DAYS=14,
            BLOG_COMMENT_LINK_MAX_AGE=datetime.timedelta(hours=36),
            BLOG_COMMENTS_RATE_PERIOD=120,
            BLOG_PRIVACY_CONTACT="privacy@example.org",
        ):
            content = text(self.page().select_one("main"))
        self.assertIn("IP addresses are deleted 2 weeks after", content)
        self.assertIn("which works for 36 hours", content)
        self.assertIn("counted for 2 minutes", content)
        self.assertIn("privacy@example.org", content)
        with override_settings(BLOG_COMMENT_IP_RETENTION_DAYS=None):
            fresh = Client()
            fresh.cookies["messages"] = "none-that-can-be-read"  # past the cache
            content = text(self.page(fresh).select_one("main"))
        self.assertIn("IP addresses are kept with the comment", content)
        self.assertNotIn("IP addresses are deleted", content)

    def test_the_link_lifetime_is_worded_as_every_other_period(self):
        # One helper (blog.durations) words both: two weeks never reads as "14 days" in
        # one sentence and "2 weeks" in the next.
        with override_settings(BLOG_COMMENT_IP_RETENTION_DAYS=14,
                               BLOG_COMMENT_LINK_MAX_AGE=datetime.timedelta(days=14)):  # fmt: skip
            content = text(self.page().select_one("main"))
        self.assertIn("IP addresses are deleted 2 weeks after", content)
        self.assertIn("which works for 2 weeks", content)

    def test_served_from_the_page_cache_and_linked_from_every_page_and_the_form(self):
        self.page()
        with CaptureQueriesContext(connection) as queries:
            self.page()
        self.assertEqual(len(queries), token_queries())  # the page cache's token, nothing else
        post = make_post("Learning Organisations", published_at=london(2014, 4, 9, 9))
        page = soup(self.client.get(post.get_absolute_url()))
        self.assertEqual(page.select_one(".site-footer__privacy a")["href"], "/privacy/")
        self.assertEqual(page.select_one(".comment-form__note a")["href"], "/privacy/#comments")
        here = self.page().select_one(".site-footer__privacy a")
        self.assertEqual(here["aria-current"], "page")

    def test_listed_in_the_sitemap(self):
        self.assertContains(self.client.get("/sitemap.xml"), "/privacy/</loc>")


class InWordsTests(TestCase):
    def test_periods_as_the_page_says_them(self):
        cases = {
            datetime.timedelta(days=1): "1 day",
            datetime.timedelta(days=30): "30 days",
            datetime.timedelta(days=14): "2 weeks",
            datetime.timedelta(days=364): "a year",
            datetime.timedelta(hours=36): "36 hours",
            datetime.timedelta(seconds=60): "1 minute",
            datetime.timedelta(seconds=90): "90 seconds",
            datetime.timedelta(0): "0 seconds",
        }
        for duration, words in cases.items():
            with self.subTest(duration=duration):
                self.assertEqual(in_words(duration), words)
