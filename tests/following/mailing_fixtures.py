"""Builders shared by the mailing tests (test_mailing*.py, test_digest.py,
test_outbox_admin.py): followers, posts published by a person, the queue's tasks."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from blog.following import mailing
from blog.models import Follower, Post, Reference
from blog.writing import save_post, tags_named

from ..factories import make_user

# The database queue, as the site runs it: a task is a row, run by a worker later. The
# unit tests' own backend runs each at once and defers nothing.
DB_TASKS = override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})


@pytest.fixture(autouse=True)
def _forget_rendered():
    """Each test renders its own e-mails: ids and (frozen) times repeat between tests."""
    mailing.forget_rendered()
    yield
    mailing.forget_rendered()


def follow(
    email: str, tag: str | None = None, *, weekly: bool = False, confirmed: bool = True
) -> Follower:
    return Follower.objects.create(
        email=email,
        tag=tags_named([tag])[tag] if tag else None,
        frequency=Follower.Frequency.WEEKLY if weekly else Follower.Frequency.EACH_POST,
        confirmed_at=timezone.now() if confirmed else None,
    )


def publish(
    title: str = "A new post",
    body: str = "Some text [1].",
    *,
    user,
    published_at: datetime.datetime | None = None,
    tags: list[str] = (),
    references: dict[int, tuple[str, str]] | None = None,
    status: str = Post.Status.PUBLISHED,
    **fields,
) -> Post:
    """A post written by ``user`` through the one write path, as the admin writes."""
    post = Post(
        title=title,
        body=body,
        author=fields.pop("author", None) or make_user(first_name="Pat", last_name="Writer"),
        published_at=published_at or timezone.now(),
        status=status,
        **fields,
    )
    references = references if references is not None else {1: ("A source", "")}
    return save_post(
        post,
        references=[Reference(number=n, citation=c, url=u) for n, (c, u) in references.items()],
        tags=list(tags),
        user=user,
    )


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if message.to == [address]]


def run_worker() -> None:
    """The site's worker, here, until the queue has nothing due. Its recycling of old
    connections is left out: inside a test's transaction it would close the connection
    the test holds (on PostgreSQL; SQLite's in-memory one ignores it)."""
    with mock.patch.object(db_worker, "close_old_connections"):
        call_command("worker", batch=True, startup_delay=False, interval=0, verbosity=0)


def tasks(name: str) -> list[DBTaskResult]:
    """The database queue's tasks of ``name`` (e.g. "run_mailing"), oldest first."""
    return [
        task
        for task in DBTaskResult.objects.order_by("enqueued_at")
        if task.task_path.rsplit(".", 1)[-1] == name
    ]
