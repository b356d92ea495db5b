"""Links in e-mails survive link scanners (docs/security.md, round two, item 10).

Mail systems open every link in a message before the reader does. Opening a
confirmation or mute link (GET, HEAD, any number of times, with or without cookies)
therefore changes nothing: it shows a page whose one button (a CSRF-checked POST)
publishes the comment or stops the e-mails. Follow-up e-mails carry List-Unsubscribe and
List-Unsubscribe-Post (RFC 8058): the mail program's own button posts
``List-Unsubscribe=One-Click`` to the mute address, with no cookie and no CSRF token,
and that mutes.

Before: opening either link did it at once; a one-click POST was refused as a forgery.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail
from django.test import Client

from blog.discussion import links
from blog.models import Comment
from blog.sites import absolute_url

from ..html import soup, text
from . import (
    BOB,
    DiscussionTestCase,
    comment_and_confirm,
    confirmation_path,
    get,
    mute_path,
    post_comment,
    press,
    row_counts,
)

ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


def scanners() -> dict[str, Client]:
    """What opens links before the reader: a scanner without cookies, one that keeps
    them, and the reader's own browser (which has the site's CSRF cookie)."""
    browser = Client()
    browser.get("/")
    return {"no cookies": Client(), "keeps cookies": Client(), "the reader's browser": browser}


def key_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


class ScannerTests(DiscussionTestCase):
    def follower(self) -> tuple[Comment, str]:
        """Ann follows the discussion; Bob's reply e-mails her a mute link."""
        ann = comment_and_confirm(Client(), self.post, followup="on", comment="Tell me.")
        mail.outbox.clear()
        comment_and_confirm(Client(), self.post, reply_to=ann.pk, **BOB, comment="A reply.")
        (followup,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
        return ann, mute_path(followup)

    def test_opening_a_confirmation_link_publishes_nothing_however_often(self):
        post_comment(Client(), self.post, comment="Published by the button only.")
        link = confirmation_path()
        mail.outbox.clear()
        for name, client in scanners().items():
            with self.subTest(name):
                for _ in range(5):
                    for method in (get, lambda c, p: c.head(p)):
                        response = method(client, link)
                        self.assertEqual(response.status_code, 200)
                    # Scanners follow redirects too: there are none to follow.
                    self.assertEqual(client.get(link, follow=True).redirect_chain, [])
        self.assertEqual(row_counts(), (0, 0, 0))
        self.assertEqual(mail.outbox, [])
        from blog.models import UsedConfirmationLink

        self.assertFalse(UsedConfirmationLink.objects.exists())

        # The reader's button then publishes it.
        response = press(Client(), link)
        comment = Comment.objects.get()
        self.assertRedirects(response, comment.get_absolute_url(), fetch_redirect_response=False)

    def test_the_confirmation_page_shows_the_comment_and_one_button(self):
        post_comment(Client(), self.post, comment="Line one <b>not bold</b>\n\nLine two.")
        link = confirmation_path()
        response = get(Client(), link)
        page = soup(response)
        self.assertEqual(page.select_one("h1").text, "Publish your comment?")
        quote = page.select_one("main blockquote.comment-quote")
        self.assertIn("Ann Reader", quote.text)
        self.assertIn("Line one <b>not bold</b>", quote.text)
        self.assertIsNone(quote.select_one("b"))
        (form,) = page.select("main form")
        self.assertEqual((form["method"], form["action"]), ("post", link))
        self.assertEqual(len(form.select("button")), 1)
        self.assertIsNotNone(form.select_one("input[name=csrfmiddlewaretoken]"))
        self.assertIn("Nothing is published until you press the button", text(page))

    def test_opening_a_mute_link_stops_nothing_however_often(self):
        ann, link = self.follower()
        for name, client in scanners().items():
            with self.subTest(name):
                for _ in range(5):
                    self.assertContains(get(client, link), "Stop e-mails about this discussion?")
                    self.assertEqual(client.head(link).status_code, 200)
        ann.refresh_from_db()
        self.assertTrue(ann.followup)
        # Still followed: the next reply is e-mailed to Ann.
        mail.outbox.clear()
        comment_and_confirm(Client(), self.post, name="Cy", email="cy@example.org")
        self.assertEqual(len([m for m in mail.outbox if m.to == ["ann@example.org"]]), 1)

    def test_the_mute_page_has_one_button(self):
        _, link = self.follower()
        page = soup(get(Client(), link))
        (form,) = page.select("main form")
        self.assertEqual((form["method"], form["action"]), ("post", link))
        self.assertEqual(len(form.select("button")), 1)
        self.assertIsNotNone(form.select_one("input[name=csrfmiddlewaretoken]"))
        self.assertIsNotNone(page.select_one(f"main a[href='{self.post.get_absolute_url()}']"))

    def test_the_pages_are_never_cached(self):
        post_comment(Client(), self.post)
        confirm_link = confirmation_path()
        _, mute_link = self.follower()
        for link in (confirm_link, mute_link):
            with self.subTest(link):
                response = get(Client(), link)
                for directive in ("no-cache", "no-store", "private"):
                    self.assertIn(directive, response["Cache-Control"])
                # A fresh browser gets its CSRF cookie with the page, for the button.
                self.assertIn(settings.CSRF_COOKIE_NAME, response.cookies)

    def test_other_methods_change_nothing(self):
        post_comment(Client(), self.post)
        confirm_link = confirmation_path()
        ann, mute_link = self.follower()
        before = row_counts()
        for link in (confirm_link, mute_link):
            for method in ("put", "patch", "delete", "options", "trace"):
                with self.subTest(link=link, method=method):
                    response = getattr(Client(), method)(link)
                    self.assertEqual(response.status_code, 405)
        self.assertEqual(row_counts(), before)
        ann.refresh_from_db()
        self.assertTrue(ann.followup)


class ButtonTests(DiscussionTestCase):
    """The buttons are forms of this site: CSRF-checked, as a browser sends them."""

    def test_a_fresh_browser_opens_the_link_and_presses_the_button(self):
        post_comment(Client(), self.post, comment="From a new browser.")
        link = confirmation_path()
        browser = Client(enforce_csrf_checks=True)  # no cookie yet, as from an e-mail
        page = soup(get(browser, link))
        token = page.select_one("input[name=csrfmiddlewaretoken]")["value"]
        response = browser.post(link, {"csrfmiddlewaretoken": token})
        comment = Comment.objects.get()
        self.assertRedirects(response, comment.get_absolute_url(), fetch_redirect_response=False)

    def test_a_confirmation_post_forged_from_elsewhere_is_refused_with_the_text(self):
        post_comment(Client(), self.post, comment="Only I publish this.")
        link = confirmation_path()
        forgeries = {
            "no cookie, no token": ({}, False),
            "cookie, no token": ({}, True),
            "a made-up token": ({"csrfmiddlewaretoken": "x" * 64}, True),
            "one-click body": ({"List-Unsubscribe": "One-Click"}, False),
        }
        for name, (data, with_cookie) in forgeries.items():
            with self.subTest(name):
                client = Client(enforce_csrf_checks=True)
                if with_cookie:
                    client.get(link)
                response = client.post(link, data)
                self.assertContains(response, "did not send this site", status_code=403)
                self.assertEqual(soup(response).select_one("#kept-text").text,
                                 "Only I publish this.")  # fmt: skip
        self.assertEqual(row_counts(), (0, 0, 0))

    def test_the_mute_button_needs_the_pages_token(self):
        ann = comment_and_confirm(Client(), self.post, followup="on")
        key = links.mute_token(ann.pk)
        link = f"/comments/mute/{key}/"
        forgeries = {
            "no token": {},
            "a made-up token": {"csrfmiddlewaretoken": "x" * 64},
            "almost one-click": {"List-Unsubscribe": "one-click"},
            "one-click, another field": {"List-Unsubscribe-Post": "One-Click"},
        }
        for name, data in forgeries.items():
            with self.subTest(name):
                client = Client(enforce_csrf_checks=True)
                client.get(link)
                self.assertEqual(client.post(link, data).status_code, 403)
        ann.refresh_from_db()
        self.assertTrue(ann.followup)
        browser = Client(enforce_csrf_checks=True)
        token = soup(get(browser, link)).select_one("input[name=csrfmiddlewaretoken]")["value"]
        self.assertContains(browser.post(link, {"csrfmiddlewaretoken": token}), "no more e-mails")
        ann.refresh_from_db()
        self.assertFalse(ann.followup)


class OneClickTests(DiscussionTestCase):
    def followup_to_ann(self) -> tuple[Comment, mail.EmailMessage]:
        ann = comment_and_confirm(Client(), self.post, followup="on", comment="Tell me.")
        mail.outbox.clear()
        comment_and_confirm(Client(), self.post, reply_to=ann.pk, **BOB, comment="A reply.")
        (followup,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
        return ann, followup

    def confirmation_key(self) -> str:
        post_comment(Client(), self.post, name="Di", email="di@example.org")
        return key_of(confirmation_path())

    def test_follow_ups_carry_the_one_click_headers(self):
        ann, followup = self.followup_to_ann()
        sent = followup.message()  # the message as it goes out, headers encoded
        unsubscribe = sent["List-Unsubscribe"]
        found = re.fullmatch(r"<(https?://[^>]+)>", unsubscribe)
        self.assertIsNotNone(found, unsubscribe)
        url = found.group(1)
        path = mute_path(followup)
        self.assertEqual(url, absolute_url(path))  # the Site's domain, as in the body
        self.assertEqual(links.read_mute(url.rstrip("/").rsplit("/", 1)[1]), ann.pk)
        self.assertEqual(sent["List-Unsubscribe-Post"], ONE_CLICK)

    def test_the_confirmation_request_is_not_a_list_message(self):
        post_comment(Client(), self.post)
        (request,) = mail.outbox
        self.assertIsNone(request.message()["List-Unsubscribe"])

    def test_a_mail_programs_one_click_post_mutes(self):
        bodies = {
            "form-encoded": lambda client, url: client.post(url, ONE_CLICK, content_type=FORM),
            "multipart": lambda client, url: client.post(url, {"List-Unsubscribe": "One-Click"}),
        }
        for name, send in bodies.items():
            with self.subTest(name):
                Comment.objects.all().delete()
                ann, followup = self.followup_to_ann()
                url = re.fullmatch(r"<https?://[^/]+(/[^>]+)>",
                                   followup.message()["List-Unsubscribe"]).group(1)  # fmt: skip
                # A mail provider's server: no cookie, no token, no Referer.
                provider = Client(enforce_csrf_checks=True)
                response = send(provider, url)
                self.assertEqual(response.status_code, 200)
                ann.refresh_from_db()
                self.assertFalse(ann.followup)
                # Sent again (providers retry): the same answer.
                self.assertEqual(send(provider, url).status_code, 200)
                mail.outbox.clear()
                comment_and_confirm(Client(), self.post, name="Cy", email="cy@example.org")
                self.assertEqual([m for m in mail.outbox if m.to == ["ann@example.org"]], [])

    def test_a_one_click_post_with_a_bad_key_mutes_nothing(self):
        ann, followup = self.followup_to_ann()
        key = key_of(mute_path(followup))
        provider = Client(enforce_csrf_checks=True)
        bad = {
            "altered": key[:-1] + ("A" if key[-1] != "A" else "B"),
            "cut short": key[: len(key) // 2],
            "a confirmation key": self.confirmation_key(),
            "garbage": "x" * 40,
        }
        for name, value in bad.items():
            with self.subTest(name):
                response = provider.post(f"/comments/mute/{value}/", ONE_CLICK, content_type=FORM)
                self.assertIn(response.status_code, (400, 404))
        ann.refresh_from_db()
        self.assertTrue(ann.followup)
