"""The pieces the later issues build on: the Site, and the discussion framework."""

import io

import django_comments
from django.conf import settings
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django_comments_xtd.models import XtdComment

from .factories import make_post, make_staff, make_user
from .html import soup


class SiteTests(TestCase):
    def test_the_site_follows_settings_not_example_com(self):
        site = Site.objects.get_current()
        self.assertEqual(site.domain, settings.SITE_DOMAIN)
        self.assertEqual(site.name, settings.SITE_NAME)
        self.assertNotEqual(site.domain, "example.com")


class DiscussionWiringTests(TestCase):
    def test_comments_xtd_is_the_comments_app(self):
        self.assertTrue(issubclass(django_comments.get_model(), XtdComment))
        self.assertIsInstance(settings.COMMENTS_XTD_SALT, bytes)
        self.assertEqual(reverse("comments-post-comment"), "/comments/post/")
        self.assertEqual(reverse("comments-xtd-reply", args=[1]), "/comments/reply/1/")

    def test_the_comment_model_is_ours_with_its_own_parent_link(self):
        from blog.models import Comment

        self.assertIs(django_comments.get_model(), Comment)
        link = Comment._meta.get_field("xtdcomment_ptr")
        self.assertTrue(link.remote_field.parent_link)
        self.assertEqual(link.remote_field.related_name, "blog_comment")

    def test_the_librarys_rest_api_and_flagging_are_not_routed(self):
        for path in ("/comments/api/comment/", "/comments/api/blog-post/1/",
                     "/comments/flag/1/", "/comments/like/1/", "/comments/cr/1/1/"):  # fmt: skip
            with self.subTest(path=path):
                self.assertEqual(self.client.get(path).status_code, 404)

    def test_our_404_page_not_the_librarys(self):
        page = soup(self.client.get("/no-such-page/"))
        self.assertIsNotNone(page.select_one("a.skip-link"))


class StaffToolsTests(TestCase):
    def test_staff_get_an_edit_link_readers_do_not(self):
        post = make_post("Editable")
        self.assertIsNone(soup(self.client.get(post.get_absolute_url())).select_one(".staff-tools"))
        self.client.force_login(make_user())
        self.assertIsNone(soup(self.client.get(post.get_absolute_url())).select_one(".staff-tools"))
        self.client.force_login(make_staff())
        link = soup(self.client.get(post.get_absolute_url())).select_one(".staff-tools a")
        self.assertEqual(link["href"], reverse("admin:blog_post_change", args=[post.pk]))


class MigrationTests(TestCase):
    def test_the_models_and_the_migrations_agree(self):
        # A model change without its migration would pass on the test database
        # (built from the migrations) and fail on the next deploy.
        out = io.StringIO()
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
        self.assertIn("No changes detected", out.getvalue())
