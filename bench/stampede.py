"""No stampede after a change: readers' latency around a comment, under load, in the
current tree and (``--before PATH``) in an earlier checkout of the project, on the same
data.

Each tree's server runs from that tree's own code (its tools/serve.py, started by a
small driver in a child process whose working directory is the tree), on a copy of
the size's SQLite database, made afresh for each tree. Then, for a bounded time:

- background load: wrk, 180 connections over keep-alive, asking for the main pages in
  turn (bench/wrk_pages.lua), each waiting 500 ms between two, as anonymous readers;
- 20 timed readers: threads in this process, each with its own keep-alive connection
  (http.client), asking for the same pages and the commented post in turn, 100 ms
  apart, every request timed; one in ten with a signed-in reader's session;
- a staff user, signed in through the admin's sign-in form beforehand (a real session
  and CSRF token), who posts a comment on an April 2014 post at a known moment, after
  a warm-up and a quiet spell. Any comment makes every page's cache out of date.

Reported: the readers' p99 and maximum latency in the quiet seconds before the comment
was sent, and from the moment it was sent until a second after its answer; whether the
writer, with their cookies, sees their comment on their very next request (the post's
page); and how long after the POST returned an anonymous reader (no cookies, asking
again every 20 ms) first sees it. The site's promise: the writer at once, others
within a second.

    python -m bench.stampede [--size 10k] [--before /work/wt-before] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import secrets
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.data import (
    BENCH_DIR,
    DATA_DIR,
    LABELS,
    SIZES,
    STAFF_PASSWORD,
    STATIC_ROOT,
    Site,
    bench_environment,
    collect_static,
    prepare_site,
)
from bench.measure import WRK_SLACK, summarise, wrk_command, wrk_figures
from bench.report import stampede_table
from tests.reliability.client import parse_form
from tools.serve import ROOT

BACKGROUND_CONNECTIONS = 180
BACKGROUND_THREADS = 2
READERS = 20
SIGNED_IN_EVERY = 10  # one reader in ten has a session: 2 of 20
# Between two pages, each of wrk's connections waits BACKGROUND_PAUSE and each timed
# reader READ_PAUSE: 200 readers reading several pages a second, a heavy audience,
# which both trees serve without a queue before the change, so that the change's own
# cost shows (flat out, 180 connections make a queue every reader waits in anyway).
BACKGROUND_PAUSE = 0.5
READ_PAUSE = 0.1
POLL_PAUSE = 0.02  # the anonymous reader's, asking for the commented post again
STALE_LIMIT = 10.0  # seconds the anonymous reader asks before giving up
REQUEST_TIMEOUT = 30
SERVER_START_TIMEOUT = 30
SERVER_STOP_TIMEOUT = 15
PREPARE_TIMEOUT = 300
COMMENT_POST = "/comments/post/"  # the comment form's action (blog.discussion.urls)
WRK_PAGES = BENCH_DIR / "wrk_pages.lua"


@dataclass(frozen=True)
class Timing:
    """Seconds: load before the quiet spell (caches full, connections open), the quiet
    spell measured, the window after the change, and load kept on after it."""

    warmup: float = 2.0
    quiet: float = 5.0
    after: float = 1.0
    tail: float = 2.0
    pause: float = READ_PAUSE  # between a timed reader's two pages
    background_pause: float = BACKGROUND_PAUSE  # between a wrk connection's two


QUICK = Timing(warmup=1.0, quiet=3.0, after=1.0, tail=1.0)


# -- the figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One reader's request: when it started (time.monotonic()), how long it took."""

    started: float
    seconds: float
    ok: bool  # answered 200
    kind: str  # "anonymous" or "signed-in"
    path: str = ""


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile: the smallest value with q % of them at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def window_stats(samples: Sequence[Sample], start: float, end: float) -> dict[str, Any]:
    """The requests started in [start, end): how many, how many failed, and their
    latency (ms; failures included: a reader waited for them too)."""
    inside = [sample for sample in samples if start <= sample.started < end]
    times = [sample.seconds * 1000 for sample in inside]

    def ms(value: float | None) -> float | None:
        return round(value, 1) if value is not None else None

    return {
        "requests": len(inside),
        "errors": sum(1 for sample in inside if not sample.ok),
        "p50_ms": ms(percentile(times, 50)),
        "p99_ms": ms(percentile(times, 99)),
        "max_ms": ms(max(times, default=None)),
    }


def by_kind(samples: Sequence[Sample], start: float, end: float) -> dict[str, dict[str, Any]]:
    """window_stats for all readers, then for each kind of reader."""
    kinds = sorted({sample.kind for sample in samples})
    return {
        "all": window_stats(samples, start, end),
        **{
            kind: window_stats([s for s in samples if s.kind == kind], start, end) for kind in kinds
        },
    }


def windows(
    samples: Sequence[Sample], sent: float, returned: float, timing: Timing
) -> dict[str, dict[str, dict[str, Any]]]:
    """The quiet spell before the comment was sent, and the window from its sending to
    ``timing.after`` seconds after its answer (what the change can have slowed)."""
    return {
        "quiet": by_kind(samples, sent - timing.quiet, sent),
        "after": by_kind(samples, sent, returned + timing.after),
    }


def timeline(samples: Sequence[Sample], moment: float, before: int, after: int) -> list[dict]:
    """Second by second around ``moment`` (the comment sent): requests started in each."""
    return [
        {"second": second, **window_stats(samples, moment + second, moment + second + 1)}
        for second in range(-before, after)
    ]


# -- the readers and the writer ---------------------------------------------------------


class Reader(threading.Thread):
    """A reader asking for one page after another over one keep-alive connection."""

    def __init__(
        self,
        number: int,
        port: int,
        paths: list[str],
        cookie: str | None,
        stop: threading.Event,
        pause: float = READ_PAUSE,
    ) -> None:
        super().__init__(name=f"stampede-reader-{number:02d}", daemon=True)
        self.number = number
        self.pause = pause
        self.port = port
        self.paths = paths
        self.headers = {"Cookie": cookie} if cookie else {}
        self.kind = "signed-in" if cookie else "anonymous"
        self.stop = stop
        self.samples: list[Sample] = []

    def run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        turn = self.number  # each reader starts at another page
        while not self.stop.is_set():
            path = self.paths[turn % len(self.paths)]
            turn += 1
            if connection is None:
                connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT
                )
            started = time.monotonic()
            try:
                connection.request("GET", path, headers=self.headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = None
            self.samples.append(Sample(started, time.monotonic() - started, ok, self.kind, path))
            self.stop.wait(self.pause)
        if connection is not None:
            connection.close()


class Poller(threading.Thread):
    """An anonymous reader (no cookie, ever) asking for the commented post again and
    again from ``since`` until the comment is on it, for STALE_LIMIT seconds at most.

    When each request started is what counts (how long it then took is load, not
    staleness): the last one given the page without the comment (``stale_until``), and
    the first given it (``fresh_from``), in seconds after ``since``."""

    def __init__(self, port: int, path: str, marker: str, since: float) -> None:
        super().__init__(name="stampede-poller", daemon=True)
        self.port, self.path, self.marker, self.since = port, path, marker.encode(), since
        self.stale_until: float | None = None  # None: the first request had it
        self.fresh_from: float | None = None  # None: none had it
        self.asked = 0

    def run(self) -> None:
        deadline = self.since + STALE_LIMIT
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            while time.monotonic() < deadline:
                self.asked += 1
                started = time.monotonic() - self.since
                try:
                    connection.request("GET", self.path)
                    body = connection.getresponse().read()
                except (OSError, http.client.HTTPException):
                    connection.close()  # http.client opens it again at the next request
                    body = None
                if body is not None and self.marker in body:
                    self.fresh_from = started
                    return
                if body is not None:
                    self.stale_until = started
                time.sleep(POLL_PAUSE)
        finally:
            connection.close()


class Writer:
    """The staff user, in a browser's session (cookies kept): signs in through the
    admin's form, loads the post's comment form, posts, reads the post again."""

    def __init__(self, port: int, site: Site) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.site = site
        self.path = site.paths["commented"]
        self.http = requests.Session()
        self.fields: dict[str, str] = {}

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=REQUEST_TIMEOUT)

    def sign_in(self) -> None:
        login = self.site.login_path
        fields = parse_form(self.get(login).text, "login-form")
        if not fields:
            raise RuntimeError(f"no sign-in form at {login}")
        fields.update(username=self.site.people["staff"]["username"], password=STAFF_PASSWORD)
        response = self.http.post(
            self.base + login, data=fields, allow_redirects=False, timeout=REQUEST_TIMEOUT
        )
        if response.status_code != 302:
            raise RuntimeError(f"the staff user could not sign in ({response.status_code})")

    def load_form(self) -> None:
        self.fields = parse_form(self.get(self.path).text)
        if not self.fields:
            raise RuntimeError(f"no comment form on {self.path}")

    def post(self, text: str) -> int:
        data = {**self.fields, "comment": text, "honeypot": "", "post": ""}
        response = self.http.post(
            self.base + COMMENT_POST, data=data, allow_redirects=False, timeout=REQUEST_TIMEOUT
        )
        return response.status_code

    def sees(self, marker: str) -> tuple[bool, float]:
        """Whether the post's page, asked for now with the writer's cookies, shows the
        comment; how long that took (ms)."""
        started = time.monotonic()
        response = self.get(self.path)
        return marker in response.text, round((time.monotonic() - started) * 1000, 1)

    def close(self) -> None:
        self.http.close()


# -- a tree's server --------------------------------------------------------------------

# Run in the tree's own directory, so that its own tools.serve starts its own code.
DRIVER = """
import json, os, select, signal, sys
from pathlib import Path
from tools.serve import running_server
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the servers on the way out
log, start, stop, lifetime = Path(sys.argv[1]), *map(float, sys.argv[2:5])
with running_server(dict(os.environ), log, start, stop) as server:
    print(json.dumps({"port": server.port}), flush=True)
    select.select([sys.stdin], [], [], lifetime)  # until the benchmark closes our stdin
"""
DRIVER_LIFETIME = 600  # a driver whose benchmark died stops its servers after this


@contextlib.contextmanager
def serving(tree: Path, env: dict[str, str], log: Path) -> Iterator[int]:
    """The production stack run from ``tree``'s code, until the block ends; its port."""
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(log), str(SERVER_START_TIMEOUT),
         str(SERVER_STOP_TIMEOUT), str(DRIVER_LIFETIME)],
        cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ready, _, _ = select.select([driver.stdout], [], [], SERVER_START_TIMEOUT + 30)
        line = driver.stdout.readline() if ready else ""
        if not line:
            tail = log.read_text()[-3000:] if log.exists() else ""
            raise RuntimeError(f"the server in {tree} did not start:\n{tail}")
        yield json.loads(line)["port"]
    finally:
        driver.stdin.close()
        try:
            driver.wait(timeout=SERVER_STOP_TIMEOUT * 2)
        except subprocess.TimeoutExpired:
            driver.terminate()
            driver.wait(timeout=SERVER_STOP_TIMEOUT * 2)


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its WAL included): SQLite's backup."""
    for leftover in target.parent.glob(f"{target.name}*"):
        leftover.unlink()
    with (
        contextlib.closing(sqlite3.connect(source, timeout=20)) as original,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        original.backup(copy)


def commit_of(tree: Path) -> str:
    done = subprocess.run(  # nosec B607 # the machine's own git, on a checkout
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return done.stdout.strip() or "?"


def collect_static_in(tree: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, str(tree / "manage.py"), "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=tree, env=env, check=True, timeout=PREPARE_TIMEOUT,
    )  # fmt: skip


def http_get(port: int, path: str, cookie: str | None) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        connection.getresponse().read()
    finally:
        connection.close()


def seconds(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


# -- a run ------------------------------------------------------------------------------


def reader_paths(site: Site) -> list[str]:
    """The main pages and the commented post, in turn."""
    paths = [site.paths[key] for key in LABELS if site.paths.get(key)]
    return [*paths, site.paths["commented"]]


def run_tree(name: str, tree: Path, site: Site, timing: Timing) -> dict[str, Any]:
    """The stampede against one tree's server, on a fresh copy of the site's database."""
    database = DATA_DIR / f"stampede-{name}.sqlite3"
    static_root = STATIC_ROOT if tree == ROOT else DATA_DIR / f"static-{name}"
    env = bench_environment(database, DJANGO_STATIC_ROOT=str(static_root))
    if tree != ROOT:
        collect_static_in(tree, env)
    copy_database(site.database, database)
    log = DATA_DIR / f"server-stampede-{name}.log"
    print(f"[stampede] {name}: {tree} ({commit_of(tree)}), {site.size.name}...", flush=True)
    try:
        with serving(tree, env, log) as port:
            return {"tree": name, "path": str(tree), "commit": commit_of(tree),
                    **under_load(port, site, timing)}  # fmt: skip
    finally:
        for leftover in DATA_DIR.glob(f"{database.name}*"):
            leftover.unlink()


def under_load(port: int, site: Site, timing: Timing) -> dict[str, Any]:
    paths = reader_paths(site)
    writer = Writer(port, site)
    writer.sign_in()
    writer.load_form()
    signed_in = site.people["signed-in"]["cookie"]
    for path in paths:  # each page once: the quiet spell is not the caches' first fill
        writer.get(path)
        for cookie in (None, signed_in):
            http_get(port, path, cookie)
    stop = threading.Event()
    readers = [
        Reader(n, port, paths, signed_in if n % SIGNED_IN_EVERY == 0 else None, stop, timing.pause)
        for n in range(READERS)
    ]
    load_limit = math.ceil(timing.warmup + timing.quiet + STALE_LIMIT + timing.after + 30)
    # The background asks for the main pages; only the timed readers, the commented post.
    pause_ms = str(round(timing.background_pause * 1000))
    command = wrk_command(
        port, paths[0], BACKGROUND_THREADS, BACKGROUND_CONNECTIONS, load_limit,
        script=str(WRK_PAGES), script_args=[pause_ms, *paths[:-1]],
    )  # fmt: skip
    background = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    marker = f"stampede{secrets.token_hex(6)}"
    started = time.monotonic()
    try:
        for reader in readers:
            reader.start()
        sleep_until(started + timing.warmup + timing.quiet)
        sent = time.monotonic()
        status = writer.post(f"Posted while two hundred readers read ({marker}).")
        returned = time.monotonic()
        poller = Poller(port, site.paths["commented"], marker, returned)
        poller.start()
        writer_sees, writer_ms = writer.sees(marker)
        sleep_until(returned + timing.after + timing.tail)
        poller.join(max(0.0, returned + STALE_LIMIT + 1 - time.monotonic()))
    finally:
        stop.set()
        for reader in readers:
            reader.join(REQUEST_TIMEOUT)
        writer.close()
        background.send_signal(signal.SIGINT)  # wrk stops, and prints its figures
        out, err = background.communicate(timeout=WRK_SLACK)
    samples = [sample for reader in readers for sample in reader.samples]
    return {
        "size": site.size.name,
        "timing": timing.__dict__,
        "background": {
            "connections": BACKGROUND_CONNECTIONS,
            "paths": paths[:-1],
            **summarise(wrk_figures(out, err)),
        },
        "readers": {"count": READERS, "signed_in": len(range(0, READERS, SIGNED_IN_EVERY))},
        "comment": {"status": status, "ms": round((returned - sent) * 1000, 1)},
        "windows": windows(samples, sent, returned, timing),
        "timeline": timeline(
            samples, sent, math.ceil(timing.quiet), math.ceil(timing.after + timing.tail)
        ),
        "writer_sees_it": writer_sees,
        "writer_ms": writer_ms,
        # The promise: no request started more than a second after the POST returned
        # gets the page without the comment (0: not even the first).
        "anonymous_stale_until_s": (
            seconds(poller.stale_until or 0.0) if poller.fresh_from is not None else None
        ),
        "anonymous_fresh_from_s": seconds(poller.fresh_from),
        "anonymous_asked": poller.asked,
    }


def run(site: Site, before: Path | None = None, quick: bool = False) -> dict[str, Any]:
    """The stampede in the current tree, then in ``before`` (an earlier checkout)."""
    timing = QUICK if quick else Timing()
    runs = [run_tree("current", ROOT, site, timing)]
    if before is not None:
        if not (before / "tools" / "serve.py").exists():
            runs.append({"tree": "before", "skipped": f"no project checkout at {before}"})
        else:
            runs.append(run_tree("before", before.resolve(), site, timing))
    return {
        "size": site.size.name,
        "background_connections": BACKGROUND_CONNECTIONS,
        "readers": READERS,
        "runs": runs,
    }


def summary(stampede: dict[str, Any]) -> str:
    return (
        f"Stampede ({stampede['size']}): {stampede['background_connections']} wrk "
        f"connections on the main pages, {stampede['readers']} timed readers (one in "
        f"{SIGNED_IN_EVERY} signed in); a staff comment at 0 s. Latency in ms; 'after': "
        f"from the comment sent to 1 s after its answer.\n" + stampede_table(stampede)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stampede", description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="april-2014")
    parser.add_argument("--before", type=Path, help="an earlier checkout, run the same way")
    parser.add_argument("--quick", action="store_true", help="shorter spells")
    parser.add_argument("--output", type=Path, help="results JSON")
    args = parser.parse_args(argv)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    site = prepare_site(SIZES[args.size], reseed=False)
    collect_static(site.env)
    stampede = run(site, args.before, args.quick)
    print(summary(stampede))
    if args.output:
        args.output.write_text(json.dumps(stampede, indent=2) + "\n")


if __name__ == "__main__":
    main()
