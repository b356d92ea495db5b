"""The load: concurrent readers who browse and comment (client.py), all on one plan,
started together and awaited. Every request, its timing and its outcome is recorded."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from bs4 import BeautifulSoup

from .client import CONNECT_TIMEOUT, MAIL_WAIT, READ_TIMEOUT, Client
from .records import Mailbox, Record, Registry, Submission

if TYPE_CHECKING:
    from tests.mail.smtp import SmtpSink


@dataclass
class Plan:
    base_url: str
    read_paths: list[str]
    posts: dict[int, str]  # pk -> address
    hot_post: int
    hot_comments: list[int]
    sessions: list[str]
    session_cookie: str
    clients: int
    comments: int
    deadline: float  # time.monotonic() after which no client starts anything new
    seed: int
    prefix: str  # in every marker of the run
    signed_in_every: int = 3  # every third client is signed in
    mail_wait: float = MAIL_WAIT  # how long a reader waits for the e-mail before going on
    mail_deadline: float = 0.0  # time.monotonic() after which a reader stops waiting for one

    def __post_init__(self) -> None:
        self.mail_deadline = self.mail_deadline or self.deadline + MAIL_WAIT


class Run:
    """The state the clients share while the load runs."""

    def __init__(self, plan: Plan, mailbox: Mailbox, registry: Registry) -> None:
        self.plan = plan
        self.mailbox = mailbox
        self.registry = registry
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.records: list[Record] = []
        self.submissions: list[Submission] = []
        self.finished = 0  # comments whose outcome is known
        self.posting = 0  # comment POSTs in flight: when a kill is aimed
        self.progress = threading.Condition(self.lock)

    def now(self) -> float:
        return time.monotonic() - self.started

    def record(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)

    def submission_done(self, submission: Submission) -> None:
        with self.progress:
            self.submissions.append(submission)
            self.finished += 1
            self.progress.notify_all()

    def wait_for(self, finished: int, deadline: float) -> bool:
        with self.progress:
            while self.finished < finished:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.progress.wait(min(remaining, 1))
            return True


def read_paths(base_url: str, posts: dict[int, str], hot_post: int) -> list[str]:
    """The pages readers browse, each checked to answer 200 before the load starts."""
    tags_page = requests.get(base_url + "/tags/", timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    tags_page.raise_for_status()
    soup = BeautifulSoup(tags_page.text, "html.parser")
    tags = sorted({a["href"] for a in soup.find_all("a", href=re.compile(r"^/tags/[^/]+/$"))})
    paths = [
        "/",
        "/2014/",
        "/2014/04/",
        "/2014/04/15/",
        "/tags/",
        *tags[:4],
        f"{tags[0]}feed/",
        *sorted(posts.values()),
        f"{posts[hot_post]}?page=2",
        "/feeds/atom/",
        "/feeds/rss/",
        "/feeds/comments/",
        "/search/?q=social+work",
        "/search/?q=ofsted",
        "/search/?q=%22mandatory+reporting%22",
        "/discussions/",
        "/references/",
        "/sitemap.xml",
    ]
    for path in paths:
        status = requests.get(
            base_url + path, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False
        ).status_code
        if status != 200:
            raise RuntimeError(f"{path} answered {status} before the load began")
    return paths


def run_load(plan: Plan, sink: SmtpSink, seeded: list[dict[str, Any]]) -> tuple[Run, list[Client]]:
    """Start the clients; the caller waits for them (join_clients)."""
    run = Run(plan, Mailbox(sink), Registry(seeded, plan.posts))
    share, extra = divmod(plan.comments, plan.clients)
    clients = [Client(run, n, share + (n < extra)) for n in range(plan.clients)]
    for client in clients:
        client.start()
    return run, clients


def join_clients(clients: list[Client], deadline: float) -> list[str]:
    """Wait for every client (bounded); what went wrong in the harness itself."""
    problems = []
    for client in clients:
        client.join(timeout=max(0.0, deadline - time.monotonic()))
        if client.is_alive():
            problems.append(f"{client.name} still running at the deadline")
        elif client.error is not None:
            problems.append(f"{client.name}: {client.error!r}")
    return problems
