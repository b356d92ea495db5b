"""One reader of the load: a thread that browses and comments, as a browser would.

Each client is a thread with its own HTTP session (cookies kept). Between comments it
reads pages (home, archives, tags, posts and their discussion pages, feeds, search);
to comment it loads the page with the form, takes the form's security fields and CSRF
token from the HTML, and posts. Half the comments answer one of a few "hot" comments,
many at the same moment; the rest answer a comment posted earlier in the run, or start
a thread. Anonymous clients then open the link e-mailed to them (read from the
harness's SMTP server) and press the page's button; signed-in clients' comments are
saved at once. A reader whose e-mail has not come within the plan's wait (the mail
server is down) goes on commenting, and opens it once their other comments are sent.
"""

from __future__ import annotations

import random
import re
import threading
import time
from typing import TYPE_CHECKING

import requests
from bs4 import BeautifulSoup

from .records import Record, Submission

if TYPE_CHECKING:
    from .load import Run

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30
MAIL_WAIT = 15  # seconds for a confirmation e-mail to come (the worker sends it)
POST_ATTEMPTS = 3  # a reader whose comment met a fault sends it again, twice at most
CONFIRM_ATTEMPTS = 4
RETRY_PAUSE = 0.5
COMMENT_ANCHOR = re.compile(r"#c(\d+)$")
SENT_PK = re.compile(r"/comments/sent/\?c=(\d+)$")
USED_LINK_ANCHOR = re.compile(r'href="[^"#]*#c(\d+)"')

SENTENCES = [
    "Supervision time is the first thing to go when caseloads rise.",
    "Our team saw the same pattern after the last inspection.",
    "The thresholds document says one thing and practice says another.",
    "Newly qualified workers need protected caseloads for longer than a year.",
    "Reflective practice groups helped us more than any new form did.",
    "I would like to see the evidence behind that claim.",
]


class Client(threading.Thread):
    def __init__(self, run: Run, number: int, comments: int) -> None:
        super().__init__(name=f"client-{number:02d}", daemon=True)
        self.run_state = run
        self.number = number
        self.quota = comments
        plan = run.plan
        self.rng = random.Random(plan.seed * 1000 + number)  # nosec B311 # a seeded load plan, not a secret
        self.http = requests.Session()
        self.signed_in = number % plan.signed_in_every == plan.signed_in_every - 1
        if self.signed_in:
            session = plan.sessions[number // plan.signed_in_every % len(plan.sessions)]
            host = plan.base_url.split("//", 1)[1].split(":")[0]
            self.http.cookies.set(plan.session_cookie, session, domain=host, path="/")
        self.error: BaseException | None = None
        # Comments whose e-mail had not come: (submission, level), opened later.
        self.deferred: list[tuple[Submission, int]] = []

    # -- requests ---------------------------------------------------------------------

    def request(self, action: str, label: str, method: str, path: str, **kwargs):
        run = self.run_state
        start = run.now()
        try:
            response = self.http.request(
                method,
                run.plan.base_url + path,
                allow_redirects=False,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                **kwargs,
            )
        except requests.RequestException as error:
            run.record(
                Record(self.number, action, label, start, run.now(), None, type(error).__name__)
            )
            return None
        run.record(Record(self.number, action, label, start, run.now(), response.status_code))
        return response

    def read(self) -> None:
        path = self.rng.choice(self.run_state.plan.read_paths)
        self.request("read", label_of(path), "GET", path)

    # -- commenting -------------------------------------------------------------------

    def choose_target(self, n: int) -> tuple[str, int, int]:
        """(kind, parent id or 0, post pk)."""
        plan = self.run_state.plan
        roll = self.rng.random()
        if roll < 0.5:
            return "hot", self.rng.choice(plan.hot_comments), plan.hot_post
        if roll < 0.8:
            answerable = self.run_state.registry.answerable()
            if answerable:
                pk, post, _level = self.rng.choice(answerable)
                return "reply", pk, post
        return "new", 0, self.rng.choice(sorted(plan.posts))

    def form_fields(self, parent: int, post: int) -> tuple[dict[str, str], int | None]:
        """The comment form's fields as the page sent them; the page's status."""
        plan = self.run_state.plan
        via_reply_page = parent and self.rng.random() < 0.5
        if via_reply_page:
            path, label = f"/comments/reply/{parent}/", "reply page"
        else:
            path, label = plan.posts[post], "post page (form)"
        response = self.request("form", label, "GET", path)
        if response is None or response.status_code != 200:
            return {}, response.status_code if response is not None else None
        fields = parse_form(response.text)
        # What the inline reply form (static/js/discussion.js) does on the post page.
        fields["reply_to"] = str(parent)
        return fields, 200

    def post_once(self, submission: Submission, text: str) -> requests.Response | None:
        """Load the form and send the comment; None when the form did not load."""
        fields, status = self.form_fields(submission.parent, submission.post)
        if not fields:
            submission.form_statuses.append(status)
            return None
        submission.attempts += 1
        fields.update(comment=text, honeypot="", post="")
        if not self.signed_in:
            fields.update(name=f"Reader {self.number:02d}", email=address_of(submission), url="")
        with self.run_state.lock:
            self.run_state.posting += 1
        try:
            response = self.request("post", "comment POST", "POST", "/comments/post/", data=fields)
        finally:
            with self.run_state.lock:
                self.run_state.posting -= 1
        if response is None:
            submission.post_errors += 1
        return response

    def comment(self, n: int) -> None:
        run = self.run_state
        kind, parent, post = self.choose_target(n)
        marker = f"{run.plan.prefix}c{self.number:02d}n{n:03d}q"
        submission = Submission(marker, self.number, self.signed_in, kind, parent, post)
        text = f"{self.rng.choice(SENTENCES)} [{marker}]"
        try:
            for _attempt in range(POST_ATTEMPTS):
                response = self.post_once(submission, text)
                if response is not None:
                    submission.statuses.append(response.status_code)
                    if response.status_code == 302:
                        submission.accepted = True
                        self.after_accepted(submission, response.headers.get("Location", ""))
                        break
                    if response.status_code != 503:
                        break  # refused for a reason that sending again will not change
                    submission.text_kept.append(marker in response.text)
                elif submission.post_errors or submission.form_statuses[-1] not in (502, 503, 504):
                    # No answer to the POST: whether it was saved is unknown, and sending
                    # it again could save it twice; a form that failed otherwise is final.
                    break
                if time.monotonic() > run.plan.deadline:
                    break
                # The reader reloads the page and sends their text again.
                time.sleep(RETRY_PAUSE)
        finally:
            run.submission_done(submission)

    def after_accepted(self, submission: Submission, location: str) -> None:
        run = self.run_state
        level = 0 if not submission.parent else run.registry.level(submission.parent) + 1
        if self.signed_in:
            found = SENT_PK.search(location)
            submission.confirmed = bool(found)
            submission.comment_id = int(found.group(1)) if found else None
            self.saved(submission, level)
            return
        path = run.mailbox.confirmation_path(
            address_of(submission), time.monotonic() + run.plan.mail_wait
        )
        if path is None:
            # Not come yet: the reader goes on, and opens it later (confirm_deferred).
            submission.mail_deferred = True
            self.deferred.append((submission, level))
            return
        self.follow_link(submission, path, level)

    def follow_link(self, submission: Submission, path: str, level: int) -> None:
        submission.comment_id = self.confirm(submission, path)
        submission.confirmed = submission.comment_id is not None
        if submission.confirmed and self.rng.random() < 0.05:
            # A reader who follows the link twice: still one comment.
            submission.double_confirmed = True
            self.confirm(submission, path)
        self.saved(submission, level)

    def saved(self, submission: Submission, level: int) -> None:
        if submission.comment_id is not None:
            self.run_state.registry.add(submission.comment_id, submission.post, level)
            if self.rng.random() < 0.2:
                self.verify(submission)

    def confirm_deferred(self) -> None:
        """The e-mails that had not come, opened now, each as soon as it comes (until
        the plan's mail deadline)."""
        run = self.run_state
        for submission, level in self.deferred:
            path = run.mailbox.confirmation_path(address_of(submission), run.plan.mail_deadline)
            if path is not None:
                self.follow_link(submission, path, level)

    def confirm(self, submission: Submission, path: str) -> int | None:
        """Open the link e-mailed and press the page's button; the comment's id."""
        for _attempt in range(CONFIRM_ATTEMPTS):
            response = self.request("confirm", "confirmation page", "GET", path)
            if response is not None and response.status_code == 200:
                fields = parse_form(response.text, "confirm-form")
                if not fields:
                    # Used already (a press whose answer was lost): the page links to it.
                    found = USED_LINK_ANCHOR.search(response.text)
                    return int(found.group(1)) if found else None
                response = self.request("confirm", "confirmation link", "POST", path, data=fields)
            if response is not None and response.status_code == 302:
                found = COMMENT_ANCHOR.search(response.headers.get("Location", ""))
                return int(found.group(1)) if found else None
            if response is not None and response.status_code == 503:
                # A fault while saving it: the reader's text must be on the page.
                submission.confirm_text_kept.append(submission.marker in response.text)
            elif response is not None:
                return None
            time.sleep(RETRY_PAUSE)
        return None

    def verify(self, submission: Submission) -> None:
        """Read one's own comment where the site says it is."""
        response = self.request(
            "verify", "own comment", "GET", f"/comments/sent/?c={submission.comment_id}"
        )
        if response is None or response.status_code != 302:
            return
        location = response.headers.get("Location", "").split("#")[0]
        page = self.request("verify", "own comment's page", "GET", location)
        if page is not None and page.status_code == 200 and submission.marker not in page.text:
            self.run_state.record(
                Record(
                    self.number,
                    "verify",
                    "own comment missing",
                    self.run_state.now(),
                    self.run_state.now(),
                    0,
                    "the page did not show the comment",
                )
            )

    def run(self) -> None:
        try:
            for n in range(self.quota):
                if time.monotonic() > self.run_state.plan.deadline:
                    return
                for _ in range(self.rng.randint(1, 3)):
                    self.read()
                self.comment(n)
            self.confirm_deferred()
        except BaseException as error:  # reported by the harness, never swallowed
            self.error = error
        finally:
            self.http.close()


def address_of(submission: Submission) -> str:
    return f"{submission.marker}-{submission.attempts}@example.org"


def parse_form(html: str, form_id: str = "comment-form") -> dict[str, str]:
    form = BeautifulSoup(html, "html.parser").find("form", id=form_id)
    if form is None:
        return {}
    fields = {}
    for element in form.find_all(["input", "textarea"]):
        name = element.get("name")
        kind = (element.get("type") or "").lower()
        if not name or kind == "submit" or (kind == "checkbox" and not element.has_attr("checked")):
            continue
        fields[name] = element.get("value", "") if element.name == "input" else element.text
    return fields


def label_of(path: str) -> str:
    """A read's kind, for the figures."""
    if path.startswith("/feeds/") or path.endswith("/feed/"):
        return "feed"
    if path.startswith("/search/"):
        return "search"
    if path.startswith("/tags/"):
        return "tag"
    if "?page=" in path:
        return "post, discussion page 2"
    if re.fullmatch(r"/\d{4}/\d{2}/\d{2}/[^/]+/", path):
        return "post"
    if re.fullmatch(r"/\d{4}/(\d{2}/)*", path):
        return "archive"
    return "other" if path != "/" else "home"
