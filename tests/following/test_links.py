"""The links in the e-mails: confirming (a page, then its button) and stopping (a page
and its button, or a mail program's one-click POST, with no sign-in and no cookie)."""

from __future__ import annotations

import datetime

import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from blog.following import links
from blog.models import Follower

from ..factories import london, make_post
from ..html import soup, text
from . import confirm_path, follow, follow_and_confirm, press, unsubscribe_path

NOW = london(2014, 6, 1, 12)


@time_machine.travel(NOW, tick=False)
class LinkTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_post("Stepping up", published_at=london(2014, 4, 15, 9), tags=["Ofsted"])


class ConfirmTests(LinkTestCase):
    def test_opening_the_link_confirms_nothing_its_button_does(self):
        follow(self.client, tag="ofsted", frequency="weekly")
        path = confirm_path()
        scanner = Client()  # a mail system opening every link, twice, and with HEAD
        for method in (scanner.get, scanner.get, scanner.head):
            self.assertEqual(method(path).status_code, 200)
        follower = Follower.objects.get()
        self.assertFalse(follower.is_confirmed)
        page = soup(self.client.get(path))
        self.assertIn(
            "new posts tagged “Ofsted”, in a weekly digest", text(page.select_one("main"))
        )
        self.assertEqual(page.select_one("#follow-confirm-form")["method"], "post")
        self.assertIn("no-cache", self.client.get(path)["Cache-Control"])
        done = press(self.client, path)
        self.assertEqual(done.status_code, 200)
        self.assertContains(done, "Done: you follow")
        follower.refresh_from_db()
        self.assertEqual(follower.confirmed_at, NOW)
        # Nothing but the confirmation was ever sent.
        self.assertEqual(len(mail.outbox), 1)
        # Pressed again, or opened again: it says so, and changes nothing.
        self.assertContains(press(self.client, path), "You follow already")
        self.assertContains(self.client.get(path), "You follow already")

    def test_the_button_needs_the_pages_csrf_token(self):
        follow(self.client)
        strict = Client(enforce_csrf_checks=True)
        response = strict.post(confirm_path())
        self.assertContains(response, "security cookie", status_code=403)
        self.assertFalse(Follower.objects.get().is_confirmed)
        page = soup(strict.get(confirm_path()))
        token = page.select_one("#follow-confirm-form input[name=csrfmiddlewaretoken]")["value"]
        strict.post(confirm_path(), {"csrfmiddlewaretoken": token})
        self.assertTrue(Follower.objects.get().is_confirmed)

    def test_an_expired_link_is_410_and_confirms_nothing(self):
        follow(self.client)
        path = confirm_path()
        with time_machine.travel(NOW + datetime.timedelta(days=7, seconds=1), tick=False):
            for response in (self.client.get(path), press(self.client, path)):
                self.assertContains(response, "This link has expired", status_code=410)
                self.assertContains(response, reverse("blog:follow"), status_code=410)
        self.assertFalse(Follower.objects.get().is_confirmed)

    def test_a_link_cut_short_or_forged_is_404(self):
        follow(self.client)
        path = confirm_path()
        token = path.split("/")[-2]
        unsubscribe = links.unsubscribe_token(Follower.objects.get())
        for bad in (token[:-3], token + "x", "abc", unsubscribe, "W10:1Wr3Ue:" + "x" * 43):
            with self.subTest(bad=bad):
                response = press(self.client, reverse("blog:follow-confirm", args=[bad]))
                self.assertContains(response, "This link is not valid", status_code=404)
        self.assertFalse(Follower.objects.get().is_confirmed)

    def test_a_link_for_a_following_that_has_gone_is_404(self):
        follow(self.client)
        path = confirm_path()
        Follower.objects.all().delete()
        follow(Client(REMOTE_ADDR="192.0.2.1"), "bob@example.org")  # a new row, maybe the same id
        self.assertContains(press(self.client, path), "Nothing to confirm", status_code=404)
        self.assertFalse(Follower.objects.get().is_confirmed)


class UnsubscribeTests(LinkTestCase):
    def setUp(self):
        self.follower = follow_and_confirm(Client(), "ann@example.org", tag="ofsted")
        self.path = unsubscribe_path(self.follower)

    def test_one_click_with_no_cookie_and_no_csrf_token(self):
        # RFC 8058: what a mail program posts to the List-Unsubscribe address.
        program = Client(enforce_csrf_checks=True)
        response = program.post(self.path, {"List-Unsubscribe": "One-Click"})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(Follower.objects.exists())
        self.assertEqual(dict(response.cookies), {})  # its answer has no form to protect
        # Posted again (a retry): still a success, nothing left to stop.
        again = program.post(self.path, {"List-Unsubscribe": "One-Click"})
        self.assertContains(again, "Nothing to stop")

    def test_the_headers_every_mailing_carries_lead_here(self):
        headers = links.unsubscribe_headers(self.follower)
        self.assertEqual(headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")
        self.assertTrue(headers["List-Unsubscribe"].endswith(f"{self.path}>"))
        message = EmailMessage("s", "b", to=["ann@example.org"], headers=headers)
        self.assertIn("List-Unsubscribe-Post", message.message())

    def test_opening_the_link_stops_nothing_its_button_does(self):
        for _ in range(2):
            page = self.client.get(self.path)
            self.assertEqual(page.status_code, 200)
        self.assertIn("no-cache", page["Cache-Control"])
        self.assertIn("new posts tagged “Ofsted”", text(soup(page).select_one("main")))
        self.assertTrue(Follower.objects.exists())
        strict = Client(enforce_csrf_checks=True)  # no sign-in, no cookie from the page
        response = strict.post(self.path, {"action": "stop"})
        self.assertContains(response, "E-mails stopped")
        self.assertFalse(Follower.objects.exists())

    def test_the_page_offers_to_stop_every_following_of_the_address(self):
        page = self.client.get(self.path)
        self.assertNotContains(page, 'value="stop-all"')  # one following: one button
        everything = Follower.objects.create(email="ann@example.org", confirmed_at=timezone.now())
        Follower.objects.create(email="bob@example.org", confirmed_at=timezone.now())
        page = self.client.get(self.path)
        self.assertContains(page, "also follows 1 other topic here")
        # A mail program's one click stops the following its e-mail came from, only.
        response = press(Client(enforce_csrf_checks=True), self.path, {"action": "stop-all"})
        self.assertContains(response, "will get no more e-mails from")
        self.assertEqual(list(Follower.objects.values_list("email", flat=True)),
                         ["bob@example.org"])  # fmt: skip
        self.assertFalse(Follower.objects.filter(pk=everything.pk).exists())

    def test_switching_to_the_weekly_digest_and_back(self):
        response = press(Client(enforce_csrf_checks=True), self.path, {"action": "weekly"})
        self.assertContains(response, "now gets new posts tagged “Ofsted”, in a weekly digest")
        self.follower.refresh_from_db()
        self.assertEqual(self.follower.frequency, "weekly")
        press(self.client, self.path, {"action": "post"})
        self.follower.refresh_from_db()
        self.assertEqual(self.follower.frequency, "post")

    def test_a_post_that_says_nothing_changes_nothing(self):
        for data in ({}, {"action": "delete everything"}, {"List-Unsubscribe": "Two-Click"}):
            with self.subTest(data=data):
                self.assertEqual(press(self.client, self.path, data).status_code, 400)
        self.assertTrue(Follower.objects.exists())

    def test_a_link_cut_short_is_404_and_a_confirm_link_is_no_unsubscribe_link(self):
        token = self.path.split("/")[-2]
        confirm = links.confirm_token(self.follower)
        for bad in (token[:-2], "abc", confirm):
            with self.subTest(bad=bad):
                response = press(self.client, reverse("blog:unfollow", args=[bad]),
                                 {"List-Unsubscribe": "One-Click"})  # fmt: skip
                self.assertContains(response, "This link is not valid", status_code=404)
        self.assertTrue(Follower.objects.exists())

    def test_an_old_link_after_following_again_does_not_stop_the_new_following(self):
        press(self.client, self.path, {"action": "stop"})
        new = follow_and_confirm(Client(REMOTE_ADDR="192.0.2.3"), "ann@example.org", tag="ofsted")
        self.assertContains(self.client.get(self.path), "Nothing to stop")
        press(self.client, self.path, {"List-Unsubscribe": "One-Click"})
        self.assertTrue(Follower.objects.filter(pk=new.pk).exists())
