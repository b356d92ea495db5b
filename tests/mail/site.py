"""The site the end-to-end mail tests run: a fresh database (a SQLite file, or on
PostgreSQL a database of its own, dropped afterwards: tests/reliability/site.py's),
prepared as `make serve` prepares it, in `make serve`'s environment with the e-mail
going over SMTP to a sink on loopback; the worker as a process of its own; the outbox's
rows read straight from the database.

The test process's own Django is configured for the suite's database (often SQLite in
memory, which no other process can open): everything here is a separate process, or
plain SQL on the site's database.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.reliability import site as reliability_site
from tools.processes import ROOT, Server, start, stop_all, worker_command
from tools.serve import serve_environment

PYTHON_TIMEOUT = 120
STOP_TIMEOUT = 30
# A short first retry (the site's default is a minute): 1, 2, 4… seconds.
RETRY_BASE = 1
MODERATOR = "moderator@example.org"


def clean_environ() -> dict[str, str]:
    """This process's environment less the suite's settings and any e-mail or task
    settings it carries."""
    return {
        name: value
        for name, value in reliability_site.clean_environ().items()
        if not name.startswith(("TASKS_", "BLOG_"))
    }


@dataclass
class MailSite:
    database: reliability_site.Database
    folder: Path
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))

    def env(self, smtp_port: int, tasks_url: str = "database://") -> dict[str, str]:
        """`make serve`'s environment, production settings, e-mail by SMTP to
        127.0.0.1:``smtp_port``, tasks on ``tasks_url``."""
        env = serve_environment(clean_environ())
        env.update(
            DJANGO_SECRET_KEY=self.secret_key,
            DATABASE_URL=self.database.url,
            CACHE_URL="locmem://",
            DJANGO_STATIC_ROOT=str(self.folder / "static"),
            DJANGO_MEDIA_ROOT=str(self.folder / "media"),
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            DJANGO_EMAIL_HOST="127.0.0.1",
            DJANGO_EMAIL_PORT=str(smtp_port),
            DJANGO_EMAIL_USE_TLS="0",
            # Whatever a `.env` says: the sink takes no credentials.
            DJANGO_EMAIL_HOST_USER="",
            DJANGO_EMAIL_HOST_PASSWORD="",
            DJANGO_MANAGERS=MODERATOR,
            TASKS_URL=tasks_url,
            BLOG_MAIL_RETRY_BASE=str(RETRY_BASE),
        )
        return env

    def python(self, env: dict[str, str], code: str) -> Any:
        """Run ``code`` with Django set up in ``env``; what it leaves in ``result``,
        as JSON."""
        program = (
            f"import django, json; django.setup()\n{code}\nprint(json.dumps(result, default=str))"
        )
        done = subprocess.run(
            [sys.executable, "-c", program],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=PYTHON_TIMEOUT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the snippet failed:\n{done.stderr[-4000:]}")
        return json.loads(done.stdout.splitlines()[-1])

    def queue(self, env: dict[str, str], addresses: list[str], subject: str) -> list[int]:
        """One e-mail to each address, queued at once as a mailing's are
        (outbox.send_many: batches of outbox.BATCH_SIZE); the rows' ids."""
        code = (
            "from django.core.mail import EmailMessage\n"
            "from blog import outbox\n"
            "from blog.models import OutgoingMail\n"
            f"addresses = {addresses!r}\n"
            "messages = [EmailMessage("
            f"{subject!r}, f'For {{a}}.', to=[a]) for a in addresses]\n"
            "rows = outbox.send_many(messages, kind=OutgoingMail.Kind.NEW_POST)\n"
            "result = [row.pk for row in rows]"
        )
        return self.python(env, code)

    # -- the outbox's rows ------------------------------------------------------------

    def rows(self, where: str = "1 = 1") -> list[dict[str, Any]]:
        """blog_outgoingmail's rows (``where``: an SQL condition of the test's own)."""
        sql = (
            'SELECT id, "to", kind, status, attempts, last_error, claim FROM blog_outgoingmail '
            f"WHERE {where} ORDER BY id"  # nosec B608 # the tests' own constant conditions
        )
        if self.database.kind == "sqlite":
            with contextlib.closing(sqlite3.connect(self.database.name, timeout=20)) as db:
                db.row_factory = sqlite3.Row
                return [dict(row) for row in db.execute(sql)]
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.database.url, connect_timeout=10, row_factory=dict_row) as db:
            return list(db.execute(sql))

    def rows_to(self, prefix: str) -> list[dict[str, Any]]:
        return self.rows(f"\"to\" LIKE '{prefix}%'")

    def wait_for_rows(
        self, prefix: str, done: Callable[[list[dict[str, Any]]], bool], timeout: float
    ) -> list[dict[str, Any]]:
        """The rows to ``prefix``… once ``done(rows)``; AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.rows_to(prefix)
            if done(rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout} s: {rows[:5]}")
            time.sleep(0.2)


@contextlib.contextmanager
def mail_site(folder: Path, postgres_url: str = "") -> Iterator[MailSite]:
    """A fresh database (PostgreSQL's when ``postgres_url`` is given), migrated, with
    the April 2014 entries and the static files: `make serve`'s steps."""
    if postgres_url:
        name = f"cpsw_mail_test_{os.getpid()}"
        database_context = reliability_site.postgres_database(postgres_url, name)
    else:
        database_context = reliability_site.sqlite_database(folder)
    with database_context as database:
        site = MailSite(database, folder)
        reliability_site.prepare(site.env(smtp_port=25))
        yield site


class Worker:
    """The site's worker (`manage.py worker`, or RQ's when the tasks go to Redis),
    as `make serve` starts it, its output in ``log``."""

    def __init__(self, env: dict[str, str], log: Path, command: list[str] | None = None) -> None:
        self.log = log
        with log.open("a") as output:
            self.server: Server = start(
                "worker", command or worker_command(env), env, signal.SIGTERM, output
            )
        self.process = self.server.process
        self.pid = self.process.pid

    def signal(self, signum: int) -> None:
        """To the worker's own process (no reloader in production: it is the worker)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker did not stop:\n{self.output()}") from None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        stop_all([self.server], STOP_TIMEOUT)


@contextlib.contextmanager
def worker(env: dict[str, str], log: Path, command: list[str] | None = None) -> Iterator[Worker]:
    """A worker until the block ends (stopped with SIGTERM, then SIGKILL if need be)."""
    running = Worker(env, log, command)
    try:
        yield running
    finally:
        running.stop()
