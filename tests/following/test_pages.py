"""The form on readers' pages: in every page's footer, on each tag's page for that
tag, and on a page of its own; working from a page the page cache served, each reader
with their own CSRF token; at no cost in queries."""

from __future__ import annotations

import time_machine
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blog.models import Follower

from ..caching import token_queries
from ..factories import london, make_post
from ..html import soup, text
from . import FOLLOW, SENT, confirmations

NOW = london(2014, 6, 1, 12)


@time_machine.travel(NOW, tick=False)
class FormOnPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Stepping up", published_at=london(2014, 4, 15, 9),
                             tags=["workforce", "Ofsted"])  # fmt: skip

    def pages(self) -> dict[str, str]:
        return {
            "home": "/",
            "post": self.post.get_absolute_url(),
            "tag": reverse("blog:tag-detail", args=["ofsted"]),
            "tags": reverse("blog:tag-list"),
            "privacy": reverse("blog:privacy"),
            "search": "/search/?q=workforce",
            "404": "/no/such/page/",
        }

    def test_every_page_has_the_form_in_its_footer(self):
        for name, url in self.pages().items():
            with self.subTest(name):
                response = self.client.get(url)
                form = soup(response).select_one("footer form.follow-form")
                self.assertIsNotNone(form, name)
                self.assertEqual((form["method"], form["action"]), ("post", FOLLOW))
                label = form.select_one("label[for=footer-follow-email]")
                self.assertEqual(text(label), "Your e-mail address")
                self.assertEqual(form.select_one("#footer-follow-email")["type"], "email")
                self.assertEqual(text(form.select_one("legend")), "How often")
                self.assertIsNone(form.select_one("input[name=tag]"))  # every new post
                self.assertIsNotNone(form.select_one("input[name=csrfmiddlewaretoken]"))

    def test_a_tags_page_has_a_form_for_that_tag(self):
        page = soup(self.client.get(reverse("blog:tag-detail", args=["ofsted"])))
        form = page.select_one("main form.follow-form")
        self.assertEqual(text(form.h2), "Follow “Ofsted” by e-mail")
        self.assertEqual(form.select_one("input[name=tag]")["value"], "ofsted")
        # Two forms on the page, no id twice.
        ids = [node["id"] for node in page.select("[id]")]
        self.assertEqual(len(ids), len(set(ids)))
        link = page.select_one('.breadcrumb a[href="#tag-follow-heading"]')
        self.assertIsNotNone(page.select_one(link["href"]))

    def test_the_forms_own_page_offers_every_published_tag(self):
        page = soup(self.client.get(FOLLOW))
        options = [(o["value"], text(o)) for o in page.select("main select[name=tag] option")]
        self.assertEqual(options, [("", "All new posts"), ("ofsted", "Posts tagged “Ofsted”"),
                                   ("workforce", "Posts tagged “workforce”")])  # fmt: skip
        self.assertIsNone(page.select_one("footer form.follow-form"))  # not twice

    def test_the_footer_form_costs_no_query(self):
        # tests/test_queries.py holds every page's count; here, the form alone.
        from django.template import engines

        template = engines["django"].from_string("{% load following %}{% follow_form %}")
        with CaptureQueriesContext(connection) as queries:
            html = template.render({})
        self.assertIn("footer-follow-email", html)
        self.assertEqual(len(queries), 0)

    def test_two_readers_follow_from_one_cached_page(self):
        url = reverse("blog:tag-detail", args=["ofsted"])
        ann, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
        ann_page = ann.get(url)
        with CaptureQueriesContext(connection) as queries:
            bob_page = bob.get(url)
        self.assertEqual(len(queries), token_queries())  # Bob's came from the page cache
        for client, page, email in ((ann, ann_page, "ann@example.org"),
                                    (bob, bob_page, "bob@example.org")):  # fmt: skip
            form = soup(page).select_one("main form.follow-form")
            data = {
                field["name"]: field.get("value", "")
                for field in form.select("input[name]")
                if field.get("type") != "radio"
            }
            data |= {"email": email, "frequency": "weekly"}
            with self.captureOnCommitCallbacks(execute=True):
                response = client.post(FOLLOW, data)
            self.assertEqual((response.status_code, response["Location"]), (303, SENT), email)
        self.assertEqual(sorted(Follower.objects.values_list("email", "tag__name", "frequency")),
                         [("ann@example.org", "Ofsted", "weekly"),
                          ("bob@example.org", "Ofsted", "weekly")])  # fmt: skip
        self.assertEqual(len(confirmations()), 2)

    def test_without_the_cookie_the_form_comes_back_with_what_was_typed(self):
        strict = Client(enforce_csrf_checks=True)
        response = strict.post(FOLLOW, {"email": "ann@example.org", "frequency": "weekly",
                                        "tag": "ofsted"})  # fmt: skip
        self.assertContains(response, "security cookie", status_code=403)
        form = soup(response).select_one("main form.follow-form")
        self.assertEqual(form.select_one("input[name=email]")["value"], "ann@example.org")
        self.assertEqual(form.select_one("option[selected]")["value"], "ofsted")
        self.assertFalse(Follower.objects.exists())
