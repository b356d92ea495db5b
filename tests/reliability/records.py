"""The run's bookkeeping: what each request and each comment came to, the e-mails the
site sent, and the comments clients may answer.

Every comment carries a marker, unique in the run, in its text and (for anonymous
readers) in its e-mail address: afterwards the database is searched for each one.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.mail.smtp import SmtpSink

MAX_LEVEL = 3  # COMMENTS_XTD_MAX_THREAD_LEVEL: the deepest comment one may answer is above it
CONFIRM_PATH = re.compile(r"https?://[^/\s]+(/comments/confirm/[^/\s]+/)")


@dataclass
class Record:
    client: int
    action: str  # read, form, post, confirm, verify
    label: str
    start: float  # seconds since the run began
    end: float
    status: int | None  # None: no response (the error says why)
    error: str = ""


@dataclass
class Submission:
    """One comment a client sent (with its retries)."""

    marker: str
    client: int
    signed_in: bool
    target: str  # hot, reply, new
    parent: int
    post: int
    attempts: int = 0
    statuses: list[int] = field(default_factory=list)  # of each POST that was answered
    form_statuses: list[int | None] = field(default_factory=list)  # forms that did not load
    post_errors: int = 0  # POSTs that got no answer at all
    accepted: bool = False  # 302 from the POST
    confirmed: bool = False  # signed in: the same as accepted; anonymous: the link followed
    comment_id: int | None = None
    text_kept: list[bool] = field(default_factory=list)  # per 503: the text was in the page
    double_confirmed: bool = False
    confirm_text_kept: list[bool] = field(default_factory=list)  # per 503 to the link
    # Its confirmation e-mail had not come when the reader looked (the mail server was
    # down): they opened it later, after their other comments.
    mail_deferred: bool = False


class Mailbox:
    """The e-mails the site sent to the harness's SMTP server, read for the
    confirmation link each anonymous reader is sent."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.lock = threading.Lock()
        self.seen = 0
        self.links: dict[str, list[str]] = {}

    def _scan(self) -> None:
        messages = self.sink.messages
        for received in messages[self.seen :]:
            found = CONFIRM_PATH.search(received.text)
            if found:
                links = self.links.setdefault(received.to, [])
                if found.group(1) not in links:
                    links.append(found.group(1))
        self.seen = len(messages)

    def confirmation_path(self, address: str, deadline: float) -> str | None:
        while True:
            with self.lock:
                self._scan()
                links = self.links.get(address)
            if links:
                return links[-1]
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)


class Registry:
    """The comments clients know to exist (seeded, and accepted during the run)."""

    def __init__(self, seeded: list[dict[str, Any]], posts: dict[int, str]) -> None:
        self.lock = threading.Lock()
        self.comments: dict[int, tuple[int, int]] = {
            c["id"]: (c["post"], c["level"]) for c in seeded
        }
        self.posts = posts

    def add(self, comment_id: int, post: int, level: int) -> None:
        with self.lock:
            self.comments[comment_id] = (post, level)

    def answerable(self) -> list[tuple[int, int, int]]:
        with self.lock:
            return sorted(
                (pk, post, level)
                for pk, (post, level) in self.comments.items()
                if level < MAX_LEVEL
            )

    def level(self, comment_id: int) -> int:
        with self.lock:
            return self.comments[comment_id][1]
