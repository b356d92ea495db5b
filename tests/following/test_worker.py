"""`manage.py worker` (blog.management.commands.worker): a task that met the database
going is given back to the queue, a little later each time, never recorded failed on
the first loss (what it was to do would wait for the worker's quarter-hourly round);
a task's own error is the library's failure, as before."""

from __future__ import annotations

import datetime

import time_machine
from django.db import OperationalError
from django.test import TestCase
from django_tasks import task

from blog.management.commands.worker import MOST_RUNS

from ..factories import london
from .mailing_fixtures import DB_TASKS, run_worker, tasks

NOW = london(2026, 5, 6, 10, 0)


@task()
def lose_the_database() -> None:
    raise OperationalError("server closed the connection unexpectedly")


@task()
def fail_on_its_own() -> None:
    raise ValueError("a bug of the task's")


@DB_TASKS
class GiveBackTests(TestCase):
    def test_a_task_that_lost_the_database_runs_again_later_each_time_then_fails(self):
        lose_the_database.enqueue()
        moment = NOW
        waits = []
        for _ in range(MOST_RUNS - 1):
            with time_machine.travel(moment, tick=False):
                run_worker()
            [given_back] = tasks("lose_the_database")
            self.assertEqual(given_back.status, "READY")
            waits.append((given_back.run_after - moment).total_seconds())
            moment = given_back.run_after
        self.assertEqual(waits, [1, 2, 4, 8, 16, 30, 30, 30, 30][: MOST_RUNS - 1])

        # Not before its time: a worker now finds nothing due.
        with time_machine.travel(moment - datetime.timedelta(seconds=0.5), tick=False):
            run_worker()
        self.assertEqual(tasks("lose_the_database")[0].status, "READY")

        with (
            time_machine.travel(moment, tick=False),
            self.assertLogs("blog.management.commands.worker", "ERROR") as logs,
        ):
            run_worker()
        [failed] = tasks("lose_the_database")
        self.assertEqual(failed.status, "FAILED")
        self.assertEqual(len(failed.worker_ids), MOST_RUNS)
        self.assertIn(f"met the database going {MOST_RUNS} times", logs.output[0])

    def test_a_task_failing_on_its_own_is_not_run_again(self):
        fail_on_its_own.enqueue()
        with time_machine.travel(NOW, tick=False):
            run_worker()
        [failed] = tasks("fail_on_its_own")
        self.assertEqual((failed.status, len(failed.worker_ids)), ("FAILED", 1))
        self.assertIn("ValueError", failed.exception_class_path)
