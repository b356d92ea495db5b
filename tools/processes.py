"""Several long-running processes run as one: `make run` (runserver and the mail worker,
tools/run.py) and `make serve` (nginx, gunicorn and the mail worker, tools/serve.py).

Each process is started in a process group of its own, so that stopping it reaches the
children it forks (gunicorn's workers, nginx's, the autoreloader's child), and so that
Ctrl-C in the terminal reaches the supervisor only, which then stops every one in order
with the signal that lets it finish what it is doing. If any of them stops by itself,
the supervisor stops the others and exits, saying which: a site whose e-mail worker has
died must not go on taking comments as if their e-mails were being sent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, NamedTuple, NoReturn

ROOT = Path(__file__).resolve().parent.parent
MANAGE = str(ROOT / "manage.py")
RQ_WORKER = ["rqworker", "default", "--job-class", "django_tasks_rq.Job", "--with-scheduler"]


class Server(NamedTuple):
    name: str
    process: subprocess.Popen
    stop_signal: int  # the one that lets it finish what it is doing


def start(
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    stop_signal: int = signal.SIGTERM,
    output: IO[str] | None = None,
) -> Server:
    """``command`` in a process group of its own, its output to ``output`` (a file, never
    a pipe that could fill) or to ours."""
    process = subprocess.Popen(
        list(command),
        cwd=ROOT,
        env=dict(env),
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        start_new_session=True,
    )
    return Server(name, process, stop_signal)


def worker_command(env: Mapping[str, str], python: str = sys.executable) -> list[str]:
    """The worker that sends the e-mail the site queues (blog.outbox), for the task
    queue TASKS_URL names: the database's own (`manage.py worker`, the default), or
    RQ on Redis (`manage.py rqworker`), with the job class django-tasks-rq needs (RQ's
    own cannot run a django-tasks task) and RQ's built-in scheduler, which runs the
    retries that wait: django-tasks-rq defers them into RQ's own scheduled-job
    registry, which rq-scheduler's `rqscheduler` never looks at."""
    if env.get("TASKS_URL", "").startswith(("redis://", "rediss://")):
        return [python, MANAGE, *RQ_WORKER]
    return [python, MANAGE, "worker"]


def signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def stop_all(servers: Sequence[Server], timeout: float) -> None:
    """Each server (its process group: workers included) with its polite signal, all at
    once; then SIGKILL for whichever has not stopped in ``timeout``. The group is
    signalled even when its leader has already gone: nginx's workers outlive a master
    that was killed, and would go on holding the port."""
    for _name, process, signum in servers:
        signal_group(process, signum)
    deadline = time.monotonic() + timeout
    for _name, process, _signum in servers:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.wait(timeout=timeout)
    for _name, process, _signum in servers:
        wait_for_group(process, deadline)


def wait_for_group(process: subprocess.Popen, deadline: float) -> None:
    """Until no process of the leader's group is left; SIGKILL for those still there at
    the deadline."""
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    signal_group(process, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def first_stopped(servers: Sequence[Server]) -> Server | None:
    return next((server for server in servers if server.process.poll() is not None), None)


def watch(servers: Sequence[Server], interval: float = 0.5) -> NoReturn:
    """Until one of ``servers`` stops; then SystemExit naming it (the caller's ``with``
    stops the others on the way out)."""
    while (stopped := first_stopped(servers)) is None:
        time.sleep(interval)
    others = ", ".join(server.name for server in servers if server is not stopped)
    sys.exit(
        f"{stopped.name} stopped (exit status {stopped.process.returncode}), "
        f"so {others or 'nothing else'} stopped too."
    )


@contextlib.contextmanager
def stopped_after(stop_timeout: float) -> Iterator[list[Server]]:
    """A list to put the servers in as they start: every one in it is stopped (politely,
    then not, the last started first) when the block ends, however it ends."""
    servers: list[Server] = []
    try:
        yield servers
    finally:
        stop_all(servers[::-1], stop_timeout)


class Stopped(Exception):
    """SIGTERM, taken as Ctrl-C is."""


def _stopped(_signum: int, _frame: object) -> None:
    raise Stopped


@contextlib.contextmanager
def until_stopped() -> Iterator[None]:
    """Ctrl-C or SIGTERM ends the block (and whatever it started) quietly."""
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        yield
    except (KeyboardInterrupt, Stopped):
        print("\nStopped.")
    finally:
        signal.signal(signal.SIGTERM, previous)
