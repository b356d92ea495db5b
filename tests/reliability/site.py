"""The site under test: a fresh database (a SQLite file, or a PostgreSQL database of
its own), a private Redis server when a scenario needs one, and the environment that
`make serve` builds, pointed at them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tools.serve import ROOT, free_port, prepare_commands, serve_environment

SETTINGS = "tests.reliability.settings"
PREPARE_TIMEOUT = 300
DBTOOL_TIMEOUT = 120
REDIS_START_TIMEOUT = 10
MODERATOR = "moderator@example.org"
MAIL_RETRY_BASE = 1  # seconds before an e-mail's first retry


def clean_environ() -> dict[str, str]:
    """This process's environment less any Django settings it carries (the test
    suite's, say): the server's come from `make serve`'s layers below."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(
            ("DJANGO_", "DATABASE_", "CACHE_", "PORT", "RELIABILITY_", "TASKS_", "BLOG_")
        )
    }


def server_environment(
    database_url: str,
    smtp_port: int,
    static_root: Path,
    secret_key: str,
    cache_url: str = "locmem://",
) -> dict[str, str]:
    """`make serve`'s environment (tools.serve), with the harness's settings module,
    database, cache, SMTP server, static root and a secret key of the run's own (the
    sessions and links it signs must outlive each server of the run, and nothing
    signed with the project's `.env` key should come from a test). Every comment is
    e-mailed to a moderator too, and an e-mail that meets a mail server down is tried
    again after 1, 2, 4… seconds (production: minutes)."""
    env = serve_environment(clean_environ())
    env.update(
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        RELIABILITY_SMTP_PORT=str(smtp_port),
        DJANGO_STATIC_ROOT=str(static_root),
        DJANGO_MANAGERS=MODERATOR,
        TASKS_URL="database://",
        BLOG_MAIL_RETRY_BASE=str(MAIL_RETRY_BASE),
    )
    return env


def run_checked(command: list[str], env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:3])} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def prepare(env: dict[str, str]) -> None:
    """`make serve`'s own steps: migrate, the April 2014 entries, collectstatic."""
    for command in prepare_commands():
        run_checked(command, env, PREPARE_TIMEOUT)


def dbtool(env: dict[str, str], *args: str) -> Any:
    command = [sys.executable, "-m", "tests.reliability.dbtool", *args]
    return json.loads(run_checked(command, env, DBTOOL_TIMEOUT).splitlines()[-1])


# -- databases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    kind: str  # "sqlite" or "postgres"
    url: str  # what the site uses
    name: str


@contextlib.contextmanager
def sqlite_database(folder: Path) -> Iterator[Database]:
    path = folder / "reliability.sqlite3"
    yield Database("sqlite", f"sqlite:///{path}", str(path))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def postgres_database(server_url: str, name: str) -> Iterator[Database]:
    """A database of its own on the server at ``server_url`` (any database there to
    connect to), dropped afterwards with whatever sessions are left in it."""
    import psycopg
    from psycopg import sql

    def admin(statement: sql.Composable) -> None:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    admin(drop)
    admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Database("postgres", with_database(server_url, name), name)
    finally:
        admin(drop)


def terminate_site_sessions(database: Database) -> list[str]:
    """PostgreSQL's kill of every other session on the site's database; the states the
    sessions were in (active, idle, idle in transaction)."""
    import psycopg

    with psycopg.connect(database.url, autocommit=True, connect_timeout=10) as connection:
        rows = connection.execute(
            "SELECT state, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [database.name],
        ).fetchall()
    return [state or "?" for state, killed in rows if killed]


def comment_write_in_progress(
    database: Database, wait: float, posting: Callable[[], bool] = lambda: True
) -> bool:
    """Wait (at most ``wait`` seconds) until a session on the site's database is inside
    a transaction that writes (a comment being saved), while ``posting()`` says a
    comment POST is in flight: the moment to aim a kill at."""
    import psycopg

    deadline = time.monotonic() + wait
    with psycopg.connect(database.url, autocommit=True, connect_timeout=10) as connection:
        while time.monotonic() < deadline:
            busy = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                "AND (query ILIKE %s OR query ILIKE %s OR query ILIKE %s)",
                [database.name, "INSERT%", "UPDATE%", "%FOR UPDATE%"],
            ).fetchone()[0]
            if busy and posting():
                return True
            time.sleep(0.002)
    return False


def query(database: Database, sql: str) -> list[dict[str, Any]]:
    """``sql`` (the harness's own, no parameters) on the site's database, as dicts."""
    if database.kind == "sqlite":
        import sqlite3

        with contextlib.closing(sqlite3.connect(database.name, timeout=20)) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(sql)]
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(database.url, connect_timeout=10, row_factory=dict_row) as connection:
        return list(connection.execute(sql))


def mail_rows(database: Database, after: int = 0) -> list[dict[str, Any]]:
    """The outbox's rows (blog_outgoingmail) with an id above ``after``, read with
    plain SQL: the harness polls them while the worker sends."""
    return query(
        database,
        'SELECT id, "to", kind, subject, body, status, attempts, last_error '
        "FROM blog_outgoingmail "
        f"WHERE id > {int(after)} ORDER BY id",  # nosec B608 # an int
    )


def last_mail_id(database: Database) -> int:
    rows = query(database, "SELECT max(id) AS last FROM blog_outgoingmail")
    return rows[0]["last"] or 0


# -- Redis ----------------------------------------------------------------------------


def flush_redis(url: str) -> None:
    """Empty the one Redis database ``url`` names (never the whole server)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


class PrivateRedis:
    """A redis-server of the harness's own on a free loopback port, no persistence:
    one it may stop and start again mid-run."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("the Redis fault needs redis-server (apt-get install redis-server)")
        log = (self.folder / "redis.log").open("a")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        import redis

        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while True:
            client = redis.Redis(port=self.port, socket_connect_timeout=1)
            try:
                if client.ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the private redis-server did not start") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def private_redis(folder: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
