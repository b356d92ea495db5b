"""`make bench`'s mailing: one new post e-mailed to 10,000 followers, through the worker
and a real SMTP server on loopback, while a reader browses.

On a fresh SQLite database (migrated, the April 2014 entries) with 10,000 confirmed
followers of every post, the production server runs as `make serve` runs it (nginx,
gunicorn, and the `worker` beside them), sending e-mail over SMTP to the tests' sink
(tests/mail/smtp.py, in this process, keeping headers only). A staff user publishes a
post through blog.writing.save_post, as the admin does; blog.following.mailing writes
one e-mail per follower and the worker sends them, 100 to a task and a connection.
Meanwhile one reader requests pages one after another (a page, then 50 ms), from a few
seconds before the post until its last e-mail has arrived.

Measured: the time from the post's commit to its first and its last e-mail taken by the
server; the worker's peak resident memory (VmHWM in /proc/<pid>/status, the whole
process) and CPU time; the reader's latency before and during the mailing; and that
each follower got exactly one e-mail.

    python -m bench.mailing [--followers 10000] [--output bench/mailing-results.json]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.data import BUILT_QUERY, DATA_DIR, MANAGE, bench_environment, collect_static
from tests.mail.smtp import SmtpSink
from tools.serve import ROOT, running_server

FOLLOWERS = 10_000
DEFAULT_OUTPUT = ROOT / "bench" / "mailing-results.json"
PREPARE_TIMEOUT = 600
PYTHON_TIMEOUT = 300
SERVER_START_TIMEOUT = 30
SERVER_STOP_TIMEOUT = 60  # the worker finishes its batch first
BASELINE = 5.0  # seconds of reading before the post is published
READ_PAUSE = 0.05  # a reader's pause between two pages
REQUEST_TIMEOUT = 30
PROGRESS_EVERY = 5.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.mailing", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--followers", type=int, default=FOLLOWERS)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON")
    return parser.parse_args(argv)


# -- the site -------------------------------------------------------------------------


def python(env: dict[str, str], code: str) -> Any:
    """``code`` run with Django set up in ``env``; the JSON of what it leaves in
    ``result``."""
    program = f"import django, json; django.setup()\n{code}\nprint(json.dumps(result))"
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=PYTHON_TIMEOUT,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the snippet failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.splitlines()[-1])


FOLLOW = """
from django.utils import timezone
from blog.models import Follower
now = timezone.now()
Follower.objects.bulk_create(
    [Follower(email=f"follower-{n:05d}@example.org", confirmed_at=now) for n in range({count})],
    batch_size=2000,
)
result = Follower.objects.filter(confirmed_at__isnull=False).count()
"""

PUBLISH = """
import time
from django.contrib.auth import get_user_model
from django.utils import timezone
from blog.models import Post, Reference
from blog.writing import save_post
editor, _ = get_user_model().objects.get_or_create(
    username="bench-editor",
    defaults={"is_staff": True, "first_name": "Bench", "last_name": "Editor",
              "email": "editor@example.org"},
)
body = "\\n\\n".join(
    f"Paragraph {n}: supervision, caseloads and the thresholds document, again [1]."
    for n in range(12)
)
post = Post(title="Supervision under pressure", body=body, author=editor,
            status=Post.Status.PUBLISHED, published_at=timezone.now())
save_post(post, user=editor, tags=["supervision"],
          references=[Reference(number=1, citation="Munro, E. (2011) The Munro Review.")])
result = {"url": post.get_absolute_url(), "committed": time.time()}
"""


def prepare(database: Path, env: dict[str, str], followers: int) -> int:
    """A fresh database: migrated, the April 2014 entries, ``followers`` followers."""
    for leftover in DATA_DIR.glob(f"{database.name}*"):
        leftover.unlink()
    for command in (["migrate", "--noinput", "--verbosity", "0"], ["load_april_2014"]):
        subprocess.run(
            [sys.executable, MANAGE, *command],
            cwd=ROOT, env=env, check=True, timeout=PREPARE_TIMEOUT, capture_output=True,
        )  # fmt: skip
    return python(env, FOLLOW.replace("{count}", str(followers)))


def outbox_statuses(database: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(database, timeout=20)) as db:
        rows = db.execute(
            "SELECT status, count(*) FROM blog_outgoingmail WHERE kind = 'new-post' GROUP BY status"
        ).fetchall()
    return dict(rows)


# -- the worker and the reader --------------------------------------------------------


def process_figures(pid: int) -> dict[str, float]:
    """A process's peak and current resident memory (MB) and CPU time (s)."""
    status = {
        line.split(":")[0]: line.split(":")[1].split()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith(("VmHWM", "VmRSS"))
    }
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "peak_rss_mb": round(int(status["VmHWM"][0]) / 1024, 1),
        "rss_mb": round(int(status["VmRSS"][0]) / 1024, 1),
        "cpu_s": round((int(fields[11]) + int(fields[12])) / ticks, 2),
    }


class Reader(threading.Thread):
    """One reader, a page after another: (start, latency ms, status, page) each."""

    def __init__(self, port: int, pages: list[tuple[str, str, str | None]]) -> None:
        super().__init__(name="reader", daemon=True)
        self.port = port
        self.pages = pages  # (label, path, cookie)
        self.records: list[tuple[float, float, int, str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            label, path, cookie = self.pages[n % len(self.pages)]
            n += 1
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
            try:
                connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
            finally:
                connection.close()
            self.records.append((started, (time.monotonic() - started) * 1000, status, label))
            self.stopping.wait(READ_PAUSE)


def latency(records: list[tuple[float, float, int, str]]) -> dict[str, Any]:
    times = sorted(ms for _start, ms, _status, _label in records)
    if not times:
        return {"requests": 0}
    return {
        "requests": len(times),
        "statuses": dict(Counter(str(status) for *_rest, status, _label in records)),
        "p50_ms": round(times[len(times) // 2], 1),
        "p90_ms": round(times[int(len(times) * 0.9)], 1),
        "p99_ms": round(times[int(len(times) * 0.99)], 1),
        "max_ms": round(times[-1], 1),
    }


def by_page(records: list[tuple[float, float, int, str]]) -> dict[str, Any]:
    labels = sorted({label for *_rest, label in records})
    return {label: latency([r for r in records if r[3] == label]) for label in labels}


# -- the run --------------------------------------------------------------------------


def run(followers: int = FOLLOWERS) -> dict[str, Any]:
    """The mailing benchmark; its figures."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    database = DATA_DIR / "mailing.sqlite3"
    sink = SmtpSink(headers_only=True)
    sink.start()
    try:
        env = bench_environment(database)
        env.update(
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            DJANGO_EMAIL_HOST="127.0.0.1",
            DJANGO_EMAIL_PORT=str(sink.port),
            DJANGO_EMAIL_USE_TLS="0",
            DJANGO_EMAIL_HOST_USER="",  # whatever a `.env` says: the sink takes none
            DJANGO_MANAGERS="",
            TASKS_URL="database://",
        )
        env["DJANGO_EMAIL_HOST_PASSWORD"] = ""  # nosec B105 # none: the sink takes none
        print(f"[mailing] preparing a database with {followers} followers...", flush=True)
        confirmed = prepare(database, env, followers)
        collect_static(env)
        log = DATA_DIR / "server-mailing.log"
        with running_server(
            env, log, SERVER_START_TIMEOUT, SERVER_STOP_TIMEOUT, with_worker=True
        ) as server:
            worker_idle = process_figures(server.worker_pid)
            reader = Reader(
                server.port,
                [
                    ("home", "/", None),
                    # Past the page cache: built for the request, never stored.
                    ("home, uncached", "/" + BUILT_QUERY, None),
                    ("archive, uncached", "/2014/04/" + BUILT_QUERY, None),
                ],
            )
            for _label, path, cookie in reader.pages:  # each page once, before measuring
                warm = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                warm.request("GET", path, headers={"Cookie": cookie} if cookie else {})
                warm.getresponse().read()
                warm.close()
            reader.start()
            time.sleep(BASELINE)
            offset = time.time() - time.monotonic()  # wall clock to this process's monotonic
            published = python(env, PUBLISH)
            committed = published["committed"] - offset
            print(f"[mailing] published {published['url']}; sending...", flush=True)
            deadline = time.monotonic() + max(600, followers / 10)
            while not sink.wait_for(followers, PROGRESS_EVERY):
                print(f"[mailing] {sink.count} of {followers} e-mails taken", flush=True)
                if time.monotonic() > deadline:
                    break
            sink.wait_quiet(3, 10)
            reader.stopping.set()
            reader.join(REQUEST_TIMEOUT)
            worker = process_figures(server.worker_pid)
        messages = sink.messages
    finally:
        sink.stop()
    post_mails = [m for m in messages if m.subject.startswith("New post")]
    first = min((m.at for m in post_mails), default=committed) - committed
    last = max((m.at for m in post_mails), default=committed) - committed
    per_address = Counter(address for m in post_mails for address in m.recipients)
    before = [r for r in reader.records if r[0] < committed]
    during = [r for r in reader.records if committed <= r[0] <= committed + last]
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "followers": confirmed,
        "e_mails": len(post_mails),
        "addresses": len(per_address),
        "addresses_twice": sum(1 for n in per_address.values() if n > 1),
        "outbox": outbox_statuses(database),
        "first_e_mail_s": round(first, 2),
        "all_e_mails_s": round(last, 2),
        "e_mails_per_s": round(len(post_mails) / last, 1) if last > 0 else None,
        "worker": {"idle": worker_idle, "after": worker},
        "reader_before": latency(before),
        "reader_during": latency(during),
        "reader_by_page": {"before": by_page(before), "during": by_page(during)},
    }


def summary(result: dict[str, Any]) -> str:
    before, during = result["reader_before"], result["reader_during"]
    worker = result["worker"]
    return (
        f"Mailing: {result['e_mails']} e-mails to {result['followers']} followers "
        f"({result['addresses_twice']} addresses twice; outbox {result['outbox']}): first "
        f"{result['first_e_mail_s']} s, all {result['all_e_mails_s']} s after the post "
        f"({result['e_mails_per_s']}/s). Worker: peak {worker['after']['peak_rss_mb']} MB "
        f"(idle {worker['idle']['peak_rss_mb']} MB), CPU {worker['after']['cpu_s']} s. "
        f"Reader p50/p99: before {before.get('p50_ms')}/{before.get('p99_ms')} ms "
        f"({before['requests']} pages), during {during.get('p50_ms')}/{during.get('p99_ms')} "
        f"ms ({during['requests']} pages)."
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = run(args.followers)
    print(summary(result))
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"Results: {args.output}")
    if result["addresses_twice"] or result["e_mails"] != result["followers"]:
        sys.exit("Not every follower got exactly one e-mail.")


if __name__ == "__main__":
    main()
