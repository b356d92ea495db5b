"""Followers in the admin (People › Followers): the list with its filters and search,
the counts per tag above it, and nothing staff could change or add."""

from __future__ import annotations

import time_machine
from django.test import Client, TestCase
from django.urls import reverse

from blog.models import Follower

from ..factories import london, make_post, make_staff
from ..html import soup, text, texts
from . import follow, follow_and_confirm

NOW = london(2014, 6, 1, 12)
LIST = reverse("admin:blog_follower_changelist")


@time_machine.travel(NOW, tick=False)
class FollowerAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_post("Stepping up", published_at=london(2014, 4, 15, 9), tags=["Ofsted", "workforce"])
        cls.staff = make_staff("editor")

    def setUp(self):
        self.client.force_login(self.staff)
        readers = [("a@example.org", "", "post"), ("b@example.org", "", "weekly"),
                   ("c@example.org", "ofsted", "post"), ("d@example.org", "ofsted", "weekly"),
                   ("e@example.org", "ofsted", "weekly")]  # fmt: skip
        for n, (email, tag, frequency) in enumerate(readers):
            follow_and_confirm(Client(REMOTE_ADDR=f"192.0.2.{n}"), email, tag=tag,
                               frequency=frequency)  # fmt: skip
        follow(Client(REMOTE_ADDR="192.0.2.99"), "waiting@example.org", tag="workforce")

    def test_the_list_and_the_counts_per_tag(self):
        page = soup(self.client.get(LIST))
        self.assertEqual(text(page.select_one("#follower-counts-heading")),
                         "Confirmed followers: 5 (1 waiting for confirmation)")  # fmt: skip
        rows = [texts(row, "th, td") for row in page.select(".follower-counts tbody tr")]
        self.assertEqual(rows, [["All posts", "1", "1", "2"], ["Tag “Ofsted”", "1", "2", "3"]])
        headers = texts(page, "#result_list thead th")
        for column in ("E-mail address", "Following", "Frequency", "Confirmed", "Asked"):
            self.assertTrue(any(column.lower() in h.lower() for h in headers), headers)
        self.assertEqual(len(page.select("#result_list tbody tr")), 6)
        self.assertIn("Not yet", text(page.select_one("#result_list")))

    def test_filters_and_search(self):
        def emails(query: str) -> list[str]:
            page = soup(self.client.get(LIST + query))
            return sorted(texts(page, "#result_list tbody .field-address"))

        self.assertEqual(emails("?confirmed=no"), ["waiting@example.org"])
        self.assertEqual(emails("?frequency__exact=weekly"),
                         ["b@example.org", "d@example.org", "e@example.org"])  # fmt: skip
        self.assertEqual(emails("?following=all"), ["a@example.org", "b@example.org"])
        self.assertEqual(emails("?following=ofsted&confirmed=yes"),
                         ["c@example.org", "d@example.org", "e@example.org"])  # fmt: skip
        self.assertEqual(emails("?q=waiting"), ["waiting@example.org"])

    def test_staff_can_see_and_delete_never_add_nor_change(self):
        follower = Follower.objects.get(email="a@example.org")
        change = reverse("admin:blog_follower_change", args=[follower.pk])
        page = soup(self.client.get(change))
        self.assertIsNone(page.select_one("input[name=email]"))
        self.assertIn("a@example.org", text(page.select_one("#content")))
        self.assertEqual(self.client.post(change, {"email": "x@example.org"}).status_code, 403)
        self.assertEqual(self.client.get(reverse("admin:blog_follower_add")).status_code, 403)
        delete = reverse("admin:blog_follower_delete", args=[follower.pk])
        self.assertEqual(self.client.post(delete, {"post": "yes"}).status_code, 302)
        self.assertFalse(Follower.objects.filter(pk=follower.pk).exists())

    def test_in_the_menu_under_people(self):
        page = soup(self.client.get(reverse("admin:index")))
        self.assertIn(LIST, [a["href"] for a in page.select("a")])
