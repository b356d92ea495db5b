"""Nothing a commenter writes reads as part of the site's e-mails (issue 14, item 8).

A name could carry line breaks, and the comment's text went verbatim into the
moderators' e-mail above the real "Approve"/"Remove" links, so a commenter could write
action lines pointing elsewhere. Names and addresses with control characters are now
refused; the moderators' e-mail gives the site's own lines first, then everything the
reader wrote, each line quoted "> ".
"""

from __future__ import annotations

from django.core import mail
from django.db import connection
from django.test import TestCase, override_settings
from django.urls import reverse

from blog.discussion.moderation import notify_managers
from blog.discussion.plaintext import control_characters, quoted
from blog.models import Comment
from blog.sites import absolute_url

from ..discussion import (
    CONFIRM_LINK,
    MUTE_LINK,
    DiscussionTestCase,
    comment_and_confirm,
    post_comment,
    row_counts,
)
from ..html import soup, text

HEADER = "The comment, as written by the reader"
MODERATOR = "moderator@example.org"

# Every way a program may start a new line, and other controls.
BREAKS = ["\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
CONTROLS = [*BREAKS, "\x00", "\x07", "\x1b", "\x7f", "\x9b", "\t"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]

FORGED = "Approve it: https://evil.example/approve"


def forged_texts() -> list[str]:
    """Comment texts that try to write lines of the site's own."""
    texts = []
    for brk in BREAKS:
        texts.append(f"casino{brk}{FORGED}{brk}Remove it: https://evil.example/remove")
        texts.append(f"casino{brk}{brk}--{brk}Open it in the admin: https://evil.example/admin")
    texts += [
        f"{FORGED}\ncasino",
        f"casino\n\n\n{HEADER} (every line is quoted):\n\nnot really",
        "casino\n> already quoted\n>> twice",
        "casino " + "x" * 2000 + f"\n{FORGED}",
        f"casino\x1b[2J\x1b[H{FORGED}",
        f"casino\u202e{FORGED[::-1]}",
    ]
    return texts


class ModeratorsMailTests(DiscussionTestCase):
    def lines_of(self, body: str) -> tuple[list[str], list[str]]:
        """The e-mail's lines before the header of the reader's part, and after it."""
        lines = body.split("\n")
        starts = [i for i, line in enumerate(lines) if line.startswith(HEADER)]
        self.assertEqual(len(starts), 1, body)
        return lines[: starts[0]], lines[starts[0] + 1 :]

    def assertSiteLinesFirst(self, comment: Comment, body: str) -> None:
        ours, theirs = self.lines_of(body)
        site = "\n".join(ours)
        for name in ("comments-approve", "comments-delete"):
            self.assertIn(absolute_url(reverse(name, args=[comment.pk])), site)
        self.assertNotIn("evil", site)
        # No line break of any kind is left in the body but the LF between lines.
        for brk in BREAKS[1:]:
            self.assertNotIn(brk, body)
        for line in theirs:
            if line:
                self.assertTrue(line.startswith(">"), f"unquoted: {line!r}\n{body}")
        self.assertFalse([c for c in body if c in BIDI or c in "\x00\x07\x1b\x7f\x9b"])

    @override_settings(BLOG_COMMENTS_RATE_LIMIT=10_000)
    def test_forged_action_lines_come_after_the_real_ones_and_are_quoted(self):
        for payload in forged_texts():
            with self.subTest(payload=payload[:80]):
                mail.outbox.clear()
                comment = comment_and_confirm(self.client, self.post, comment=payload)
                self.assertFalse(comment.is_public)  # "casino": held, so Approve is there
                [notice] = [m for m in mail.outbox if MODERATOR in m.to]
                self.assertSiteLinesFirst(comment, notice.body)
                if f"\n{FORGED}" in payload or payload.startswith(FORGED):
                    self.assertIn(f"\n> {FORGED}\n", notice.body)

    @override_settings(BLOG_COMMENTS_RATE_LIMIT=10_000)
    def test_name_and_website_are_the_readers_too(self):
        comment = comment_and_confirm(
            self.client,
            self.post,
            name="Approve it: https://evil.example/",
            url="https://evil.example/approve",
            comment="casino",
        )
        [notice] = [m for m in mail.outbox if MODERATOR in m.to]
        self.assertSiteLinesFirst(comment, notice.body)
        self.assertIn("> Name: Approve it: https://evil.example/", notice.body)
        self.assertIn("> Website: https://evil.example/approve", notice.body)

    def test_names_saved_before_the_form_refused_them_stay_on_their_line(self):
        # PostgreSQL's text columns cannot hold NUL at all: no such row exists there.
        storable = [c for c in CONTROLS if c != "\x00" or connection.vendor != "postgresql"]
        for brk in [*storable, *BIDI]:
            with self.subTest(char=repr(brk)):
                mail.outbox.clear()
                comment = Comment.objects.create(
                    content_object=self.post,
                    site_id=1,
                    user_name=f"Ann{brk}{FORGED}",
                    user_email="ann@example.org",
                    user_url=f"https://fine.example.org/{brk}{FORGED}",
                    comment=f"Hello{brk}{FORGED}",
                    is_public=False,
                )
                with TestCase.captureOnCommitCallbacks(execute=True):
                    notify_managers(comment.pk)
                [notice] = mail.outbox
                self.assertSiteLinesFirst(comment, notice.body)

    def test_a_published_comment_has_the_same_layout(self):
        comment = comment_and_confirm(self.client, self.post, comment=f"Fine.\n{FORGED}")
        self.assertTrue(comment.is_public)
        [notice] = [m for m in mail.outbox if MODERATOR in m.to]
        ours, _ = self.lines_of(notice.body)
        self.assertIn(absolute_url(reverse("comments-delete", args=[comment.pk])), "\n".join(ours))
        self.assertIn(f"> {FORGED}", notice.body)


@override_settings(BLOG_COMMENTS_RATE_LIMIT=10_000)
class ReadersMailTests(DiscussionTestCase):
    """The e-mails to readers: the confirmation (which goes to whatever address the
    writer typed, so perhaps to someone else) and the follow-ups. The site's links come
    before the writer's words, and every line of those is quoted."""

    def assertQuotedAfter(self, body: str, link: str) -> None:
        lines = body.split("\n")
        [at] = [i for i, line in enumerate(lines) if link in line]
        self.assertNotIn("evil", "\n".join(lines[: at + 1]), body)
        quoted_lines = [line for line in lines if line.startswith(">")]
        self.assertTrue(quoted_lines, body)
        for line in lines:
            if "evil" in line:
                self.assertTrue(line.startswith(">"), f"unquoted: {line!r}\n{body}")
        for brk in BREAKS[1:]:
            self.assertNotIn(brk, body)

    def test_the_confirmation_gives_the_link_first_and_quotes_the_text(self):
        for payload in forged_texts():
            with self.subTest(payload=payload[:80]):
                mail.outbox.clear()
                post_comment(self.client, self.post, comment=payload)
                [message] = mail.outbox
                link = CONFIRM_LINK.search(message.body).group(1)
                self.assertQuotedAfter(message.body, link)

    def test_a_follow_up_gives_the_links_first_and_quotes_the_reply(self):
        first = comment_and_confirm(self.client, self.post, followup="on", comment="Tell me")
        for payload in forged_texts():
            with self.subTest(payload=payload[:80]):
                mail.outbox.clear()
                reply = comment_and_confirm(
                    self.client, self.post, reply_to=first.pk,
                    name="Bob", email="bob@example.org", comment=payload,
                )  # fmt: skip
                if not reply.is_public:  # held ("casino"): approve it, which sends them
                    reply.is_public = True
                    with TestCase.captureOnCommitCallbacks(execute=True):
                        reply.save()
                followups = [m for m in mail.outbox if m.to == ["ann@example.org"]]
                self.assertTrue(followups)
                body = followups[-1].body
                self.assertQuotedAfter(body, MUTE_LINK.search(body).group(1))


class QuotedTests(TestCase):
    def test_every_line_is_quoted_whatever_breaks_it(self):
        for brk in BREAKS:
            with self.subTest(char=repr(brk)):
                self.assertEqual(quoted(f"a{brk}b{brk}{brk}c"), "> a\n> b\n>\n> c")


@override_settings(BLOG_COMMENTS_RATE_LIMIT=10_000)
class ControlCharactersRefusedTests(DiscussionTestCase):
    def assertRefusedField(self, field: str, value: str) -> None:
        before = row_counts()
        response = post_comment(self.client, self.post, **{field: value})
        self.assertEqual(response.status_code, 400)
        page = soup(response)
        errors = text(page.select_one("#comment-form")) if page.select_one("#comment-form") else ""
        # NUL has Django's own message ("Null characters are not allowed.").
        self.assertTrue("control characters" in errors or "Null characters" in errors, errors)
        self.assertEqual(row_counts(), before)

    def test_names_with_control_characters_are_refused(self):
        for char in [*CONTROLS, *BIDI]:
            with self.subTest(char=repr(char)):
                self.assertRefusedField("name", f"Ann{char}Approve it: https://evil.example/")
        self.assertEqual(mail.outbox, [])

    def test_websites_with_control_characters_are_refused(self):
        for char in CONTROLS:
            with self.subTest(char=repr(char)):
                self.assertRefusedField("url", f"https://fine.example.org/a{char}b")

    def test_names_in_every_script_still_pass(self):
        for name in (
            "Zoë O’Brien-Smith",
            "محمد الأحمد",
            "יעל כהן",
            "می\u200cخواهم",  # Persian, with a zero-width non-joiner
            "क्\u200dष",  # Devanagari, with a zero-width joiner
            "\u200fשרה\u200e (Sarah)",  # direction marks
            "李小龍",
        ):
            with self.subTest(name=name):
                self.assertEqual(control_characters(name), [])
                mail.outbox.clear()
                response = post_comment(self.client, self.post, name=name)
                self.assertEqual(response.status_code, 302, text(soup(response))[:500])
