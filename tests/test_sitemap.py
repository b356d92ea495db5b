"""/sitemap.xml and /robots.txt, read as a crawler reads them."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from collections import Counter

import time_machine
from bs4 import BeautifulSoup
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from blog.metadata import last_modified
from blog.models import Comment, Post

from .factories import london, make_post
from .sites import ROOT, OnSiteDomainTestCase

NOW = london(2014, 6, 1, 12)
ARCHIVE = re.compile(r"/\d{4}/(\d{2}/)?$")
POST = re.compile(r"/\d{4}/\d{2}/\d{2}/[^/]+/$")
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def local_day(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).date().isoformat()


@time_machine.travel(NOW)
class SitemapTests(OnSiteDomainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        call_command("loaddata", "april_2014", verbosity=0)
        cls.may = make_post(
            "In May", published_at=london(2014, 5, 20, 9), tags=["Ofsted", "May only"]
        )
        # Edited after it went out: the archives and tags it is in changed then too.
        Post.objects.filter(pk=cls.may.pk).update(updated_at=london(2014, 5, 25, 18))
        cls.may.refresh_from_db()
        make_post("Secret draft", status=Post.Status.DRAFT, tags=["draft topic"],
                  published_at=london(2014, 3, 1, 9))  # fmt: skip
        make_post(
            "Scheduled", tags=["future topic"], published_at=NOW + datetime.timedelta(days=40)
        )
        cls.published = list(Post.objects.published())

    def setUp(self):
        response = self.client.get("/sitemap.xml")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/xml")
        root = ET.fromstring(response.content)
        self.urls = {
            url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
            for url in root.findall("sm:url", NS)
        }
        self.locs = [url.findtext("sm:loc", namespaces=NS) for url in root.findall("sm:url", NS)]

    def test_every_address_is_absolute_on_the_configured_domain_and_scheme(self):
        self.assertTrue(self.locs)
        for loc in self.locs:
            self.assertTrue(loc.startswith(f"{ROOT}/"), loc)
        self.assertEqual(len(self.locs), len(set(self.locs)))

    def test_every_published_post_once_with_when_it_last_changed(self):
        counts = Counter(self.locs)
        for post in self.published:
            with self.subTest(post=post.slug):
                loc = f"{ROOT}{post.get_absolute_url()}"
                self.assertEqual(counts[loc], 1)
                self.assertEqual(self.urls[loc], local_day(last_modified(post)))
        self.assertEqual(self.urls[f"{ROOT}{self.may.get_absolute_url()}"], "2014-05-25")
        posts = [loc for loc in self.locs if POST.search(loc)]
        self.assertEqual(len(posts), len(self.published))

    def test_no_draft_or_scheduled_post_or_their_tags(self):
        for absent in ("secret-draft", "scheduled", "draft-topic", "future-topic", "/2014/03/"):
            self.assertFalse([loc for loc in self.locs if absent in loc], absent)

    def test_the_archives_that_have_posts_with_their_newest_change(self):
        archives = {loc: lastmod for loc, lastmod in self.urls.items() if ARCHIVE.search(loc)}
        self.assertEqual(
            archives,
            {
                f"{ROOT}/2014/": "2014-05-25",
                f"{ROOT}/2014/05/": "2014-05-25",
                f"{ROOT}/2014/04/": "2014-04-17",
            },
        )

    def test_tags_with_published_posts_with_their_newest_change(self):
        tags = {loc: lastmod for loc, lastmod in self.urls.items() if "/tags/" in loc}
        self.assertEqual(tags.pop(f"{ROOT}/tags/"), None)  # the index: a static page
        self.assertEqual(tags[f"{ROOT}/tags/ofsted/"], "2014-05-25")
        self.assertEqual(tags[f"{ROOT}/tags/may-only/"], "2014-05-25")
        self.assertEqual(tags[f"{ROOT}/tags/statistics/"], "2014-04-02")
        expected = {tag.slug for post in self.published for tag in post.tags.all()}
        self.assertEqual({loc.split("/")[-2] for loc in tags}, expected)

    def test_the_static_pages(self):
        for name in ("blog:post-index", "blog:tag-list", "blog:discussions", "blog:references"):
            self.assertIn(f"{ROOT}{reverse(name)}", self.urls)
        self.assertNotIn(f"{ROOT}/search/", self.urls)

    def test_the_request_host_and_scheme_do_not_decide_the_addresses(self):
        response = self.client.get("/sitemap.xml", HTTP_HOST="localhost", secure=False)
        self.assertNotIn(b"localhost", response.content)
        self.assertNotIn(b"http://", response.content.replace(b"http://www.", b""))


@time_machine.travel(NOW)
class DayArchiveTests(OnSiteDomainTestCase):
    """Day archives: reachable from their month's archive, and kept out of search
    engines' indexes (noindex) rather than listed in the sitemap, all of them alike."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        call_command("loaddata", "april_2014", verbosity=0)
        for i in range(12):  # more than a page of posts in May: days on page 2 as well
            make_post(f"May {i}", published_at=london(2014, 5, 1 + i, 9))

    def test_every_day_with_posts_is_linked_from_its_months_archive(self):
        for month in ("/2014/04/", "/2014/05/"):
            days = {
                f"/{post.published_on:%Y/%m/%d}/"
                for post in Post.objects.published()
                if f"/{post.published_on:%Y/%m}/" == month
            }
            linked, url = set(), month
            while url:
                page = BeautifulSoup(self.client.get(url).content, "html.parser")
                linked |= {a["href"] for a in page.select("a[href]")
                           if re.fullmatch(r"/\d{4}/\d{2}/\d{2}/", a["href"])}  # fmt: skip
                older = page.select_one('.pagination a[rel="next"]')
                url = older and month + older["href"]
            with self.subTest(month=month):
                self.assertTrue(days)
                self.assertEqual(linked & days, days)

    def test_each_day_archive_is_noindex_and_none_is_in_the_sitemap(self):
        sitemap = self.client.get("/sitemap.xml").content.decode()
        self.assertIsNone(re.search(r"<loc>[^<]*/\d{4}/\d{2}/\d{2}/</loc>", sitemap))
        days = {post.published_on for post in Post.objects.published()}
        self.assertEqual(len(days), 17)
        for day in days:
            with self.subTest(day=day):
                page = BeautifulSoup(
                    self.client.get(f"/{day:%Y/%m/%d}/").content, "html.parser"
                )
                robots = [m["content"] for m in page.select('meta[name="robots"]')]
                self.assertEqual(robots, ["noindex, follow"])
        # The months, which hold the same posts, are indexed and in the sitemap.
        self.assertIn(f"<loc>{ROOT}/2014/05/</loc>", sitemap)
        month = BeautifulSoup(self.client.get("/2014/05/").content, "html.parser")
        self.assertEqual(month.select('meta[name="robots"]'), [])


class SitemapQueryTests(OnSiteDomainTestCase):
    def test_a_fixed_number_of_queries_however_many_posts(self):
        Site.objects.get_current()  # cached for the process, as when serving
        for n in (3, 30):
            for i in range(n - Post.objects.count()):
                make_post(f"Post {i}", published_at=london(2014, 1 + i % 12, 1 + i % 28, 9),
                          tags=[f"topic {i % 5}"])  # fmt: skip
            # The page cache's version; posts and tags: a count and a page each; the
            # archives: one; the standalone pages: a count (none here).
            with self.subTest(posts=n), self.assertNumQueries(7):
                self.assertEqual(self.client.get("/sitemap.xml").status_code, 200)


class RobotsTests(OnSiteDomainTestCase):
    def test_robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_private_sections(self):
        response = self.client.get("/robots.txt")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
        lines = response.content.decode().splitlines()
        self.assertEqual(lines[0], "User-agent: *")
        self.assertIn(f"Sitemap: {ROOT}/sitemap.xml", lines)
        disallowed = [line.removeprefix("Disallow: ") for line in lines if line.startswith("Dis")]
        self.assertEqual(disallowed, ["/admin/", "/markdownx/"])
        self.assertEqual(reverse("robots"), "/robots.txt")

    def test_pages_that_say_noindex_are_open_to_crawlers_so_they_can_read_it(self):
        post = make_post("Discussed", published_at=london(2014, 5, 20, 9))
        Comment.objects.create(
            content_type=ContentType.objects.get_for_model(Post), object_pk=str(post.pk),
            site=Site.objects.get_current(), user_name="Ann", user_email="a@example.org",
            comment="Yes.", submit_date=timezone.now(),
        )  # fmt: skip
        lines = self.client.get("/robots.txt").content.decode().splitlines()
        disallowed = [line.removeprefix("Disallow: ") for line in lines if line.startswith("Dis")]
        page = BeautifulSoup(self.client.get(post.get_absolute_url()).content, "html.parser")
        [reply] = page.select("a.comment__reply")
        self.assertEqual(reply["rel"], ["nofollow"])  # linked, but not followed
        for path in (reply["href"], "/search/?q=social", "/2014/05/20/"):
            with self.subTest(path=path):
                said = BeautifulSoup(self.client.get(path).content, "html.parser")
                [robots] = [m["content"] for m in said.select('meta[name="robots"]')]
                self.assertTrue(robots.startswith("noindex"))
                self.assertFalse([p for p in disallowed if path.startswith(p)])

    @override_settings(SITE_SCHEME="http")
    def test_the_sitemap_address_follows_the_scheme_setting(self):
        self.assertIn(b"Sitemap: http://blog.example.org/sitemap.xml",
                      self.client.get("/robots.txt").content)  # fmt: skip

    def test_robots_txt_answers_only_reads(self):
        self.assertEqual(self.client.post("/robots.txt").status_code, 405)
