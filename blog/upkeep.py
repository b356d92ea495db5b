"""The worker's own round, every quarter of an hour: what a cron job would otherwise do
for the e-mail, with no cron to forget.

Each round (``run``) deletes the e-mail done with (sent, failed or not sent) more than
``BLOG_MAIL_KEEP_DAYS`` ago, as the privacy page says, puts back in the queue what a
worker killed mid-batch left claimed and never tried (outbox.release_stuck), starts the
mailings that are due and were never started (a worker lost while starting one), makes
sure this week's digest is scheduled (blog.following.mailing.start_due), and enqueues
again e-mail whose time is long past while it still waits (its task lost: an RQ enqueue
after a commit the process did not outlive). A row is claimed before it is sent, so a
second task for it sends nothing.

The round is a task that schedules the next (``schedule``); the chain starts with the
first task a worker finishes after it starts (``task_finished``), so a freshly started
worker takes it up as soon as it sends anything, and one chain is kept: the database
backend is asked whether a round already waits; with RQ, a key in its Redis is held for
the interval. `manage.py send_queued_mail` runs a round at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db import DatabaseBackend
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from . import outbox
from .following import mailing

logger = logging.getLogger(__name__)

EVERY = timedelta(minutes=15)
_CLAIM_KEY = "blog.upkeep.next-round"


def run() -> dict[str, int]:
    """One round; returns what it did, by name."""
    forgotten = outbox.forget_done(timezone.now() - timedelta(days=settings.BLOG_MAIL_KEEP_DAYS))
    released = outbox.release_stuck()
    started = mailing.start_due()
    late = outbox.due(before=timezone.now() - EVERY)
    outbox.enqueue(late)
    done = {
        "released": released,
        "started": started,
        "requeued": len(late),
        "forgotten": forgotten,
    }
    if any(done.values()):
        logger.info("Mail upkeep: %s", done)
    return done


@task()
def do_round() -> dict[str, int]:
    done = run()
    schedule()
    return done


def schedule() -> bool:
    """Enqueue the next round in ``EVERY`` unless one is already waiting; returns
    whether it did. Nothing where the backend cannot defer (the unit tests')."""
    backend = do_round.get_backend()
    if not backend.supports_defer:
        return False
    if isinstance(backend, DatabaseBackend):
        # Not ready(), which is "due now": a round due later is waiting too.
        waiting = DBTaskResult.objects.filter(
            task_path=do_round.module_path, status=TaskResultStatus.READY
        )
        if waiting.exists():
            return False
    elif not _claim_next_round():
        return False
    with transaction.atomic():
        outbox.enqueue_task(do_round, run_after=timezone.now() + EVERY)
    return True


def _claim_next_round() -> bool:
    """Whether this process is the one to enqueue the next round, for a queue that is
    not the site's database: RQ's own Redis holds the claim for the interval (every
    worker, on any machine, sees it); any other backend, the cache."""
    timeout = int(EVERY.total_seconds()) - 1
    if apps.is_installed("django_rq"):
        import django_rq

        return bool(django_rq.get_connection().set(_CLAIM_KEY, 1, nx=True, ex=timeout))
    return cache.add(_CLAIM_KEY, 1, timeout=timeout)


def on_task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """Start the chain of rounds with the first task a worker finishes."""
    if task_result.task.module_path == do_round.module_path:
        return
    try:
        schedule()
    except Exception:
        # Upkeep must never fail the task that triggered it.
        logger.exception("Could not schedule the mail upkeep")
