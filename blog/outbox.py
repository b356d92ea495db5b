"""Every e-mail the site sends goes through here: written as a row (``OutgoingMail``)
in the transaction of whatever asked for it, and sent by a worker, never in a reader's
request.

    outbox.send(message, kind=OutgoingMail.Kind.COMMENT_CONFIRMATION)

The task queue is django-tasks (Django 6's django.tasks, backported): its database
backend by default, so the task that sends a row is written in the same transaction as
the row and the comment that caused it (all or nothing), and picked up by
`manage.py db_worker`; RQ on Redis where TASKS_URL says so (settings.tasks_from_url),
enqueued after the commit, as an RQ worker cannot see what is not committed.

A mail server that refuses a connection, times out or answers 4xx leaves the rows
waiting, each with its next attempt after a growing delay (1, 2, 4… minutes, at most
an hour, ``BLOG_MAIL_RETRY_*``), and a task enqueued for then; after
``BLOG_MAIL_MAX_ATTEMPTS`` a row is marked failed, for staff to see and send again in
the admin. A recipient the server refuses for good (5xx) fails at once.

Exactly once: a row is claimed (``sending``, with this run's token) before it is sent
and marked ``sent`` as soon as the server has taken it, so two workers, or a task
enqueued twice, never send it twice. A worker stopped with SIGTERM finishes its task
(at most ``BATCH_SIZE`` e-mails) first; one killed outright may leave the row it was
sending ``sending``: whether the server took it cannot be known, so it is not sent
again on its own, and the admin lists it for staff to decide.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone
from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend

from .models import Mailing, OutgoingMail

logger = logging.getLogger(__name__)

# E-mails sent by one task over one connection: small enough that a worker asked to
# stop stops within seconds, large enough that a mailing is not a task per follower.
BATCH_SIZE = 100
# A batch claimed this long ago and not done: its worker is dead (release_stuck).
STUCK_RELEASE_AFTER = timedelta(hours=1)
Status = OutgoingMail.Status


def send(message: EmailMessage, *, kind: str) -> list[OutgoingMail]:
    """Queue ``message``: one row per recipient (each gets their own e-mail, and their
    own retries), sent by the worker once the caller's transaction commits."""
    return send_many([message], kind=kind)


def send_many(messages: Iterable[EmailMessage], *, kind: str) -> list[OutgoingMail]:
    """Queue several messages at once (one insert, one task)."""
    rows = []
    for message in messages:
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", ())
                if mimetype == "text/html"
            ),
            "",
        )
        for to in message.to:
            rows.append(
                OutgoingMail(
                    kind=kind,
                    to=to,
                    subject=message.subject,
                    body=message.body,
                    html=html,
                    headers=dict(message.extra_headers),
                )
            )
    if not rows:
        return []
    with transaction.atomic():
        rows = OutgoingMail.objects.bulk_create(rows)
        enqueue([row.pk for row in rows])
    return rows


def enqueue(ids: Sequence[int], *, run_after: datetime | None = None) -> None:
    """Have a worker send the rows ``ids``, in batches, at ``run_after`` (or now)."""
    ids = list(ids)
    for start in range(0, len(ids), BATCH_SIZE):
        # Where the backend cannot defer (the unit tests'), rows keep their next attempt
        # for `manage.py send_queued_mail` or the admin's "Send again now".
        enqueue_task(deliver, ids[start : start + BATCH_SIZE], run_after=run_after)


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers that let a mail program offer its own "Unsubscribe" button (RFC
    2369), which posts ``List-Unsubscribe=One-Click`` to ``url`` (absolute) with no
    sign-in and no page (RFC 8058): on comment follow-ups and followers' e-mail alike."""
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def enqueue_task(task_: Task, *args: Any, run_after: datetime | None = None) -> bool:
    """Enqueue ``task_`` as the outbox enqueues its own: in the caller's transaction
    where the queue is in the same database, after its commit where it is not. False
    when it is for later and the backend cannot defer (the unit tests'): what it was to
    do is then left to `manage.py send_queued_mail`, which finds it due."""
    backend = task_.get_backend()
    if run_after is not None:
        if not backend.supports_defer:
            return False
        task_ = task_.using(run_after=run_after)
    if isinstance(backend, (DatabaseBackend, ImmediateBackend)):
        # The task is a row of the same database, in the same transaction (or runs
        # here, now): written with the e-mail, or not at all.
        task_.enqueue(*args)
    else:
        transaction.on_commit(lambda: task_.enqueue(*args))
    return True


@task()
def deliver(ids: list[int]) -> int:
    """Send the rows ``ids`` still waiting, over one connection. Returns how many were
    sent."""
    return send_rows(ids)


def send_rows(ids: Sequence[int]) -> int:
    token = uuid.uuid4().hex
    now = timezone.now()
    try:
        claimed = OutgoingMail.objects.filter(pk__in=list(ids), status=Status.QUEUED).update(
            status=Status.SENDING, claim=token, claimed_at=now
        )
        if not claimed:
            return 0
        rows = list(
            OutgoingMail.objects.filter(claim=token, status=Status.SENDING)
            # A mailing's e-mail is built from these (blog.following.mailing): its post
            # without its text, which is read once per mailing, not once per e-mail.
            .select_related("mailing__post", "follower__tag")
            .defer("mailing__post__body", "mailing__post__body_html")
            .order_by("pk")
        )
    except (OperationalError, InterfaceError):
        # The database went as the batch was claimed: what the server kept of the claim
        # (its answer may be what was lost) was never tried, and waits again.
        steadily(
            lambda: OutgoingMail.objects.filter(claim=token, status=Status.SENDING).update(
                status=Status.QUEUED, claim=""
            )
        )
        raise
    sent = 0
    # The rows whose e-mail has gone to the server (or may have): the others are
    # released if the database fails under the batch (see below).
    tried: set[int] = set()
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
        for row in rows:
            try:
                message = build_message(row)
            except NotSent as reason:
                _finish(row, Status.CANCELLED, error=str(reason))
                continue
            except Exception as error:
                # A bug of ours, not the server's: this e-mail fails, the others go.
                logger.exception("E-mail %s could not be built", row.pk)
                _finish(row, Status.FAILED, error=_describe(error))
                continue
            if message is None:
                _finish(row, Status.CANCELLED, error="The follower has unsubscribed.")
                continue
            message.connection = connection
            tried.add(row.pk)
            try:
                message.send()
            except smtplib.SMTPRecipientsRefused as error:
                _fail_or_retry(row, error, permanent=_permanent(error))
                continue
            except smtplib.SMTPResponseException as error:
                if _permanent(error):
                    _finish(row, Status.FAILED, error=_describe(error))
                    continue
                raise
            _finish(row, Status.SENT)
            sent += 1
    except (OperationalError, InterfaceError):
        # The database went (a killed session, a restart): what this batch claimed and
        # never sent waits again, for the task's next run (the worker gives it back).
        untried = [row.pk for row in rows if row.status == Status.SENDING and row.pk not in tried]
        steadily(
            lambda: OutgoingMail.objects.filter(
                pk__in=untried, claim=token, status=Status.SENDING
            ).update(status=Status.QUEUED, claim="")
        )
        raise
    except (smtplib.SMTPException, OSError) as error:
        # The server is down, slow or refusing for now: all that is left waits.
        waiting = [row for row in rows if row.status == Status.SENDING]
        logger.warning("Mail server unavailable (%s): %d e-mail(s) wait.", error, len(waiting))
        retry(waiting, error)
    finally:
        try:
            connection.close()
        except Exception:  # a broken connection has nothing to close
            logger.debug("Closing the mail connection failed", exc_info=True)
    finish_mailings({row.mailing_id for row in rows if row.mailing_id is not None})
    return sent


def finish_mailings(ids: Iterable[int]) -> int:
    """Mark the mailings ``ids`` finished that have nothing left waiting or being sent:
    one UPDATE, after each batch that sent some of their e-mails, so that the admin
    shows a mailing's end without counting its e-mails. Each of the mailing's e-mails
    is then sent, failed or not sent; "Send again now" opens it again."""
    ids = list(ids)
    if not ids:
        return 0
    pending = OutgoingMail.objects.filter(
        mailing=OuterRef("pk"), status__in=[Status.QUEUED, Status.SENDING]
    )
    return (
        Mailing.objects.filter(pk__in=ids, started_at__isnull=False, finished_at__isnull=True)
        .exclude(Exists(pending))
        .update(finished_at=timezone.now())
    )


# What builds a mailing's e-mail from its row (blog.following.mailing.message_for, set by
# blog.apps): the outbox knows rows, not posts nor followers, and imports neither.
_mailing_builder: Callable[[OutgoingMail], EmailMessage | None] | None = None


def build_mailings_with(builder: Callable[[OutgoingMail], EmailMessage | None]) -> None:
    global _mailing_builder
    _mailing_builder = builder


class NotSent(Exception):
    """Raised by a builder: the e-mail is no longer to be sent (a post withdrawn after
    its mailing started). The row is marked not sent, with the reason as its error."""


def build_message(row: OutgoingMail) -> EmailMessage | None:
    """The e-mail ``row`` stands for; None when it is no longer to be sent (its
    follower has unsubscribed)."""
    if row.mailing_id is not None:
        if _mailing_builder is None:
            raise RuntimeError("No builder of mailings' e-mail (blog.apps registers one).")
        return _mailing_builder(row)
    message = EmailMultiAlternatives(
        row.subject, row.body, settings.DEFAULT_FROM_EMAIL, [row.to], headers=row.headers
    )
    if row.html:
        message.attach_alternative(row.html, "text/html")
    return message


def retry_delay(attempts: int) -> timedelta:
    """How long a row waits after its ``attempts``-th failed attempt."""
    base = settings.BLOG_MAIL_RETRY_BASE
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.BLOG_MAIL_RETRY_MAX))


def retry(rows: list[OutgoingMail], error: BaseException) -> None:
    """Put ``rows`` back in the queue after a failed attempt, and enqueue their next."""
    if not rows:
        return
    now = timezone.now()
    again: dict[datetime, list[int]] = {}
    for row in rows:
        row.attempts += 1
        row.last_error = _describe(error)
        row.claim = ""
        if row.attempts >= settings.BLOG_MAIL_MAX_ATTEMPTS:
            row.status = Status.FAILED
        else:
            row.status = Status.QUEUED
            row.next_attempt_at = now + retry_delay(row.attempts)
            again.setdefault(row.next_attempt_at, []).append(row.pk)
    steadily(
        lambda: OutgoingMail.objects.bulk_update(
            rows, ["attempts", "last_error", "claim", "status", "next_attempt_at"]
        )
    )
    for when, ids in again.items():
        enqueue(ids, run_after=when)


def send_again(rows: Iterable[OutgoingMail]) -> int:
    """Staff's "send again": failed, stuck or waiting rows queued to go now."""
    rows = [row for row in rows if row.status != Status.SENT]
    ids = [row.pk for row in rows]
    with transaction.atomic():
        OutgoingMail.objects.filter(pk__in=ids).exclude(status=Status.SENT).update(
            status=Status.QUEUED, claim="", next_attempt_at=timezone.now(), last_error=""
        )
        # Their mailings have e-mail waiting again: not finished until it has gone.
        Mailing.objects.filter(
            pk__in={row.mailing_id for row in rows if row.mailing_id is not None}
        ).update(finished_at=None)
        enqueue(ids)
    return len(ids)


def due(before: datetime | None = None) -> list[int]:
    """The rows waiting whose next attempt has come (by ``before``, or now)."""
    return list(
        OutgoingMail.objects.filter(
            status=Status.QUEUED, next_attempt_at__lte=before or timezone.now()
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def forget_done(before: datetime) -> int:
    """Delete the rows done with (sent, failed, not sent) written before ``before``;
    returns how many. A finished mailing needs none of them: it is never started
    again (blog.following.mailing), so its idempotency records have done their work."""
    deleted, _ = OutgoingMail.objects.filter(
        status__in=[Status.SENT, Status.FAILED, Status.CANCELLED], created_at__lt=before
    ).delete()
    return deleted


def release_stuck(older_than: timedelta | None = None) -> int:
    """Put back in the queue what a worker killed in the middle of a batch left
    ``sending`` and certainly did not send; returns how many.

    A batch is sent in the order of its ids, each row marked as soon as the server took
    it: of a claim's rows still ``sending``, only the first may have gone (the worker
    died while sending it, or before marking it) and stays for staff to decide (the
    admin lists it as stuck); the ones after it were never tried. A claim is taken to
    be dead after ``STUCK_RELEASE_AFTER``, longer than a live worker can take over a
    batch (each e-mail gives up after EMAIL_TIMEOUT)."""
    cutoff = timezone.now() - (STUCK_RELEASE_AFTER if older_than is None else older_than)
    stuck = OutgoingMail.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff)
    firsts = stuck.order_by().values("claim").annotate(first=Min("pk")).values("first")
    ids = list(stuck.exclude(pk__in=firsts).values_list("pk", flat=True))
    if ids:
        with transaction.atomic():
            OutgoingMail.objects.filter(pk__in=ids, status=Status.SENDING).update(
                status=Status.QUEUED, claim="", next_attempt_at=timezone.now()
            )
            enqueue(ids)
    return len(ids)


def _finish(row: OutgoingMail, status: str, *, error: str = "") -> None:
    row.status = status
    fields = {"status": status, "claim": "", "last_error": error}
    if status == Status.SENT:
        fields["sent_at"] = timezone.now()
    if status != Status.SENT:
        fields["attempts"] = row.attempts + 1
    # Each row as soon as it is done: a worker stopped after this e-mail never sends it
    # again. The server has answered: what it said must be kept, through a database
    # connection lost meanwhile (a PostgreSQL session killed, a restart) if it can be.
    steadily(lambda: OutgoingMail.objects.filter(pk=row.pk).update(**fields))


# A lost connection's writes are tried again this long apart (then the error stands).
STEADY_WAITS = (0.2, 0.5, 1.0, 2.0, 4.0)


def steadily(write: Callable[[], Any]) -> Any:
    """Run ``write``; where the database connection was lost (OperationalError,
    InterfaceError) and no transaction is open (the worker's autocommit: inside one,
    the transaction is lost anyway), reconnect and run it again, a few times."""
    for wait in (*STEADY_WAITS, None):
        try:
            return write()
        except (OperationalError, InterfaceError):
            if wait is None or connection.in_atomic_block:
                raise
            logger.warning("Database connection lost while recording e-mail: reconnecting")
            try:
                connection.close()
            except Exception:  # a connection killed under it may fail to close, too
                connection.connection = None
            time.sleep(wait)
    return None


def _fail_or_retry(row: OutgoingMail, error: smtplib.SMTPException, *, permanent: bool) -> None:
    if permanent:
        _finish(row, Status.FAILED, error=_describe(error))
    else:
        row.status = Status.QUEUED
        retry([row], error)


def _permanent(error: smtplib.SMTPException) -> bool:
    """5xx: the server will never take it. 4xx: try again later."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    return 500 <= getattr(error, "smtp_code", 0) < 600


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]
