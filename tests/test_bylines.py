"""Bylines: the author's display name (blog.people.display_name) everywhere a post is
signed, never their login name."""

from __future__ import annotations

import json

from django.test import TestCase, override_settings
from django.urls import reverse

from blog.admin_editor import PostAdminForm
from blog.people import display_name
from blog.sites import absolute_url

from .discussion import post_comment
from .factories import make_post, make_staff, make_user
from .html import soup


class DisplayNameTests(TestCase):
    def test_first_and_last_name(self):
        self.assertEqual(display_name(make_user("pw", first_name="Pat", last_name="Writer")),
                         "Pat Writer")  # fmt: skip

    def test_one_name_alone_and_no_stray_spaces(self):
        self.assertEqual(display_name(make_user("a1", first_name=" Pat ")), "Pat")
        self.assertEqual(display_name(make_user("a2", last_name="Writer")), "Writer")

    def test_no_name_is_the_fallback_never_the_login_name(self):
        user = make_user("jbloggs73", first_name="  ")
        self.assertEqual(display_name(user), "The editors")
        with override_settings(BLOG_BYLINE_FALLBACK="The desk"):
            self.assertEqual(display_name(user), "The desk")


class BylineTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.named = make_post("Named", author=make_user("pwriter", first_name="Pat",
                                                         last_name="Writer"))  # fmt: skip
        cls.nameless = make_post("Nameless", author=make_user("jbloggs73"))

    def test_the_reader_byline(self):
        for post, name in ((self.named, "Pat Writer"), (self.nameless, "The editors")):
            with self.subTest(post=post.title):
                page = soup(self.client.get(post.get_absolute_url()))
                byline = page.select_one(".post-meta__author").get_text(" ", strip=True)
                self.assertEqual(byline, f"by {name}")
                self.assertNotIn("jbloggs73", str(page))
                self.assertNotIn("pwriter", str(page))

    def test_the_json_ld_and_open_graph_author(self):
        page = soup(self.client.get(self.nameless.get_absolute_url()))
        data = json.loads(page.select_one('script[type="application/ld+json"]').string)
        self.assertEqual(data["author"]["name"], "The editors")
        # A nameless account's page is named by the byline, never by the login name.
        self.assertEqual(data["author"]["url"], absolute_url("/authors/the-editors/"))
        self.assertEqual(page.select_one('meta[property="article:author"]')["content"],
                         data["author"]["url"])  # fmt: skip

    def test_the_feeds(self):
        for name in ("blog:feed-atom", "blog:feed-rss"):
            with self.subTest(feed=name):
                body = self.client.get(reverse(name)).content.decode()
                self.assertIn("Pat Writer", body)
                self.assertIn("The editors", body)
                self.assertNotIn("jbloggs73", body)
                self.assertNotIn("pwriter", body)

    def test_the_admin_posts_list(self):
        self.client.force_login(make_staff("root"))
        body = soup(self.client.get(reverse("admin:blog_post_changelist")))
        authors = sorted(td.get_text() for td in body.select("td.field-author_name"))
        self.assertEqual(authors, ["Pat Writer", "The editors"])

    def test_staff_commenting_are_named_as_in_their_bylines(self):
        staff = make_staff("jdoe99")
        self.client.force_login(staff)
        post_comment(self.client, self.named, comment="Thanks, all.")
        self.client.logout()
        page = self.client.get(self.named.get_absolute_url()).content.decode()
        self.assertIn("Thanks, all.", page)
        self.assertNotIn("jdoe99", page)


def test_the_editors_author_choice_shows_the_byline_and_the_login_name(db):
    ann = make_user("ann42", first_name="Ann", last_name="Editor")
    field = PostAdminForm().fields["author"]
    assert field.label_from_instance(ann) == "Ann Editor (ann42)"
