"""Standalone pages (issue 17): addresses at /<slug>/ that never take one of the site's
own, drafts for staff only, the header's navigation, the sitemap, search, metadata, the
admin through the write path, and the page cache."""

from __future__ import annotations

import io
import json
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from django.conf import settings
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blog.models import Page, PageSearchDocument, Redirect
from blog.pageslugs import page_slug_clash, reserved_slugs
from blog.writing import save_page

from .factories import make_post, make_staff
from .html import soup
from .sites import ROOT, OnSiteDomainTestCase

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def make_page(
    title: str = "About",
    body: str = "Who writes this blog, and why.",
    *,
    slug: str | None = None,
    status: str = Page.Status.PUBLISHED,
    **fields,
) -> Page:
    page = Page(title=title, slug=slug or title.lower().replace(" ", "-"), body=body,
                status=status, **fields)  # fmt: skip
    return save_page(page)


def nav_links(response) -> list[tuple[str, str]]:
    return [(a.get_text(), a["href"]) for a in soup(response).select(".site-nav a")]


class SlugClashTests(TestCase):
    def test_the_sites_own_addresses_are_reserved_from_the_resolver(self):
        words = reserved_slugs()
        for word in ["tags", "search", "feeds", "discussions", "references", "privacy",
                     "comments", "markdownx", "static", "media"]:  # fmt: skip
            self.assertIn(word, words)
        self.assertIn(settings.ADMIN_URL.strip("/").split("/")[0], words)

    def test_clashing_slugs_are_refused_with_a_message_naming_the_clash(self):
        admin_word = settings.ADMIN_URL.strip("/").split("/")[0]
        for slug in ["tags", "search", "2014", "123", admin_word, "Tags"]:
            with self.subTest(slug=slug):
                page = Page(title="Clash", slug=slug, body="x")
                with self.assertRaises(ValidationError) as caught:
                    page.full_clean()
                self.assertIn("slug", caught.exception.message_dict)
                self.assertIn(slug, caught.exception.message_dict["slug"][0])
                with self.assertRaises(ValidationError):
                    save_page(Page(title="Clash", slug=slug, body="x"))
        self.assertFalse(Page.objects.exists())

    def test_an_ordinary_slug_is_accepted(self):
        self.assertIsNone(page_slug_clash("about"))
        self.assertIsNone(page_slug_clash("comments-policy"))
        Page(title="About", slug="about", body="x").full_clean()

    def test_the_privacy_page_adds_its_text_above_the_figures(self):
        self.assertIsNone(page_slug_clash("privacy"))
        page = make_page("Privacy", "Our own **words** first.", slug="privacy")
        self.assertEqual(page.get_absolute_url(), reverse("blog:privacy"))
        html = self.client.get(reverse("blog:privacy")).content.decode()
        self.assertIn("<strong>words</strong>", html)
        self.assertLess(html.index("Our own"), html.index('id="reading"'))
        # Not a second address for the same text.
        self.assertEqual(self.client.get(reverse("blog:privacy")).status_code, 200)

    def test_a_draft_privacy_text_is_not_shown(self):
        make_page("Privacy", "Not yet.", slug="privacy", status=Page.Status.DRAFT)
        self.assertNotContains(self.client.get(reverse("blog:privacy")), "Not yet.")


class PageDetailTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.about = make_page("About", "## Who\n\nWe are *social workers*.")
        cls.draft = make_page("Contact", "Write to us.", status=Page.Status.DRAFT)
        cls.staff = make_staff("editor")

    def test_a_published_page_is_read_at_its_slug(self):
        response = self.client.get("/about/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, '<h1 class="post__title">About</h1>', html=True)
        self.assertContains(response, "<em>social workers</em>")
        # No date, no discussion.
        self.assertNotContains(response, "<time")
        self.assertNotContains(response, "comment-form")

    def test_a_draft_is_for_staff_only_and_never_cached(self):
        self.assertEqual(self.client.get("/contact/").status_code, 404)
        self.client.force_login(self.staff)
        response = self.client.get("/contact/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Preview: readers cannot see this page yet")
        self.assertIn("no-store", response["Cache-Control"])

    def test_unknown_slug_is_404(self):
        self.assertEqual(self.client.get("/no-such-page/").status_code, 404)

    def test_a_page_address_without_its_slash_is_mended(self):
        response = self.client.get("/about")
        self.assertEqual((response.status_code, response["Location"]), (301, "/about/"))

    def test_an_old_address_of_one_word_leads_on_in_one_step(self):
        # "/feed/" would be a page's address: the old address still wins, at once.
        Redirect.objects.create(old_path="/feed", new_path="/feeds/rss/")
        for path in ("/feed", "/feed/"):
            response = self.client.get(path)
            self.assertEqual((response.status_code, response["Location"]), (301, "/feeds/rss/"))

    def test_the_privacy_text_has_no_address_of_its_own(self):
        make_page("Privacy", "Ours.", slug="privacy")
        self.assertEqual(reverse("blog:page-detail", kwargs={"slug": "privacy"}), "/privacy/")
        # /privacy/ is the privacy view, with its figures.
        self.assertContains(self.client.get("/privacy/"), 'id="reading"')

    def test_the_page_cache_follows_an_edit(self):
        cache.clear()
        self.assertContains(self.client.get("/about/"), "social workers")
        self.assertContains(self.client.get("/about/"), "social workers")  # from the cache
        self.about.body = "We are *practitioners*."
        save_page(self.about)
        response = self.client.get("/about/")
        self.assertContains(response, "practitioners")
        self.assertNotContains(response, "social workers")


class NavigationTests(TestCase):
    def test_pages_follow_the_sites_sections_in_their_order(self):
        make_page("Contact", in_navigation=True, navigation_order=2)
        make_page("About", in_navigation=True, navigation_order=1)
        make_page("Hidden", in_navigation=False)
        make_page("Draft", in_navigation=True, status=Page.Status.DRAFT)
        links = nav_links(self.client.get("/"))
        self.assertEqual(
            [text for text, _ in links],
            ["Home", "Tags", "Discussions", "References", "About", "Contact"],
        )
        self.assertEqual(links[4][1], "/about/")
        about = soup(self.client.get("/about/")).select_one('.site-nav a[href="/about/"]')
        self.assertEqual(about["aria-current"], "page")

    def test_the_home_page_costs_the_same_with_no_or_many_pages_in_the_navigation(self):
        make_post("A post")
        Site.objects.get_current()

        def home_queries() -> int:
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get("/").status_code, 200)
            return len(queries)

        none = home_queries()
        for n in range(12):
            make_page(f"Page {n}", in_navigation=True, navigation_order=n)
        self.assertEqual(home_queries(), none)
        self.assertEqual(len(nav_links(self.client.get("/"))), 4 + 12)

    def test_the_navigation_is_kept_under_the_content_token(self):
        make_page("About", in_navigation=True)
        Site.objects.get_current()
        cache.clear()
        self.client.get("/")
        # Another page that is not cached yet reads the navigation from the cache.
        with CaptureQueriesContext(connection) as queries:
            self.client.get("/tags/")
        self.assertFalse(any("blog_page" in q["sql"] for q in queries.captured_queries))


class SitemapAndSearchTests(OnSiteDomainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        make_post("Inspections in April", "Ofsted inspections of children's services.")
        make_page("About", "This blog is about inspections and practice.")
        make_page("Secret", "Unpublished inspections notes.", status=Page.Status.DRAFT)

    def test_published_pages_are_in_the_sitemap_drafts_never(self):
        root = ET.fromstring(self.client.get("/sitemap.xml").content)
        locations = {url.findtext("sm:loc", namespaces=NS) for url in root}
        self.assertIn(f"{ROOT}/about/", locations)
        self.assertNotIn(f"{ROOT}/secret/", locations)

    def test_pages_are_indexed_and_found_marked_as_pages(self):
        self.assertEqual(PageSearchDocument.objects.count(), 2)
        page = soup(self.client.get("/search/", {"q": "inspection"}))
        found = page.select(".search-result--page")
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0].select_one("a")["href"], "/about/")
        self.assertEqual(found[0].select_one(".search-result__kind").get_text(), "Page")
        self.assertIn("<mark>", str(found[0].select_one(".search-result__snippet")))
        # The post is still there, after the page.
        self.assertEqual(len(page.select(".search-result")), 2)
        self.assertIn("1 post and 1 page found", page.select_one(".search-summary").get_text())

    def test_a_page_no_longer_matches_once_edited_or_deleted(self):
        about = Page.objects.get(slug="about")
        about.body = "Nothing to see."
        save_page(about)
        page = soup(self.client.get("/search/", {"q": "inspection"}))
        self.assertEqual(page.select(".search-result--page"), [])
        pk = about.pk
        about.delete()
        self.assertFalse(PageSearchDocument.objects.filter(page_id=pk).exists())

    def test_metadata_canonical_address_and_web_page(self):
        page = soup(self.client.get("/about/"))
        self.assertEqual(page.select_one('link[rel="canonical"]')["href"], f"{ROOT}/about/")
        self.assertEqual(page.select_one('meta[property="og:type"]')["content"], "website")
        self.assertEqual(page.select_one('meta[property="og:title"]')["content"], "About")
        description = page.select_one('meta[name="description"]')["content"]
        self.assertIn("inspections and practice", description)
        (data,) = [json.loads(s.string) for s in page.select('script[type="application/ld+json"]')]
        self.assertEqual(data["@type"], "WebPage")
        self.assertEqual(data["url"], f"{ROOT}/about/")
        self.assertEqual(data["name"], "About")
        self.assertNotIn("datePublished", data)


class PageAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor")

    def setUp(self):
        self.client.force_login(self.staff)

    def form(self, **fields: str) -> dict[str, str]:
        return {"title": "About", "slug": "about", "body": "We **write**.",
                "status": "published", "navigation_order": "0", **fields}  # fmt: skip

    def test_adding_a_page_goes_through_the_write_path(self):
        response = self.client.post(reverse("admin:blog_page_add"), self.form())
        self.assertRedirects(response, reverse("admin:blog_page_changelist"))
        page = Page.objects.get()
        self.assertEqual(page.body_html.strip(), "<p>We <strong>write</strong>.</p>")
        self.assertTrue(PageSearchDocument.objects.filter(page=page).exists())
        self.client.logout()
        self.assertContains(self.client.get("/about/"), "<strong>write</strong>")

    def test_a_clashing_slug_is_refused_in_the_form(self):
        response = self.client.post(reverse("admin:blog_page_add"), self.form(slug="search"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "already one of the site")
        self.assertFalse(Page.objects.exists())

    def test_the_list_and_the_change_form_render(self):
        page = make_page("About", in_navigation=True)
        listing = self.client.get(reverse("admin:blog_page_changelist"))
        self.assertContains(listing, "About")
        change = self.client.get(reverse("admin:blog_page_change", args=[page.pk]))
        self.assertContains(change, "markdownx")
        self.assertContains(change, page.get_absolute_url())


class PageBackupTests(TestCase):
    def test_a_page_round_trips_through_a_backup_and_is_indexed_again(self):
        make_page("About", "About *inspections*.", in_navigation=True, navigation_order=3)
        with tempfile.TemporaryDirectory(prefix="cpsw-pages-test-") as folder:
            folder = Path(folder)
            call_command("backup", output=folder / "backups", stdout=io.StringIO())
            (path,) = (folder / "backups").glob("cpsw-*.jsonl.gz")
            Page.objects.all().delete()
            call_command("restore", str(path), output=folder / "copies",
                         interactive=False, stdout=io.StringIO())  # fmt: skip
        page = Page.objects.get(slug="about")
        self.assertEqual((page.in_navigation, page.navigation_order), (True, 3))
        self.assertIn("<em>inspections</em>", page.body_html)
        self.assertTrue(PageSearchDocument.objects.filter(page=page).exists())
