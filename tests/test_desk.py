"""The admin's shell and first page: the blog's name in its header, the menu grouped for
an editor (every model still reachable, permissions still respected), and the desk."""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import connection
from django.test import RequestFactory, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blog.adminsite import BlogAdminSite, group_apps
from blog.models import Comment, Post

from .factories import make_post, make_staff, make_user
from .html import soup

INDEX = reverse("admin:index")
# The page cache's version, the session and the user; the comments awaiting approval
# (the first five, how many) and their posts; the latest published comments and their
# posts; the drafts and the scheduled posts (the first five of each, and how many); the
# e-mail waiting, failed and stuck (one count of each, in one query).
DESK_QUERIES = 3 + 3 + 2 + 4 + 1


def add_comment(post: Post, name: str = "Ann Reader", **fields) -> Comment:
    comment = Comment(
        content_type=ContentType.objects.get_for_model(Post),
        object_pk=str(post.pk),
        site=Site.objects.get_current(),
        user_name=name,
        user_email="reader@example.org",
        comment=fields.pop("comment", "A thought."),
        submit_date=fields.pop("submit_date", timezone.now()),
        **fields,
    )
    comment.save()
    return comment


def menu(page) -> dict[str, list[str]]:
    """The desk's menu: each group's name and the names of its entries."""
    return {
        module.select_one("caption").get_text(strip=True): [
            th.find(["a"], recursive=False).get_text(strip=True)
            for th in module.select("th[scope=row]")
        ]
        for module in page.select(".desk__menu .module")
    }


class ShellTests(TestCase):
    def setUp(self):
        self.client.force_login(make_staff("editor"))

    def test_the_default_site_is_the_blogs(self):
        # django.contrib.admin's own admin.site, which every app registers on.
        self.assertIsInstance(admin.site, BlogAdminSite)

    @override_settings(SITE_NAME="Practice Notes")
    def test_the_header_and_title_name_the_blog_from_settings(self):
        page = soup(self.client.get(INDEX))
        self.assertEqual(page.select_one("#site-name a").get_text(strip=True), "Practice Notes")
        self.assertEqual(page.title.get_text(strip=True), "Desk | Practice Notes")
        self.assertNotIn("Django", page.title.get_text())
        changelist = soup(self.client.get(reverse("admin:blog_post_changelist")))
        self.assertIn("| Practice Notes", changelist.title.get_text())

    def test_every_page_loads_the_blogs_admin_stylesheet(self):
        for url in (
            INDEX,
            reverse("admin:blog_post_changelist"),
            reverse("admin:auth_user_changelist"),
        ):
            with self.subTest(url=url):
                sheets = [
                    link["href"]
                    for link in soup(self.client.get(url)).select("link[rel=stylesheet]")
                ]
                self.assertTrue(any(href.endswith("css/admin.css") for href in sheets), sheets)

    def test_the_menu_is_grouped_for_an_editor(self):
        groups = menu(soup(self.client.get(INDEX)))
        self.assertEqual(list(groups), ["Writing", "Discussion", "E-mail", "People", "Settings"])
        self.assertEqual(groups["Writing"], ["Posts", "Pages", "Media", "Authors"])
        self.assertEqual(groups["Discussion"], ["Comments", "Blocked domains"])
        self.assertEqual(groups["E-mail"], ["Mailings", "Outgoing e-mail"])
        self.assertEqual(groups["People"], ["Users", "Groups"])
        self.assertIn("Tags", groups["Settings"])
        self.assertIn("Sites", groups["Settings"])

    def test_every_registered_model_is_in_the_menu_once_and_opens(self):
        page = soup(self.client.get(INDEX))
        links = [a["href"] for a in page.select(".desk__menu th[scope=row] > a")]
        registered = [
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            for model in admin.site._registry
        ]
        self.assertEqual(sorted(links), sorted(registered))
        for link in links:
            with self.subTest(link=link):
                self.assertEqual(self.client.get(link).status_code, 200)

    def test_the_sidebar_of_other_pages_has_the_same_groups(self):
        page = soup(self.client.get(reverse("admin:blog_post_changelist")))
        captions = [c.get_text(strip=True) for c in page.select("#nav-sidebar caption")]
        self.assertEqual(captions, ["Writing", "Discussion", "E-mail", "People", "Settings"])

    def test_an_applications_own_page_still_lists_it(self):
        response = self.client.get(reverse("admin:app_list", args=["axes"]))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Access attempts")


class PermissionTests(TestCase):
    def test_a_moderator_sees_only_what_they_may(self):
        moderator = make_user("moderator", is_staff=True)
        moderator.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="blog", codename__in=["view_comment", "change_comment"]
            )
        )
        self.client.force_login(moderator)
        page = soup(self.client.get(INDEX))
        self.assertEqual(menu(page), {"Discussion": ["Comments"]})
        # The comments' panels, not the posts'.
        self.assertIsNotNone(page.select_one("#desk-queue"))
        self.assertIsNone(page.select_one("#desk-drafts"))
        self.assertIsNone(page.select_one(".desk__write"))
        self.assertEqual(self.client.get(reverse("admin:blog_post_changelist")).status_code, 403)

    def test_group_apps_keeps_every_model_and_adds_none(self):
        request = RequestFactory().get(INDEX)
        request.user = make_staff("root")
        stock = AdminSite.get_app_list(admin.site, request)
        grouped = group_apps(stock)
        stock_urls = sorted(m["admin_url"] for app in stock for m in app["models"])
        grouped_urls = sorted(m["admin_url"] for group in grouped for m in group["models"])
        self.assertEqual(grouped_urls, stock_urls)
        self.assertEqual(group_apps([]), [])


class DeskTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.author = make_user("eve", first_name="Eve", last_name="Editor")
        cls.staff = make_staff("editor")
        cls.live = make_post("Learning Organisations", author=cls.author)
        cls.draft = make_post("Half written", status=Post.Status.DRAFT, author=cls.author)
        cls.later = make_post(
            "Coming soon", author=cls.author,
            published_at=timezone.now() + datetime.timedelta(days=3),
        )  # fmt: skip
        cls.published = add_comment(cls.live, "Pat Public", comment="Well said.")
        cls.held = add_comment(
            cls.live, "Linky", comment="see https://a.example", is_public=False,
            hold_reasons=["it has more than 2 links"],
        )  # fmt: skip
        cls.removed = add_comment(cls.live, "Gone", is_removed=True)

    def setUp(self):
        self.client.force_login(self.staff)

    def test_the_desk_lists_what_waits_with_links(self):
        page = soup(self.client.get(INDEX))
        queue = page.select_one(".desk-panel--queue")
        count = queue.select_one(".desk-panel__count a")
        self.assertEqual(count.get_text(" ", strip=True), "1 comment awaiting approval")
        self.assertEqual(
            count["href"], reverse("admin:blog_comment_changelist") + "?moderation=held"
        )
        held = queue.select_one(".desk-list__title")
        self.assertEqual(held["href"], reverse("admin:blog_comment_change", args=[self.held.pk]))
        self.assertIn("it has more than 2 links", queue.get_text())

        drafts = page.select_one("#desk-drafts").find_parent("section")
        self.assertEqual(
            [a.get_text() for a in drafts.select(".desk-list__title")], ["Half written"]
        )
        self.assertEqual(drafts.select_one(".desk-list__title")["href"],
                         reverse("admin:blog_post_change", args=[self.draft.pk]))  # fmt: skip
        self.assertIn("Eve Editor", drafts.get_text())
        self.assertNotIn("eve", drafts.get_text().replace("Eve", ""))

        scheduled = page.select_one("#desk-scheduled").find_parent("section")
        self.assertEqual([a.get_text() for a in scheduled.select(".desk-list__title")],
                         ["Coming soon"])  # fmt: skip

        latest = page.select_one("#desk-latest").find_parent("section")
        titles = [a.get_text() for a in latest.select(".desk-list__title")]
        # Published only: the held one is in the queue, the removed one nowhere.
        self.assertEqual(titles, ["Pat Public on “Learning Organisations”"])
        self.assertEqual(latest.select_one(".desk-list__title")["href"],
                         self.published.get_absolute_url())  # fmt: skip
        self.assertEqual(page.select_one(".desk__write")["href"], reverse("admin:blog_post_add"))

    def test_an_empty_queue_says_so(self):
        Comment.objects.filter(pk=self.held.pk).update(is_public=True)
        page = soup(self.client.get(INDEX))
        self.assertEqual(
            page.select_one(".desk-panel--queue .desk-panel__empty").get_text(strip=True),
            "No comment is waiting for approval.",
        )

    def desk_queries(self) -> int:
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(INDEX).status_code, 200)
        return len(queries)

    def test_the_desk_takes_the_same_queries_however_much_there_is(self):
        def add(n: int) -> None:
            for i in range(n):
                make_post(f"Draft {i}", status=Post.Status.DRAFT, author=self.author)
                make_post(f"Later {i}", author=self.author,
                          published_at=timezone.now() + datetime.timedelta(days=i + 1))  # fmt: skip
                add_comment(self.live, f"Held {i}", is_public=False)
                add_comment(self.live, f"Shown {i}")

        add(6)  # more than the desk lists of each: each list and its count
        self.assertEqual(self.desk_queries(), DESK_QUERIES)
        add(30)
        self.assertEqual(self.desk_queries(), DESK_QUERIES)
        page = soup(self.client.get(INDEX))
        self.assertEqual(len(page.select(".desk-panel--queue .desk-list__item")), 5)
        self.assertIn(
            "37 comments awaiting approval",
            page.select_one(".desk-panel__count").get_text(" ", strip=True),
        )
        self.assertIn("All 37 drafts", page.get_text())
