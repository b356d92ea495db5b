"""`manage.py worker`: django-tasks-db's `db_worker`, kept running through a database
that goes away for a while.

The library's worker lets any database error but a locked SQLite file end its process:
a PostgreSQL restart, or a session killed by an administrator, would stop the site's
e-mail until someone starts the worker again (and `make serve` stops the whole site when
its worker dies). This one logs the error, drops its connections and tries again, a
second later and then up to half a minute apart, for as long as it is not asked to
stop. A task that was running when the database went is given back to the queue once
it is back, and run again (each of the site's tasks may be); so is a task that met the
database going and ended after it came back (the library would record it failed, and
what it was to do would wait for the worker's round). E-mail a task had claimed and not
marked is queued again by the worker's round (blog.upkeep) once its claim is old.
Everything else, SIGTERM finishing the current task included, is the library's.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

FIRST_WAIT = 1.0
LONGEST_WAIT = 30.0
# A task's failure that is the database going, not the task's own.
DATABASE_GONE = frozenset(
    f"{error.__module__}.{error.__qualname__}" for error in (OperationalError, InterfaceError)
)
# Runs of one task through lost databases before it is left failed for staff to see.
MOST_RUNS = 10


class SteadyWorker(db_worker.Worker):
    # The task being run: if the database goes while it runs, it is given back to the
    # queue once the database is back (every task of the site's may run twice: e-mail
    # rows are claimed, mailings marked started, in their own transactions).
    interrupted: object = None

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.interrupted = db_task_result.pk
        super().run_task(db_task_result)
        # The library has recorded how it ended; a failure that was the database going
        # (the task reconnected, or the library did, to record it) is given back too.
        if (
            db_task_result.status != TaskResultStatus.FAILED
            or db_task_result.exception_class_path not in DATABASE_GONE
        ):
            self.interrupted = None
        self.give_back()

    def run(self) -> None:
        wait = FIRST_WAIT
        while self.running:
            try:
                self.give_back()
                super().run()
                return
            except (OperationalError, InterfaceError) as error:
                if not self.running:
                    return
                logger.warning("Database unavailable (%s): trying again in %.0f s.", error, wait)
                for connection in connections.all(initialized_only=True):
                    try:
                        connection.close()
                    except Exception:  # a broken connection has nothing to close
                        logger.debug("Closing a broken connection failed", exc_info=True)
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)

    def give_back(self) -> None:
        """The task the database went away under, ready to run again: a second later,
        then longer apart, at most ``MOST_RUNS`` runs in all."""
        if self.interrupted is None:
            return
        task = DBTaskResult.objects.filter(pk=self.interrupted).first()
        if task is None or task.status not in (TaskResultStatus.RUNNING, TaskResultStatus.FAILED):
            self.interrupted = None
            return
        runs = len(task.worker_ids)
        if runs >= MOST_RUNS:
            if task.status == TaskResultStatus.RUNNING:
                DBTaskResult.objects.filter(pk=task.pk, status=task.status).update(
                    status=TaskResultStatus.FAILED, finished_at=timezone.now()
                )
            logger.error("Task %s met the database going %d times: left failed.", task.pk, runs)
            self.interrupted = None
            return
        wait = min(FIRST_WAIT * 2 ** max(runs - 1, 0), LONGEST_WAIT)
        DBTaskResult.objects.filter(pk=task.pk, status=task.status).update(
            status=TaskResultStatus.READY,
            run_after=timezone.now() + timedelta(seconds=wait),
            finished_at=None,
        )
        self.interrupted = None


class Command(db_worker.Command):
    help = "Run the background worker (db_worker, through database outages)."

    def handle(self, *args: Any, **options: Any) -> None:
        # The library's handle() builds its Worker by that name: this process is the
        # worker and nothing else, so it is given ours for the process's life.
        db_worker.Worker = SteadyWorker
        super().handle(*args, **options)
