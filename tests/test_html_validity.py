"""Every kind of page the site serves passes the Nu HTML Checker (vnu) with no error:
the pages as they are with real comments in them, posted through the form (replies
too, and a held one as staff see it), and every page of the comment flow.

vnu is npm's vnu-jar, run with Debian's Java (`make vnu`, which `make test` runs
first). The pages are collected first and checked by one run of the checker: one Java
start for them all. Without Java or the jar the test is skipped with a message saying
so, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess  # nosec B404 # runs the checker, with arguments we build
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client, TestCase, override_settings
from django.urls import reverse

from blog import previews
from blog.models import Comment, Follower, Page, Post
from blog.writing import save_page

from .discussion import (
    BOB,
    comment_and_confirm,
    confirmation_path,
    get,
    mute_path,
    post_comment,
    press,
)
from .factories import london, make_post, make_staff, make_user
from .following import confirm_path as follow_confirm_path
from .following import follow, unsubscribe_path
from .following import press as follow_press

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = Path(
    os.environ.get("VNU_JAR", ROOT / ".venv/vnu/node_modules/vnu-jar/build/dist/vnu.jar")
)
CHECK_SECONDS = 300


def checker() -> list[str]:
    """The command that runs vnu, or a skip (a failure in CI) saying what is missing."""
    java = shutil.which("java")
    if java and VNU_JAR.is_file():
        return [java, "-jar", str(VNU_JAR)]
    missing = "Java (apt-get install default-jre-headless)" if not java else f"vnu at {VNU_JAR}"
    message = f"No {missing}: `make vnu` installs the Nu HTML Checker."
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def vnu_errors(command: list[str], pages: dict[str, bytes]) -> dict[str, list[str]]:
    """Each page's errors by name (empty lists left out): one run over all the pages."""
    with tempfile.TemporaryDirectory() as folder:
        names = {}
        for index, (name, html) in enumerate(pages.items()):
            path = Path(folder) / f"page-{index:03d}.html"
            path.write_bytes(html)
            names[path] = name
        result = subprocess.run(  # nosec B603 # our own command line, no shell
            [*command, "--errors-only", "--format", "json", *sorted(map(str, names))],
            capture_output=True,
            timeout=CHECK_SECONDS,
            check=False,
        )
    report = json.loads(result.stderr or result.stdout)
    by_file = {path.name: name for path, name in names.items()}
    errors: dict[str, list[str]] = {}
    for message in report["messages"]:
        file = Path(unquote(urlsplit(message.get("url", "")).path)).name
        where = f"line {message.get('lastLine', '?')}"
        extract = " ".join(message.get("extract", "").split())
        errors.setdefault(by_file.get(file, file), []).append(
            f"{where}: {message['message']} [{extract}]"
        )
    return errors


@override_settings(BLOG_COMMENTS_RATE_LIMIT=100)
class EveryPageIsValidHTMLTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("loaddata", "april_2014", verbosity=0)
        # Enough posts for a second page of the home page.
        for day in range(1, 6):
            make_post(f"May post {day}", f"Text of day {day} [1].", tags=["workforce"],
                      published_at=london(2014, 5, day, 9), references={1: "A source"})  # fmt: skip
        cls.learning = Post.objects.get(slug="learning-organisations")
        cls.untitled = Post.objects.get(title="")
        cls.staff = make_staff("editor", first_name="Eda", last_name="Editor")
        # Standalone pages: one in the header, and staff's own words on the privacy page.
        save_page(Page(title="About", slug="about", body="We write about *workforce* matters.",
                       status=Page.Status.PUBLISHED, in_navigation=True))  # fmt: skip
        save_page(Page(title="Privacy", slug="privacy", body="Our own words.",
                       status=Page.Status.PUBLISHED))  # fmt: skip

    def fetch(self, client: Client, path: str, status: int = 200) -> bytes:
        response = get(client, path)
        self.assertEqual(response.status_code, status, path)
        return response.content

    def test_every_kind_of_page_passes_the_nu_html_checker(self):
        command = checker()
        reader = Client()
        pages: dict[str, bytes] = {}

        # The discussion, through the form: a comment asking for replies, a reply to it
        # and a reply to that, one from a signed-in reader, and one held for approval.
        words = "First thoughts.\n\nSecond paragraph, https://example.org/"
        post_comment(reader, self.learning, followup="on", comment=words)
        link = confirmation_path()
        press(reader, link)
        first = Comment.objects.get(comment__startswith="First thoughts.")
        pages["comment already confirmed"] = self.fetch(reader, link)
        mail.outbox.clear()
        reply = comment_and_confirm(reader, self.learning, reply_to=first.pk, **BOB,
                                    comment="A reply.")  # fmt: skip
        followup = next(m for m in mail.outbox if m.to == ["ann@example.org"])
        comment_and_confirm(reader, self.learning, reply_to=reply.pk, comment="And back.")
        signed_in = Client()
        signed_in.force_login(make_user("rita", first_name="Rita", last_name="Reader"))
        post_comment(signed_in, self.learning, comment="Signed in, published at once.")

        links = "https://a.example https://b.example https://c.example"  # held: three links
        sent = post_comment(reader, self.learning, name="Held", comment=links)
        pages["comment sent: check your e-mail"] = self.fetch(reader, sent["Location"])
        pages["comment confirmation"] = self.fetch(reader, confirmation_path())
        held = press(reader, confirmation_path())
        self.assertEqual(held.status_code, 200)
        pages["comment awaiting approval"] = held.content
        held_comment = Comment.objects.get(user_name="Held")
        self.assertFalse(held_comment.is_public)

        pages["stop e-mails"] = self.fetch(reader, mute_path(followup))
        pages["e-mails stopped"] = press(reader, mute_path(followup)).content
        pages["reply page"] = self.fetch(reader, f"/comments/reply/{first.pk}/")
        pages["comment form after an error"] = post_comment(
            reader, self.learning, email="not an address", comment="Kept."
        ).content
        pages["comment preview"] = post_comment(reader, self.learning, preview="1").content
        pages["comment refused"] = self.fetch(reader, "/comments/confirm/abc/", 400)

        staff = Client()
        staff.force_login(self.staff)
        pages["approve a held comment (staff)"] = self.fetch(
            staff, f"/comments/approve/{held_comment.pk}/"
        )
        pages["remove a comment (staff)"] = self.fetch(staff, f"/comments/delete/{first.pk}/")
        pages["post with comments (staff)"] = self.fetch(
            staff, self.learning.get_absolute_url()
        )

        for name, path, status in [
            ("home", "/", 200),
            ("home, page 2", "/?page=2", 200),
            ("year", "/2014/", 200),
            ("month", "/2014/04/", 200),
            ("day", "/2014/04/15/", 200),
            ("post with comments and references", self.learning.get_absolute_url(), 200),
            ("untitled post", self.untitled.get_absolute_url(), 200),
            ("tags", "/tags/", 200),
            ("tag", "/tags/workforce/", 200),
            ("author", "/authors/mills/", 200),
            ("discussions", "/discussions/", 200),
            ("references", "/references/", 200),
            ("search with results", "/search/?q=workforce", 200),
            ("search without results", "/search/?q=zebra", 200),
            ("search of punctuation alone", "/search/?q=%21%21", 200),
            ("search refused", "/search/?q=" + "a" * 300, 400),
            ("search form", "/search/", 200),
            ("privacy", "/privacy/", 200),
            ("page", "/about/", 200),
            ("404", "/2014/04/15/no-such-post/", 404),
        ]:
            pages[name] = self.fetch(Client(), path, status)
        pages["500"] = render_to_string("500.html").encode()
        # A shared preview of a draft (blog.previews), then the same link withdrawn.
        draft = make_post("A draft to share", "Its text [1].", status=Post.Status.DRAFT,
                          tags=["workforce"], references={1: "A source"})  # fmt: skip
        link = previews.create_link(draft, self.staff, datetime.timedelta(days=1))
        shared = reverse("blog:preview", args=[previews.token_for(link)])
        pages["shared preview of a draft"] = self.fetch(Client(), shared)
        previews.revoke(link, self.staff)
        pages["shared preview withdrawn"] = self.fetch(Client(), shared, 410)
        self.assertIn(b'class="comment__replies"', pages["post with comments and references"])

        # Following by e-mail (blog.following): the form's own page, its answers, and
        # the pages the e-mailed links open.
        follower = Client()
        pages["follow form"] = self.fetch(follower, "/follow/")
        pages["follow form with errors"] = follow(follower, "Ann <ann@example.org>").content
        pages["follow: check your inbox"] = self.fetch(follower, follow(follower)["Location"])
        pages["follow: confirm"] = self.fetch(follower, follow_confirm_path())
        pages["follow: confirmed"] = follow_press(follower, follow_confirm_path()).content
        stop = unsubscribe_path(Follower.objects.get(email="ann@example.org"))
        pages["unfollow"] = self.fetch(follower, stop)
        weekly = follow_press(follower, stop, {"action": "weekly"})
        pages["unfollow: weekly instead"] = weekly.content
        pages["unfollowed"] = follow_press(follower, stop, {"action": "stop"}).content
        pages["unfollow: nothing to stop"] = self.fetch(follower, stop)
        pages["follow: link not valid"] = self.fetch(follower, "/follow/confirm/abc/", 404)

        errors = vnu_errors(command, pages)
        self.assertEqual(errors, {}, json.dumps(errors, indent=2))
