"""Every e-mail is sent by the worker, never in a reader's request, and exactly once,
whatever the mail server and the worker do: end to end, with the real processes.

The site is `make serve`'s (production settings, nginx in front of gunicorn, the
`worker` beside them) on a database of its own (this leg's kind: SQLite in `make
test`, PostgreSQL under DATABASE_URL=postgres://…), sending over SMTP to a real server
on loopback (tests/mail/smtp.py), first retry after a second (BLOG_MAIL_RETRY_BASE=1).

- The mail server down while a reader comments: the comment is accepted as ever, its
  e-mail waits with the error; the server back, the worker sends it, once.
- The worker stopped (SIGTERM) in the middle of 250 e-mails: it finishes its batch and
  exits; started again, it sends the rest; every address gets one e-mail.
- The worker killed (SIGKILL) there: no address gets two; the rest of its batch is
  left `sending` until outbox.release_stuck (send_queued_mail) finds its claim old
  and queues again what was never tried; the one it was sending stays `sending` for
  staff to decide on (blog/outbox.py says why); every other address gets one e-mail.
- The mail server stopped in the middle of a mailing and started again: all sent, once.
- RQ on the real Redis (TASKS_URL=redis://…/13): `rqworker` sends it, a retry that
  waits included (RQ's own scheduler); two workers at once send each e-mail once.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup

from blog.outbox import BATCH_SIZE
from tests.nginx import require_nginx
from tests.reliability.client import parse_form
from tools.processes import worker_command
from tools.serve import free_port, running_server
from tools.services import redis_answers

from .site import MODERATOR, MailSite, Worker, mail_site, worker
from .smtp import SmtpSink

pytestmark = pytest.mark.e2e

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
START_TIMEOUT = 30
STOP_TIMEOUT = 30
HTTP_TIMEOUT = 30
# Retries wait 1, 2, 4… s: an e-mail is sent within seconds of the server coming back.
DELIVERY_TIMEOUT = 90
# After the last e-mail, this long without another: no copy was on its way.
QUIET = 3
MAILING = 250  # e-mails: three batches of the worker's (100, 100, 50)
STOP_AT = 30  # the worker is stopped as the sink takes this one
REDIS_URL = "redis://127.0.0.1:6379/13"
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/comments/confirm/[^/\s]+/)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[MailSite]:
    folder = tmp_path_factory.mktemp("mail-e2e")
    with mail_site(folder, os.environ["DATABASE_URL"] if ON_POSTGRES else "") as prepared:
        yield prepared


def addresses(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{n:03d}@example.org" for n in range(count)]


def sent_once(sink: SmtpSink, wanted: list[str]) -> None:
    """Each of ``wanted`` got one e-mail from the sink, and nothing else came."""
    got = sink.recipients()
    assert sorted(got) == sorted(wanted), f"missing {set(wanted) - set(got)}"
    assert set(got.values()) == {1}, [a for a, n in got.items() if n > 1]


# -- the mail server down while a reader comments -------------------------------------


def post_anonymous_comment(http: requests.Session, base: str, post_url: str, email: str):
    page = http.get(base + post_url, timeout=HTTP_TIMEOUT)
    assert page.status_code == 200
    fields = parse_form(page.text)
    fields.update(
        comment="Supervision goes first when caseloads rise.",
        name="Ann Reader",
        email=email,
        url="",
        honeypot="",
        reply_to="0",
        post="",  # the button pressed
    )
    return http.post(
        base + "/comments/post/", data=fields, allow_redirects=False, timeout=HTTP_TIMEOUT
    )


def test_comment_is_accepted_while_the_mail_server_is_down_and_its_mail_sent_once_back(
    site, tmp_path
):
    require_nginx()
    sink = SmtpSink(port=free_port())  # nothing listens there yet: the server is down
    env = site.env(sink.port)
    newest = "from blog.models import Post\nresult = Post.objects.published().first()"
    post_url = site.python(env, f"{newest}.get_absolute_url()")
    reader = "ann-outage@example.org"
    with running_server(env, tmp_path / "server.log", START_TIMEOUT, STOP_TIMEOUT) as server:
        base = f"http://127.0.0.1:{server.port}"
        http = requests.Session()
        response = post_anonymous_comment(http, base, post_url, reader)

        # The reader's answer is the usual one: check your e-mail.
        assert response.status_code == 302, response.text[-2000:]
        sent_page = http.get(base + response.headers["Location"], timeout=HTTP_TIMEOUT)
        assert "Check your e-mail to publish your comment" in sent_page.text
        # The e-mail waits, with why; the worker has tried and will try again.
        [row] = site.wait_for_rows(reader, lambda rows: rows and rows[0]["attempts"] >= 1, 30)
        assert row["status"] == "queued"
        assert row["kind"] == "comment-confirm"
        assert "Connection refused" in row["last_error"] or "111" in row["last_error"]

        sink.start()
        try:
            assert sink.wait_for(1, DELIVERY_TIMEOUT)
            assert sink.wait_quiet(QUIET, QUIET * 3) == 1
            [received] = sink.messages
            assert received.to == reader
            assert received.subject.startswith("Confirm your comment on")
            [row] = site.rows_to(reader)
            assert row["status"] == "sent"

            # The link it carries publishes the comment, and the moderators' notice
            # of it goes the same way: by the worker, once.
            link = CONFIRM_LINK.search(received.text).group(1)
            page = http.get(base + link, timeout=HTTP_TIMEOUT)
            confirm = parse_form(page.text, "confirm-form")
            confirmed = http.post(
                base + link, data=confirm, allow_redirects=False, timeout=HTTP_TIMEOUT
            )
            assert confirmed.status_code == 302
            assert sink.wait_for(2, DELIVERY_TIMEOUT)
            assert sink.wait_quiet(QUIET, QUIET * 3) == 2
            assert sink.messages[1].to == MODERATOR
            assert "Supervision goes first" in sink.messages[1].text
        finally:
            sink.stop()


# -- following by e-mail ----------------------------------------------------------------

FOLLOW_CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/follow/confirm/[^/\s]+/)")
PUBLISH = """
from django.utils import timezone
from blog.models import Post, Reference
from blog.writing import save_post
from tests.factories import make_staff
editor = make_staff(EDITOR)
post = Post(title=TITLE, body="Supervision first [1].", author=editor,
            status=Post.Status.PUBLISHED, published_at=timezone.now())
save_post(post, references=[Reference(number=1, citation="Munro (2011) The Munro Review")],
          tags=["workforce"], user=editor)
result = post.get_absolute_url()
"""


def publish(site: MailSite, env: dict[str, str], title: str, editor: str) -> str:
    """A post published now by a new editor ``editor``, as the admin does; its path."""
    return site.python(env, f"TITLE = {title!r}\nEDITOR = {editor!r}\n{PUBLISH}")


def test_a_reader_follows_confirms_gets_the_new_post_and_stops_in_one_click(site, tmp_path):
    """The whole journey over real HTTP and SMTP: the footer's form, the e-mailed link
    and its button, a post published by an editor mailed by the worker, and the mail
    program's one-click unsubscribe, after which the next post is not sent."""
    require_nginx()
    reader = "follower-e2e@example.org"
    with SmtpSink() as sink:
        env = site.env(sink.port)
        with running_server(env, tmp_path / "server.log", START_TIMEOUT, STOP_TIMEOUT) as server:
            base = f"http://127.0.0.1:{server.port}"
            http = requests.Session()
            home = http.get(base + "/", timeout=HTTP_TIMEOUT)
            form = BeautifulSoup(home.text, "html.parser").select_one("form.follow-form")
            fields = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
            fields.update(email="Follower-E2E@Example.org", frequency="post")
            asked = http.post(
                base + form["action"], data=fields, allow_redirects=False, timeout=HTTP_TIMEOUT
            )
            assert asked.status_code == 303, asked.text[-2000:]

            # Only the request to confirm, to the address as the site keeps it.
            assert sink.wait_for(1, DELIVERY_TIMEOUT)
            [request] = sink.messages
            assert request.to == reader
            link = FOLLOW_CONFIRM_LINK.search(request.text).group(1)
            page = http.get(base + link, timeout=HTTP_TIMEOUT)  # a link scanner's visit
            assert site.python(env, CONFIRMED) is False
            button = parse_form(page.text, "follow-confirm-form")
            done = http.post(base + link, data=button, timeout=HTTP_TIMEOUT)
            assert done.status_code == 200
            assert site.python(env, CONFIRMED) is True

            post_url = publish(site, env, "Supervision, e2e", "e2e-editor")
            assert sink.wait_for(2, DELIVERY_TIMEOUT)
            assert sink.wait_quiet(QUIET, QUIET * 3) == 2
            mailed = sink.messages[1]
            assert mailed.to == reader
            assert "Supervision, e2e" in mailed.subject
            assert "Munro (2011) The Munro Review" in mailed.text
            assert post_url in mailed.text
            html = mailed.message.get_body(preferencelist=("html",)).get_content()
            assert "Munro (2011) The Munro Review" in html
            assert mailed.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            unsubscribe = mailed.message["List-Unsubscribe"].strip("<>")

            # What a mail program posts: no cookie, no token, no sign-in.
            path = "/" + unsubscribe.split("/", 3)[3]
            stopped = requests.post(
                base + path, data={"List-Unsubscribe": "One-Click"}, timeout=HTTP_TIMEOUT
            )
            assert stopped.status_code == 200
            assert site.python(env, CONFIRMED) is None

            publish(site, env, "After stopping, e2e", "e2e-editor-2")
            assert sink.wait_quiet(QUIET, QUIET * 3) == 2  # nothing more to the reader


CONFIRMED = """
from blog.models import Follower
row = Follower.objects.filter(email="follower-e2e@example.org").first()
result = None if row is None else row.is_confirmed
"""


# -- the worker stopped mid-mailing ---------------------------------------------------


def test_worker_stopped_mid_mailing_finishes_its_batch_and_the_rest_is_sent_once(site, tmp_path):
    wanted = addresses("term", MAILING)
    with SmtpSink(delay=0.01) as sink:
        env = site.env(sink.port)
        site.queue(env, wanted, "A new post")
        log = tmp_path / "worker.log"

        first = Worker(env, log)
        sink.after(STOP_AT, lambda _n: first.signal(signal.SIGTERM))
        try:
            # SIGTERM: the batch it is sending is finished, then it exits, cleanly.
            assert first.wait(STOP_TIMEOUT) == 0, first.output()
        finally:
            first.stop()
        taken = sink.count
        assert taken in (BATCH_SIZE, MAILING % BATCH_SIZE), taken  # one whole batch
        rows = Counter(row["status"] for row in site.rows_to("term-"))
        assert rows == {"sent": taken, "queued": MAILING - taken}

        with worker(env, log):
            assert sink.wait_for(MAILING, DELIVERY_TIMEOUT)
            sink.wait_quiet(QUIET, QUIET * 3)
        sent_once(sink, wanted)
        assert Counter(row["status"] for row in site.rows_to("term-")) == {"sent": MAILING}


def test_worker_killed_mid_mailing_sends_no_address_twice(site, tmp_path):
    wanted = addresses("kill", MAILING)
    with SmtpSink(delay=0.01) as sink:
        env = site.env(sink.port)
        site.queue(env, wanted, "A new post")
        log = tmp_path / "worker.log"

        first = Worker(env, log)
        # Killed as the server takes an e-mail, before the worker hears 250 for it:
        # the one case where whether it was sent cannot be known.
        sink.after(STOP_AT, lambda _n: first.signal(signal.SIGKILL))
        try:
            assert first.wait(STOP_TIMEOUT) == -signal.SIGKILL
        finally:
            first.stop()
        assert sink.count == STOP_AT
        killed = site.rows_to("kill-")
        sending = [row for row in killed if row["status"] == "sending"]
        sent = {row["to"] for row in killed if row["status"] == "sent"}
        # Its batch was claimed whole: what it had not finished stays claimed, never sent
        # again by a worker, for staff to see ("Being sent") and decide on.
        assert len(sent) == STOP_AT - 1
        assert len({row["claim"] for row in sending}) == 1
        assert len(sent) + len(sending) in (BATCH_SIZE, MAILING % BATCH_SIZE)
        # The e-mail the server took as the worker died is the first of them.
        uncertain = sending[0]["to"]
        assert {r.to for r in sink.messages} == sent | {uncertain}

        with worker(env, log):
            # A worker started again sends the other batches, not what was claimed.
            expected = MAILING - len(sending) + 1
            assert sink.wait_for(expected, DELIVERY_TIMEOUT)
            assert sink.wait_quiet(QUIET, QUIET * 3) == expected
            got = sink.recipients()
            assert set(got.values()) == {1}  # no address twice
            after = site.rows_to("kill-")
            assert [row["to"] for row in after if row["status"] == "sending"] == [
                row["to"] for row in sending
            ]

            # Once the claim is old enough to be a dead worker's (the worker's round,
            # blog.upkeep: outbox.release_stuck, here without waiting the hour), what
            # was never tried is sent; the one that may have gone stays for staff.
            released = site.python(
                env,
                "from datetime import timedelta\nfrom blog import outbox\n"
                "result = outbox.release_stuck(older_than=timedelta(milliseconds=1))",
            )
            assert released == len(sending) - 1
            assert sink.wait_for(MAILING, DELIVERY_TIMEOUT)
            assert sink.wait_quiet(QUIET, QUIET * 3) == MAILING
        sent_once(sink, wanted)
        after = site.rows_to("kill-")
        assert [row["to"] for row in after if row["status"] == "sending"] == [uncertain]


# -- the mail server stopped mid-mailing ----------------------------------------------


def test_mail_server_stopped_mid_mailing_then_back_gets_every_e_mail_once(site, tmp_path):
    wanted = addresses("outage", MAILING)
    with SmtpSink(delay=0.01) as sink:
        env = site.env(sink.port)
        site.queue(env, wanted, "A new post")
        with worker(env, tmp_path / "worker.log"):
            assert sink.wait_for(STOP_AT, DELIVERY_TIMEOUT)
            sink.stop()  # in the middle of the worker's batch
            waiting = site.wait_for_rows(
                "outage-", lambda rows: any(row["attempts"] for row in rows), 30
            )
            assert not any(row["status"] == "failed" for row in waiting)
            sink.start()
            assert sink.wait_for(MAILING, DELIVERY_TIMEOUT)
            sink.wait_quiet(QUIET, QUIET * 3)
    sent_once(sink, wanted)
    rows = site.rows_to("outage-")
    assert Counter(row["status"] for row in rows) == {"sent": MAILING}
    assert any(row["attempts"] for row in rows)


# -- RQ on the real Redis -------------------------------------------------------------


@pytest.fixture
def redis_tasks() -> Iterator[str]:
    """Redis database 13, empty, for the tasks; emptied again afterwards."""
    import redis

    try:
        redis_answers(REDIS_URL)
    except Exception as error:  # any failure to reach Redis
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Redis at {REDIS_URL} ({error}), and CI needs it", pytrace=False)
        pytest.skip(f"no Redis at {REDIS_URL} ({error})")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5, socket_timeout=5)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


def scheduled_jobs(url: str) -> Counter[str]:
    """The tasks waiting for their time in RQ's own registry (not rq-scheduler's), by
    name: retries of the outbox's ``deliver``, and the worker's round of upkeep."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        ids = client.zrange("rq:scheduled:default", 0, -1)
        descriptions = [client.hget(f"rq:job:{job.decode()}", "description") for job in ids]
        return Counter(d.decode().split("(")[0].rsplit(".", 1)[-1] for d in descriptions)
    finally:
        client.close()


def rq_burst(env: dict[str, str], log: Path) -> Worker:
    """`manage.py rqworker default --burst --with-scheduler`: what is due (retries whose
    time has come included), then it exits."""
    command = [*worker_command(env), "--burst"]
    return Worker(env, log, command)


def test_rq_workers_send_the_mail_and_its_retry_once(site, redis_tasks, tmp_path):
    sink = SmtpSink(port=free_port())  # down at first
    env = site.env(sink.port, tasks_url=redis_tasks)
    log = tmp_path / "rq.log"
    site.queue(env, ["rq-retry@example.org"], "Queued on Redis")

    # The server down: the attempt fails, and the retry waits in RQ's scheduled jobs.
    assert rq_burst(env, log).wait(STOP_TIMEOUT) == 0
    [row] = site.rows_to("rq-retry")
    assert (row["status"], row["attempts"]) == ("queued", 1)
    assert sink.count == 0
    # One round of upkeep (blog.upkeep), whichever worker finished a task first.
    assert scheduled_jobs(redis_tasks) == {"deliver": 1, "do_round": 1}

    sink.start()
    try:
        # Its time come (a second), a worker's scheduler enqueues it and it is sent.
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while site.rows_to("rq-retry")[0]["status"] != "sent":
            assert time.monotonic() < deadline, Path(log).read_text()[-3000:]
            time.sleep(0.5)
            assert rq_burst(env, log).wait(STOP_TIMEOUT) == 0
        assert sink.wait_quiet(QUIET, QUIET * 3) == 1
        assert sink.messages[0].to == "rq-retry@example.org"

        # Several workers at once (as on several machines): each e-mail once.
        wanted = addresses("rq-many", MAILING)
        site.queue(env, wanted, "A new post")
        workers = [rq_burst(env, tmp_path / f"rq-{n}.log") for n in range(2)]
        for each in workers:
            assert each.wait(DELIVERY_TIMEOUT) == 0, each.output()
        assert sink.wait_for(MAILING + 1, DELIVERY_TIMEOUT)
        sink.wait_quiet(QUIET, QUIET * 3)
    finally:
        sink.stop()
    got = sink.recipients()
    assert {a: got[a] for a in wanted} == dict.fromkeys(wanted, 1)
    assert sum(got.values()) == MAILING + 1
    # Three workers have finished tasks since: still one round waits.
    assert scheduled_jobs(redis_tasks) == {"do_round": 1}
