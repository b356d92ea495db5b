"""What a page tells machines about itself: description, canonical address, Open Graph,
and the schema.org JSON-LD, which must stay inside its script element whatever a title
holds."""

from __future__ import annotations

import json

import time_machine
from bs4 import BeautifulSoup
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.utils import timezone

from blog.markup import plain_text
from blog.metadata import last_modified
from blog.models import Comment, Post

from .factories import london, make_post, make_staff, make_user
from .html import soup
from .sites import ROOT, OnSiteDomainTestCase

NOW = london(2014, 6, 1, 12)
HOSTILE = "</script><script>alert(1)</script>"


def meta(page, key: str) -> list[str]:
    """The content of every <meta> whose property or name is ``key``."""
    return [tag["content"] for tag in page.select(f'meta[property="{key}"], meta[name="{key}"]')]


def one(page, key: str) -> str:
    values = meta(page, key)
    assert len(values) == 1, (key, values)
    return values[0]


def json_ld(page) -> list[dict]:
    return [
        json.loads(script.string) for script in page.select('script[type="application/ld+json"]')
    ]


def iso(moment) -> str:
    return timezone.localtime(moment).isoformat()


@time_machine.travel(NOW)
class PostMetadataTests(OnSiteDomainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        call_command("loaddata", "april_2014", verbosity=0)
        author = make_user("writer", first_name="Pat", last_name="Writer", email="pat@example.org")
        cls.post = make_post(
            "Risk & blame",
            "Munro said so [1], and " + "more words " * 40,
            author=author,
            published_at=london(2014, 5, 20, 9),
            tags=["Ofsted", "workforce"],
            references={1: "Munro (2011)"},
        )
        Post.objects.filter(pk=cls.post.pk).update(updated_at=london(2014, 5, 25, 18))
        cls.post.refresh_from_db()
        cls.untitled = Post.objects.get(title="")

    def test_description_canonical_and_open_graph(self):
        page = soup(self.client.get(self.post.get_absolute_url() + "?utm_source=x"))
        url = f"{ROOT}{self.post.get_absolute_url()}"
        self.assertEqual(one(page, "description"), self.post.excerpt)
        # The marker stays with the references it leads to, not in the description.
        self.assertTrue(self.post.excerpt.startswith("Munro said so, and more words"))
        self.assertEqual([link["href"] for link in page.select('link[rel="canonical"]')], [url])
        self.assertEqual(one(page, "og:type"), "article")
        self.assertEqual(one(page, "og:title"), "Risk & blame")
        self.assertEqual(one(page, "og:description"), self.post.excerpt)
        self.assertEqual(one(page, "og:url"), url)
        self.assertEqual(one(page, "og:site_name"), "Child Protection Social Work")
        self.assertEqual(one(page, "article:published_time"), "2014-05-20T09:00:00+01:00")
        self.assertEqual(one(page, "article:modified_time"), "2014-05-25T18:00:00+01:00")
        # Open Graph names an article's author by the address of their profile page.
        self.assertEqual(one(page, "article:author"), f"{ROOT}/authors/pat-writer/")
        self.assertEqual(sorted(meta(page, "article:tag")), ["Ofsted", "workforce"])
        self.assertEqual(one(page, "twitter:card"), "summary_large_image")
        self.assertEqual(meta(page, "robots"), [])

    def test_blog_posting_json_ld(self):
        page = soup(self.client.get(self.post.get_absolute_url()))
        [data] = json_ld(page)
        url = f"{ROOT}{self.post.get_absolute_url()}"
        self.assertEqual(data["@context"], "https://schema.org")
        self.assertEqual(data["@type"], "BlogPosting")
        self.assertEqual(data["headline"], "Risk & blame")
        self.assertEqual(data["description"], self.post.excerpt)
        self.assertEqual(data["datePublished"], iso(self.post.published_at))
        self.assertEqual(data["dateModified"], iso(last_modified(self.post)))
        self.assertEqual(
            data["author"],
            {"@type": "Person", "name": "Pat Writer", "url": f"{ROOT}/authors/pat-writer/"},
        )
        self.assertEqual(data["publisher"]["@type"], "Organization")
        self.assertEqual(data["publisher"]["name"], "Child Protection Social Work")
        self.assertEqual(data["mainEntityOfPage"], {"@type": "WebPage", "@id": url})
        self.assertEqual(data["url"], url)
        self.assertEqual(sorted(data["keywords"]), ["Ofsted", "workforce"])
        self.assertEqual(data["wordCount"], len(plain_text(self.post.body_html).split()))
        self.assertEqual(data["wordCount"], 84)  # "[1]" is no word
        self.assertEqual(data["image"], [f"{ROOT}/static/img/og-default.png"])
        self.assertEqual(data["commentCount"], 0)
        self.assertEqual(data["inLanguage"], "en-GB")
        self.assertNotIn("pat@example.org", json.dumps(data))

    def test_a_post_is_pictured_by_its_first_image_or_the_sites_card(self):
        page = soup(self.client.get(self.post.get_absolute_url()))
        self.assertEqual(one(page, "og:image"), f"{ROOT}/static/img/og-default.png")
        self.assertEqual(one(page, "twitter:card"), "summary_large_image")
        pictured = make_post(
            "Charts",
            "Words.\n\n![First](/media/uploads/a.png?x=1&y=2)\n\n![Second](https://example.org/b.png)",
            published_at=london(2014, 5, 23, 9),
        )
        page = soup(self.client.get(pictured.get_absolute_url()))
        first = f"{ROOT}/media/uploads/a.png?x=1&y=2"
        self.assertEqual(one(page, "og:image"), first)
        self.assertEqual(json_ld(page)[0]["image"], [first])

    def test_an_untitled_posts_metadata_uses_its_opening_words(self):
        page = soup(self.client.get(self.untitled.get_absolute_url()))
        self.assertEqual(one(page, "og:title"), "I’m not really surprised to hear…")
        self.assertEqual(json_ld(page)[0]["headline"], "I’m not really surprised to hear…")
        self.assertTrue(one(page, "description").startswith("I’m not really surprised to hear, as"))

    def test_a_title_cannot_break_out_of_the_json_ld_script(self):
        post = make_post(HOSTILE, "Body.", published_at=london(2014, 5, 21, 9))
        raw = self.client.get(post.get_absolute_url()).content.decode()
        self.assertEqual(raw.count('<script type="application/ld+json">'), 1)
        self.assertNotIn("<script>alert(1)", raw)
        page = BeautifulSoup(raw, "html.parser")
        self.assertEqual([s.get("src") for s in page.select("script:not([type])")],
                         [s.get("src") for s in page.select("script[src]")])  # fmt: skip
        [data] = json_ld(page)
        self.assertEqual(data["headline"], HOSTILE)
        self.assertEqual(one(page, "og:title"), HOSTILE)

    def test_a_staff_preview_of_a_draft_keeps_noindex(self):
        draft = make_post("Draft", status=Post.Status.DRAFT, published_at=london(2014, 5, 22, 9))
        self.client.force_login(make_staff())
        page = soup(self.client.get(draft.get_absolute_url()))
        self.assertEqual(meta(page, "robots"), ["noindex"])
        self.assertEqual(json_ld(page)[0]["headline"], "Draft")

    def test_comment_count_counts_published_comments(self):
        for name, is_public in (("Ann Reader", True), ("Held Back", False)):
            Comment.objects.create(
                content_type=ContentType.objects.get_for_model(Post), object_pk=str(self.post.pk),
                site=Site.objects.get_current(), user_name=name, user_email="a@example.org",
                comment="Yes.", submit_date=timezone.now(), is_public=is_public,
            )  # fmt: skip
        page = soup(self.client.get(self.post.get_absolute_url()))
        self.assertEqual(json_ld(page)[0]["commentCount"], 1)


@time_machine.travel(NOW)
class ListMetadataTests(OnSiteDomainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        call_command("loaddata", "april_2014", verbosity=0)
        for day in range(1, 6):  # 12 posts: two pages of the home page
            make_post(f"May {day}", published_at=london(2014, 5, day, 9), tags=["Ofsted"])

    def canonical(self, url: str) -> str:
        page = soup(self.client.get(url))
        [link] = page.select('link[rel="canonical"]')
        self.assertEqual(one(page, "og:url"), link["href"])
        return link["href"]

    def test_canonical_addresses_keep_only_a_page_number_past_the_first(self):
        cases = {
            "/": f"{ROOT}/",
            "/?page=1": f"{ROOT}/",
            "/?page=2&utm_source=x": f"{ROOT}/?page=2",
            "/?utm_source=x": f"{ROOT}/",
            "/2014/04/": f"{ROOT}/2014/04/",
            "/tags/": f"{ROOT}/tags/",
            "/tags/ofsted/": f"{ROOT}/tags/ofsted/",
            "/discussions/": f"{ROOT}/discussions/",
        }
        for url, expected in cases.items():
            with self.subTest(url=url):
                self.assertEqual(self.canonical(url), expected)

    def test_list_pages_describe_themselves_as_websites(self):
        for url in ("/", "/?page=2", "/2014/04/", "/tags/", "/discussions/"):
            with self.subTest(url=url):
                page = soup(self.client.get(url))
                self.assertTrue(one(page, "description"))
                self.assertEqual(one(page, "og:type"), "website")
                self.assertEqual(one(page, "og:site_name"), "Child Protection Social Work")
                self.assertEqual(one(page, "og:image"), f"{ROOT}/static/img/og-default.png")
                self.assertEqual(one(page, "og:image:width"), "1200")
                self.assertEqual(one(page, "og:image:height"), "630")
                self.assertEqual(one(page, "twitter:card"), "summary_large_image")
                self.assertEqual(meta(page, "article:published_time"), [])
        home = soup(self.client.get("/"))
        self.assertEqual(one(home, "description"), "An expert blog on child protection social work")

    def test_each_archive_and_list_page_has_its_own_title_and_description(self):
        titles = {
            "/": "Child Protection Social Work",
            "/?page=2": "Latest posts, page 2",
            "/2014/": "Posts from 2014",
            "/2014/04/": "April 2014",
            "/2014/04/15/": "Tuesday, 15 April 2014",
            "/tags/": "Tags",
            "/discussions/": "Discussions",
            "/references/": "References",
            "/search/?q=ofsted": "Search: ofsted",
            "/privacy/": "Privacy",
        }
        descriptions = set()
        for url, title in titles.items():
            with self.subTest(url=url):
                page = soup(self.client.get(url))
                self.assertEqual(one(page, "og:title"), title)
                description = one(page, "description")
                self.assertEqual(one(page, "og:description"), description)
                descriptions.add(description)
        self.assertEqual(len(descriptions), len(titles), "each page describes itself")
        day = soup(self.client.get("/2014/04/15/"))
        self.assertEqual(
            one(day, "description"),
            "2 posts of Tuesday, 15 April 2014 on Child Protection Social Work: "
            "Mandatory Reporting - the wrong approach; Stepping up but not staying in?",
        )
        self.assertTrue(one(soup(self.client.get("/2014/")), "description").startswith(
            "12 posts from 2014 on Child Protection Social Work, month by month: April, May."
        ))  # fmt: skip

    def test_the_tag_page_says_what_it_lists(self):
        page = soup(self.client.get("/tags/ofsted/"))
        expected = "Posts tagged “Ofsted” on Child Protection Social Work."
        self.assertEqual(one(page, "description"), expected)
        self.assertEqual(one(page, "og:description"), expected)
        self.assertEqual(one(page, "og:title"), "Posts tagged “Ofsted”")

    def test_the_home_page_names_the_website_in_json_ld(self):
        [data] = json_ld(soup(self.client.get("/")))
        self.assertEqual(data["@type"], "WebSite")
        self.assertEqual(data["name"], "Child Protection Social Work")
        self.assertEqual(data["url"], f"{ROOT}/")
        self.assertEqual(data["inLanguage"], "en-GB")
        self.assertEqual(json_ld(soup(self.client.get("/tags/"))), [])

    def test_a_missing_page_has_noindex_and_no_canonical(self):
        page = soup(self.client.get("/2014/04/15/no-such-post/"))
        self.assertEqual(meta(page, "robots"), ["noindex"])
        self.assertEqual(page.select('link[rel="canonical"]'), [])
