"""The SMTP sink itself (tests/mail/smtp.py): what the end-to-end tests rely on it for."""

from __future__ import annotations

import smtplib
import threading
import time

import pytest
from django.core.mail import EmailMessage, get_connection

from .smtp import SmtpSink

WAIT = 10


@pytest.fixture
def sink():
    server = SmtpSink()
    server.start()
    yield server
    server.stop()


def send(port: int, to: str, subject: str = "Hello") -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=WAIT) as client:
        client.sendmail("blog@localhost", [to], f"To: {to}\r\nSubject: {subject}\r\n\r\nBody\r\n")


def test_it_keeps_what_django_sends_it_parsed(sink):
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=sink.port
    )
    EmailMessage(
        "Confirm your comment on ‘Learning Organisations’",
        "Open this link:\nhttp://127.0.0.1/comments/confirm/abc/\n",
        "blog@localhost",
        ["reader@example.org"],
        connection=connection,
    ).send()

    assert sink.wait_for(1, WAIT)
    [received] = sink.messages
    assert received.subject == "Confirm your comment on ‘Learning Organisations’"
    assert received.to == "reader@example.org"
    assert received.recipients == ("reader@example.org",)
    assert received.text == "Open this link:\nhttp://127.0.0.1/comments/confirm/abc/\n"
    assert sink.recipients() == {"reader@example.org": 1}


def test_stopped_it_refuses_connections_and_starts_again_on_the_same_port(sink):
    port = sink.port
    assert port
    send(port, "first@example.org")
    sink.stop()

    with pytest.raises(ConnectionRefusedError):
        send(port, "lost@example.org")

    sink.start()
    assert sink.port == port
    send(port, "second@example.org")
    assert [r.to for r in sink.messages] == ["first@example.org", "second@example.org"]


def test_stopping_it_closes_a_sender_s_open_connection(sink):
    client = smtplib.SMTP("127.0.0.1", sink.port, timeout=WAIT)
    client.ehlo()
    sink.stop()

    with pytest.raises((smtplib.SMTPServerDisconnected, OSError)):
        client.sendmail("blog@localhost", ["x@example.org"], "Subject: x\r\n\r\nx\r\n")
    client.close()
    assert sink.count == 0


def test_a_hook_is_told_of_the_nth_e_mail_before_its_sender_hears_250():
    seen = []
    with SmtpSink(delay=0.05) as sink:
        sender_done = threading.Event()
        sink.after(2, lambda n: seen.append((n, sender_done.is_set())))

        def sender() -> None:
            for n in range(3):
                send(sink.port, f"r{n}@example.org")
                if n == 1:
                    sender_done.set()

        thread = threading.Thread(target=sender)
        thread.start()
        assert sink.wait_for(3, WAIT)
        thread.join(WAIT)

    assert seen == [(2, False)]
    assert not sink.wait_for(4, timeout=0.1)  # bounded: no fourth comes
    with pytest.raises(ValueError):
        sink.after(1, print)


def test_a_slow_sink_refuses_what_it_has_not_answered_when_stopped():
    sink = SmtpSink(delay=1.0)
    sink.start()
    errors = []

    def sender() -> None:
        try:
            send(sink.port, "late@example.org")
        except smtplib.SMTPException as error:
            errors.append(error)

    thread = threading.Thread(target=sender)
    thread.start()
    # The e-mail is being taken (the sink is in its delay) when it stops.
    deadline = time.monotonic() + WAIT
    while not sink.taking and time.monotonic() < deadline:
        time.sleep(0.01)
    sink.stop()
    thread.join(WAIT)

    assert (sink.count, sink.refused) == (0, 1)
    assert errors and isinstance(errors[0], (smtplib.SMTPDataError, smtplib.SMTPServerDisconnected))


def test_for_a_big_mailing_it_keeps_the_headers_only():
    with SmtpSink(headers_only=True) as sink:
        send(sink.port, "many@example.org", subject="A new post")
        assert sink.wait_for(1, WAIT)
    [received] = sink.messages
    assert (received.to, received.subject) == ("many@example.org", "A new post")
    assert received.text == ""
