"""Database faults mid-load (blog.faults.dbfaults): a page answers 503 ("try again shortly"),
never 500; a comment that hit the fault is not saved, and its writer gets a 503 with
their text in a form to send again; the next request, on a fresh connection, works.

On PostgreSQL the faults are real: the site's session killed with pg_terminate_backend
from a second connection (between requests, and inside one), and the server's port
made to refuse connections. On SQLite they are the ones it has: another connection
holding the write lock, so that the site's write or read fails ("database table is
locked": the in-memory test database shares its cache between connections, where a lock
fails at once rather than after the busy timeout).
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import time
import unittest
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.db import close_old_connections, connection
from django.test import Client, TestCase, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_comments.signals import comment_will_be_posted
from django_comments_xtd.signals import confirmation_received

from blog import outbox
from blog.discussion.plaintext import quoted
from blog.faults.dbfaults import RETRY_AFTER_SECONDS
from blog.models import Comment, OutgoingMail, UsedConfirmationLink
from blog.pagecache import token_in_cache
from config.settings.base import cache_from_url
from tools.serve import free_port

from .discussion import confirmation_path, form_data, post_comment, press, row_counts
from .factories import make_post, make_user
from .following.mailing_fixtures import DB_TASKS, run_worker, tasks
from .html import soup

TEXT = "Supervision should be weekly.\n\nAt the very least."
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL faults")
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite faults")


class FaultTestCase(TransactionTestCase):
    serialized_rollback = True  # the Site row the data migration wrote

    def setUp(self):
        self.post = make_post("Supervision", "How often?")
        self.reader = make_user("reader", first_name="Rita", email="rita@example.org")
        # As a browser sees the site: a fault's page, not the test client's exception.
        self.client = Client(raise_request_exception=False)

    def sign_in(self) -> None:
        self.client.force_login(self.reader)

    def assert_text_kept(self, response) -> dict[str, str]:
        """A 503 to retry later, with the text in a form that sends it again; what
        that form sends."""
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], str(RETRY_AFTER_SECONDS))
        page = soup(response)
        self.assertIn("could not save your comment just now", page.get_text(" "))
        form = page.select_one('form[action="/comments/post/"]')
        self.assertIsNotNone(form, "no form to send the comment again")
        # A browser drops the newline that may open a textarea (Django's widget writes one).
        kept = form.select_one('textarea[name="comment"]').get_text().removeprefix("\n")
        self.assertEqual(kept, TEXT)
        data = {field["name"]: field.get("value", "") for field in form.select("input[name]")}
        data["comment"] = TEXT
        return data

    def assert_503_page(self, response) -> None:
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], str(RETRY_AFTER_SECONDS))
        self.assertContains(response, "Please try again shortly", status_code=503)

    def assert_resent(self, data: dict[str, str]) -> None:
        """Sending the kept form again, once the database is back, posts the comment once."""
        before = Comment.objects.count()
        self.assertEqual(self.client.post("/comments/post/", data).status_code, 302)
        self.assertEqual(Comment.objects.count(), before + 1)
        self.assertEqual(Comment.objects.latest("pk").comment, TEXT.strip())


# PostgreSQL -------------------------------------------------------------------------


def terminate(victim) -> None:
    """pg_terminate_backend on ``victim``'s session, from a second connection, and wait
    (at most 5 s) until the session is gone."""
    import psycopg

    pid = victim.connection.info.backend_pid
    settings = victim.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
        password=settings["PASSWORD"], dbname=settings["NAME"], autocommit=True,
    ) as other:  # fmt: skip
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the session outlived pg_terminate_backend"
            time.sleep(0.01)


@contextmanager
def killed_when(signal) -> Iterator[None]:
    """Terminate the site's own session when ``signal`` is sent, mid-request."""

    def receiver(**kwargs) -> None:
        terminate(connection)

    signal.connect(receiver, dispatch_uid="test-kill")
    try:
        yield
    finally:
        signal.disconnect(dispatch_uid="test-kill")


@contextmanager
def database_down() -> Iterator[None]:
    """Every new connection refused: the server's port, for now, is one nothing
    listens on."""
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port


@on_postgresql
class PostgreSQLFaultTests(FaultTestCase):
    def test_a_session_killed_between_requests_costs_one_503_never_a_500(self):
        self.assertEqual(self.client.get(self.post.get_absolute_url()).status_code, 200)
        terminate(connection)
        # A page not in the page cache yet: built, it needs the database.
        url = reverse("blog:post-index")
        with self.assertLogs("django.request", "ERROR") as logs:
            self.assert_503_page(self.client.get(url))
        self.assertIn("Service Unavailable", logs.output[0])
        self.assertEqual(self.client.get(url).status_code, 200)

    @unittest.skipUnless(token_in_cache(), "the token is read from the database")
    def test_with_the_token_in_redis_a_cached_page_needs_no_session(self):
        url = self.post.get_absolute_url()
        self.assertEqual(self.client.get(url).status_code, 200)
        terminate(connection)
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(url).status_code, 200)
        self.assertEqual(len(queries), 0)
        # The killed session is found, and replaced, by the next request that needs one.
        with self.assertLogs("django.request", "ERROR"):
            self.assert_503_page(self.client.get(reverse("blog:post-index")))
        self.assertEqual(self.client.get(reverse("blog:post-index")).status_code, 200)

    def test_with_health_checks_a_session_killed_between_requests_goes_unnoticed(self):
        # Production's settings (CONN_HEALTH_CHECKS with CONN_MAX_AGE); the test client
        # skips what a server does at the start of each request, so it is done here.
        keys = ("CONN_HEALTH_CHECKS", "CONN_MAX_AGE")
        saved = {key: connection.settings_dict[key] for key in keys}
        connection.settings_dict.update(CONN_HEALTH_CHECKS=True, CONN_MAX_AGE=60)
        connection.close()
        try:
            url = self.post.get_absolute_url()
            self.assertEqual(self.client.get(url).status_code, 200)
            terminate(connection)
            close_old_connections()  # request_started, as the WSGI handler sends it
            self.assertEqual(self.client.get(url).status_code, 200)
        finally:
            connection.settings_dict.update(saved)
            connection.close()

    def test_a_signed_in_comment_whose_session_is_killed_is_not_saved_and_keeps_its_text(self):
        self.sign_in()
        before = row_counts()
        with (
            killed_when(comment_will_be_posted),
            self.assertLogs("blog.faults.dbfaults", "WARNING"),
        ):
            response = self.client.post("/comments/post/", form_data(self.post, comment=TEXT))
        data = self.assert_text_kept(response)
        self.assertContains(response, "Your comment was not posted yet", status_code=503)
        self.assertEqual(row_counts(), before)
        self.assert_resent(data)

    def test_a_confirmation_whose_session_is_killed_before_it_commits_saves_nothing(self):
        self.client.post("/comments/post/", form_data(self.post, comment=TEXT))
        link = confirmation_path(mail.outbox[-1])
        before = row_counts()
        with killed_when(confirmation_received):
            response = self.client.post(link)  # the page's button
        self.assertEqual(response.status_code, 503)
        self.assertContains(response, "The link in your e-mail still works", status_code=503)
        self.assertEqual(soup(response).select_one("textarea").get_text(), TEXT.strip())
        self.assertEqual(row_counts(), before)
        self.assertFalse(UsedConfirmationLink.objects.exists())  # rolled back with it
        # Pressed again: published, once; then the link is used.
        self.assertEqual(self.client.post(link).status_code, 302)
        self.assertContains(self.client.post(link), "This link has already been used")
        self.assertEqual(Comment.objects.filter(comment=TEXT.strip()).count(), 1)

    @DB_TASKS
    def test_e_mail_claimed_as_the_session_is_killed_waits_again_untried(self):
        # Through the site's worker: the claim committed, the session killed before
        # its rows are read; the e-mail waits again, and so does its task.
        [row] = outbox.send(
            EmailMessage("Hello", "Text", to=["rita@example.org"]), kind="moderator"
        )
        killed = []

        def kill_after_the_claim(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if not killed and sql.startswith("UPDATE") and '"claim"' in sql:
                killed.append(sql)  # the claim is committed; the session goes
                terminate(connection)
            return result

        start = timezone.now()
        with (
            time_machine.travel(start, tick=False),
            connection.execute_wrapper(kill_after_the_claim),
            self.assertLogs("blog.outbox", "WARNING"),  # reconnected to release it
        ):
            run_worker()
        self.assertTrue(killed)
        row.refresh_from_db()
        self.assertEqual((row.status, row.claim), (OutgoingMail.Status.QUEUED, ""))
        self.assertEqual(mail.outbox, [])
        [task] = tasks("deliver")
        self.assertEqual((task.status, task.run_after), ("READY", start + timedelta(seconds=1)))

        with time_machine.travel(task.run_after, tick=False):
            run_worker()  # the task's next run sends it
        row.refresh_from_db()
        self.assertEqual(row.status, OutgoingMail.Status.SENT)
        self.assertEqual([m.to for m in mail.outbox], [["rita@example.org"]])

    def test_with_the_database_down_a_comment_gets_its_text_back_in_a_form(self):
        data = form_data(self.post, comment=TEXT)
        with database_down(), self.assertLogs("django.request", "ERROR"):
            response = self.client.post("/comments/post/", data)
            resend = self.assert_text_kept(response)
            self.assert_503_page(self.client.get(self.post.get_absolute_url()))
        self.assertEqual(row_counts(), (0, 0, 0))
        self.assertEqual(self.client.get(self.post.get_absolute_url()).status_code, 200)
        self.client.post("/comments/post/", resend)
        # The confirmation e-mail quotes the text, line by line.
        self.assertIn(quoted(TEXT.strip()), mail.outbox[-1].body)
        # Its link followed while the database is down: the text, shown from the link.
        link = confirmation_path(mail.outbox[-1])
        with database_down(), self.assertLogs("django.request", "ERROR"):
            response = self.client.get(link)
        self.assertEqual(response.status_code, 503)
        self.assertIn(TEXT.strip(), soup(response).select_one("textarea").get_text())
        self.assertContains(response, "link in your e-mail still works", status_code=503)
        # Pressed while the database is down: the same.
        with database_down(), self.assertLogs("django.request", "ERROR"):
            response = self.client.post(link)
        self.assertIn(TEXT.strip(), soup(response).select_one("textarea").get_text())
        self.assertContains(response, "link in your e-mail still works", status_code=503)
        self.assertEqual(self.client.post(link).status_code, 302)
        self.assertEqual(Comment.objects.filter(comment=TEXT.strip()).count(), 1)


# SQLite -----------------------------------------------------------------------------


@contextmanager
def write_locked(table: str) -> Iterator[None]:
    """Another connection writing to ``table``, its transaction open: the site can
    neither write (SQLite has one writer) nor read that table."""
    other = sqlite3.connect(connection.settings_dict["NAME"], uri=True, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute(f'UPDATE "{table}" SET id = id WHERE 0')
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@on_sqlite
class SQLiteFaultTests(FaultTestCase):
    def test_a_signed_in_comment_refused_the_write_lock_keeps_its_text(self):
        self.sign_in()
        before = row_counts()
        with write_locked("django_comments"), self.assertLogs("blog.faults.dbfaults", "WARNING"):
            response = self.client.post("/comments/post/", form_data(self.post, comment=TEXT))
        data = self.assert_text_kept(response)
        self.assertContains(response, "Your comment was not posted yet", status_code=503)
        self.assertEqual(row_counts(), before)
        self.assert_resent(data)

    def test_a_page_refused_its_read_answers_503_never_500(self):
        url = self.post.get_absolute_url()
        self.client.get(url)
        with write_locked("blog_contentversion"), self.assertLogs("django.request", "ERROR"):
            self.assert_503_page(self.client.get(url))
        self.assertEqual(self.client.get(url).status_code, 200)

    def test_a_comment_failing_before_its_view_gets_its_text_back_in_a_form(self):
        self.sign_in()
        with write_locked("blog_contentversion"), self.assertLogs("django.request", "ERROR"):
            response = self.client.post("/comments/post/", form_data(self.post, comment=TEXT))
        data = self.assert_text_kept(response)
        self.assertEqual(row_counts(), (0, 0, 0))
        self.assert_resent(data)


# Redis ------------------------------------------------------------------------------


class RedisGoneTests(TestCase):
    """Redis (the production cache) stopping mid-run: pages are built from the
    database, comments are still taken (the rate limit lets them through), and each
    failure is logged. Never reachable at all is tested in test_pagecache."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not shutil.which("redis-server"):
            raise unittest.SkipTest("no redis-server to start")
        cls.port = free_port()
        cls.redis = subprocess.Popen(
            ["redis-server", "--port", str(cls.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        cls.addClassCleanup(cls.stop_redis)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def stop_redis(cls) -> None:
        if cls.redis.poll() is None:
            cls.redis.terminate()
            cls.redis.wait(timeout=10)

    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Supervision", "How often?", tags=["supervision"])

    def setUp(self):
        caches = {"default": cache_from_url(f"redis://127.0.0.1:{self.port}/0")}
        overridden = override_settings(CACHES=caches, BLOG_COMMENTS_RATE_LIMIT=5)
        overridden.enable()  # resets django.core.cache.caches: the cache is this Redis
        self.addCleanup(overridden.disable)

    def test_pages_and_comments_go_on_without_redis(self):
        urls = [self.post.get_absolute_url(), reverse("blog:post-index"),
                reverse("blog:tag-detail", args=["supervision"])]  # fmt: skip
        for url in urls:
            self.assertEqual(self.client.get(url).status_code, 200)
        with CaptureQueriesContext(connection) as queries:
            self.client.get(urls[0])
        # The content token comes with the page, from Redis: no query at all.
        self.assertEqual(len(queries), 0, "the page did not come from Redis")
        self.assertEqual(post_comment(self.client, self.post, comment="Before.").status_code, 302)

        self.stop_redis()

        with self.assertLogs("blog.pagecache", "WARNING") as logs:
            for url in urls:
                self.assertContains(self.client.get(url), "Supervision")
        # The token and the page, asked for together.
        self.assertIn("Page cache get_many failed", logs.output[0])
        with self.assertLogs("blog.discussion.ratelimit", "WARNING") as logs:
            response = post_comment(self.client, self.post, comment="During.")
        self.assertEqual(response.status_code, 302)
        self.assertIn("rate limit not checked", logs.output[0])
        press(self.client, confirmation_path())
        self.assertContains(self.client.get(urls[0]), "During.")
