"""The run's bookkeeping: what each request and each comment came to, the e-mails the
site wrote, and the comments clients may answer.

Every comment carries a marker, unique in the run, in its text and (for anonymous
readers) in its e-mail address: afterwards the database is searched for each one.
"""

from __future__ import annotations

import email
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_LEVEL = 3  # COMMENTS_XTD_MAX_THREAD_LEVEL: the deepest comment one may answer is above it
CONFIRM_PATH = re.compile(r"https?://[^/\s]+(/comments/confirm/[^/\s]+/)")
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


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


class Mailbox:
    """The e-mails Django's file backend wrote, by recipient."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()
        self.seen: dict[str, int] = {}
        self.links: dict[str, list[str]] = {}

    def _scan(self) -> None:
        for path in sorted(self.folder.glob("*.log")):
            size = path.stat().st_size
            if self.seen.get(path.name) == size:
                continue
            self.seen[path.name] = size
            for chunk in path.read_bytes().split(MAIL_SEPARATOR):
                if not chunk.strip():
                    continue
                message = email.message_from_bytes(chunk)
                body = message.get_payload(decode=True) or b""
                found = CONFIRM_PATH.search(body.decode("utf-8", "replace"))
                if found:
                    links = self.links.setdefault(message.get("To", ""), [])
                    if found.group(1) not in links:
                        links.append(found.group(1))

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
