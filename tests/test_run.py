"""`make run` (tools/run.py): the development server and the e-mail worker started
together, on a temporary database; the worker prints the e-mail the site queues, and
the two stop together (Ctrl-C/SIGTERM, or either dying). tools.processes, which
`make serve` shares, is tested through it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tools.processes import ROOT, group_alive, worker_command
from tools.serve import free_port

START_TIMEOUT = 120  # migrate and the fixture on a fresh database, on a busy machine
STOP_TIMEOUT = 30


def test_the_worker_is_the_database_queues_unless_tasks_go_to_redis():
    assert worker_command({}, "py")[2:] == ["worker"]
    assert worker_command({"TASKS_URL": "database://"}, "py")[2:] == ["worker"]
    assert worker_command({"TASKS_URL": "redis://127.0.0.1:6379/0"}, "py")[2:] == [
        "rqworker",
        "default",
        "--job-class",
        "django_tasks_rq.Job",
        "--with-scheduler",
    ]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.2)


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:  # nosec B310 # loopback
            return response.status == 200
    except OSError:
        return False


def children(pid: int) -> dict[str, int]:
    """The supervisor's children by what they run: "worker", "runserver"."""
    found = {}
    listed = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, timeout=10)
    for child in listed.stdout.split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        for name in ("worker", "runserver"):
            if name.encode() in command:
                found[name] = int(child)
    return found


@pytest.fixture
def run_env(tmp_path) -> dict[str, str]:
    keep = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_", "CACHE_", "TASKS_", "PORT"))
    }
    # The development settings (manage.py's default), on a database of the test's own.
    return {
        **keep,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PORT": str(free_port()),
    }


class Run:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = int(env["PORT"])
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tools.run"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started: dict[str, int] = {}

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_both(self) -> dict[str, int]:
        wait_until(lambda: answers(self.port), START_TIMEOUT, f"runserver\n{self.output()}")
        wait_until(lambda: len(children(self.process.pid)) == 2, 30, "the worker")
        self.started = children(self.process.pid)
        return self.started

    def cleanup(self) -> None:
        """Whatever a failed test left running."""
        for pid in [self.process.pid, *self.started.values()]:
            if group_alive(pid):
                os.killpg(pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture
def make_run(run_env, tmp_path) -> Iterator[Callable[[], Run]]:
    runs: list[Run] = []

    def make() -> Run:
        runs.append(Run(run_env, tmp_path / f"run-{len(runs)}.log"))
        return runs[-1]

    yield make
    for run in runs:
        run.cleanup()


def test_make_run_serves_the_site_and_its_worker_prints_the_mail_until_sigterm(make_run):
    run = make_run()
    started = run.wait_for_both()

    # An e-mail queued by the site (here by a shell on the same database) is sent by the
    # worker: the development settings print it in make run's terminal.
    code = (
        "from django.core.mail import EmailMessage; from blog import outbox; "
        "from blog.models import OutgoingMail; outbox.send(EmailMessage("
        "'Queued for make run', 'Sent by the worker.', to=['reader@example.org']), "
        "kind=OutgoingMail.Kind.MODERATOR_NOTICE)"
    )
    queued = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=run.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert queued.returncode == 0, queued.stderr
    wait_until(lambda: "Subject: Queued for make run" in run.output(), 30, "the printed e-mail")

    run.process.send_signal(signal.SIGTERM)
    assert run.process.wait(timeout=STOP_TIMEOUT) == 0
    assert "Stopped." in run.output()
    assert not any(group_alive(pid) for pid in started.values())


def test_make_run_stops_the_server_when_the_worker_dies(make_run):
    run = make_run()
    started = run.wait_for_both()

    os.killpg(started["worker"], signal.SIGKILL)

    assert run.process.wait(timeout=STOP_TIMEOUT) == 1
    assert "worker stopped (exit status -9), so runserver stopped too." in run.output()
    assert not group_alive(started["runserver"])
    assert not answers(run.port)
