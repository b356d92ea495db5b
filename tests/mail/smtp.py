"""A real SMTP server on loopback that keeps what it is sent: for the end-to-end mail
tests, `make reliability` and the mailing benchmark.

    sink = SmtpSink(delay=0.01)      # headers_only=True: no bodies kept (a big mailing)
    sink.start()                     # 127.0.0.1, a free port: sink.port
    sink.after(30, lambda n: ...)    # told, in the server's thread, of the 30th e-mail
    sink.stop(); sink.start()        # an outage: refused, then back on the same port
    assert sink.wait_for(250, timeout=60)

It is aiosmtpd's server in a thread of its own (its Controller), so the site's worker
talks SMTP to it as it would to a mail server: a sink stopped is a connection refused,
and one stopped while the worker is connected closes that connection, as a crashed
server would. Each e-mail is kept once the server has answered 250 for it, parsed with
email.message_from_bytes. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
# What a server going down answers the transactions it can no longer finish: the
# sender keeps the e-mail and tries again later (RFC 5321, 4yz).
SHUTTING_DOWN = "421 4.3.2 Service shutting down"
# A stop waits this long for the 250s just answered to reach the sender, so that no
# e-mail is both kept here and unknown to the sender (and so sent twice).
STOP_SETTLE = 0.2


@dataclass(frozen=True)
class Received:
    """One e-mail as the server took it."""

    message: email.message.EmailMessage
    recipients: tuple[str, ...]  # RCPT TO, the envelope's
    at: float  # time.monotonic() when the server answered 250

    @property
    def to(self) -> str:
        return str(self.message["To"] or "").strip()

    @property
    def subject(self) -> str:
        # A long encoded subject is folded onto the next line; unfolded, it keeps the
        # fold's space.
        return str(self.message["Subject"] or "").strip()

    @property
    def text(self) -> str:
        """The plain-text body, decoded, with the line ends the site wrote."""
        part = self.message.get_body(preferencelist=("plain",)) or self.message
        return str(part.get_content()).replace("\r\n", "\n")


class _Controller(Controller):
    """aiosmtpd's Controller, on port 0 if asked (the port the system chose is then
    ``port``), and closing the connections still open when stopped."""

    def __init__(self, handler: Any, port: int) -> None:
        super().__init__(handler, hostname=HOST, port=port, server_hostname="sink.localhost")
        self.sessions: list[SMTP] = []

    def factory(self) -> SMTP:
        session = super().factory()
        self.sessions.append(session)
        return session

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    def _abort_sessions(self) -> None:
        for session in self.sessions:
            if session.transport is not None:
                session.transport.abort()

    def stop(self, no_assert: bool = False) -> None:
        self.loop.call_soon_threadsafe(self._abort_sessions)
        super().stop(no_assert)


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every e-mail it takes (``messages``).

    ``delay``: seconds it takes over each e-mail before answering 250 (a slow server;
    the sender waits). ``port``: 0 for a free one, chosen at the first start and kept
    for every later one, so that stopping and starting it again is an outage of one
    server, not a move to another."""

    def __init__(self, delay: float = 0.0, port: int = 0, headers_only: bool = False) -> None:
        self.delay = delay
        self.port = port
        # Keep each e-mail's headers only (its body is dropped): for the benchmark's
        # 10,000, which would otherwise take hundreds of megabytes.
        self.headers_only = headers_only
        self._controller: _Controller | None = None
        self._closing = False
        self._received: list[Received] = []
        self._hooks: dict[int, list[Callable[[int], None]]] = {}
        self._changed = threading.Condition()
        self.refused = 0  # transactions answered 421 as it stopped
        self.taking = 0  # e-mails being taken (their data received, not yet answered)

    # -- running ----------------------------------------------------------------------

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the SMTP sink is already running")
        controller = _Controller(self, self.port)
        controller.start()
        self.port = controller.port
        self._closing = False
        self._controller = controller

    def stop(self) -> None:
        """Stop as a server shutting down does: what it has not answered yet is refused
        (421), what it has answered reaches the sender, then every connection is closed
        and the port refuses connections until ``start``."""
        if self._controller is None:
            return
        self._closing = True
        time.sleep(STOP_SETTLE)
        self._controller.stop()
        self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- aiosmtpd's handler -----------------------------------------------------------

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.taking += 1
        try:
            return await self._take(envelope)
        finally:
            self.taking -= 1

    async def _take(self, envelope: Envelope) -> str:
        # The delay in short steps: a stop cuts it short, and the e-mail is refused.
        until = time.monotonic() + self.delay
        while not self._closing and time.monotonic() < until:
            await asyncio.sleep(min(0.005, until - time.monotonic()))
        if self._closing:
            self.refused += 1
            return SHUTTING_DOWN
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if self.headers_only:
            raw = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        message = email.message_from_bytes(raw, policy=email.policy.default)
        received = Received(message, tuple(envelope.rcpt_tos), time.monotonic())
        with self._changed:
            self._received.append(received)
            count = len(self._received)
            hooks = self._hooks.pop(count, [])
            self._changed.notify_all()
        for hook in hooks:
            hook(count)
        return "250 OK"

    # -- what it was sent -------------------------------------------------------------

    @property
    def messages(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    @property
    def count(self) -> int:
        with self._changed:
            return len(self._received)

    def after(self, count: int, hook: Callable[[int], None]) -> None:
        """Call ``hook(count)`` as the ``count``-th e-mail is taken, in the server's
        thread, before the sender hears 250 for it: it must be quick (a signal to send,
        an event to set), and must not stop the sink (that waits for this thread)."""
        with self._changed:
            if len(self._received) >= count:
                raise ValueError(f"{len(self._received)} e-mails were taken already")
            self._hooks.setdefault(count, []).append(hook)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Until ``count`` e-mails have been taken (True), or ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def wait_quiet(self, quiet: float, timeout: float) -> int:
        """Until nothing has arrived for ``quiet`` seconds (or ``timeout``): how many
        were taken. For "and no more": a duplicate would come within the quiet time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                last = self._received[-1].at if self._received else 0.0
                now = time.monotonic()
                if now - last >= quiet or now >= deadline:
                    return len(self._received)
                self._changed.wait(min(quiet - (now - last), deadline - now))

    def recipients(self) -> Counter[str]:
        """How many e-mails each address got."""
        return Counter(address.lower() for r in self.messages for address in r.recipients)

    def save(self, folder: Path) -> None:
        """Each e-mail as an .eml file (`make reliability --keep`)."""
        folder.mkdir(parents=True, exist_ok=True)
        for n, received in enumerate(self.messages, 1):
            (folder / f"{n:05d}.eml").write_bytes(received.message.as_bytes())
