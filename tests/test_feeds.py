"""The feeds, read as a feed reader reads them (feedparser): what is in them, what is
never in them (drafts, held comments, e-mail addresses), and what they cost."""

from __future__ import annotations

import datetime
import html
import re

import feedparser
import time_machine
from bs4 import BeautifulSoup
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from blog.markup import plain_text
from blog.metadata import last_modified
from blog.models import Comment, Post, Reference

from .factories import london, make_post, make_user
from .html import soup
from .sites import ROOT, OnSiteDomainTestCase

NOW = london(2014, 6, 1, 12)
EMAIL = re.compile(rb"[\w.+-]+@[\w-]+(\.[\w-]+)+")
ATOM = reverse("blog:feed-atom")
RSS = reverse("blog:feed-rss")
COMMENTS = reverse("blog:feed-comments")
UNTITLED = "I’m not really surprised to hear…"


def add_comment(post: Post, name: str, email: str, text: str, **fields) -> Comment:
    comment = Comment(
        content_type=ContentType.objects.get_for_model(Post),
        object_pk=str(post.pk),
        site=Site.objects.get_current(),
        user_name=name,
        user_email=email,
        comment=text,
        submit_date=fields.pop("submit_date", timezone.now()),
        **fields,
    )
    comment.save()
    return comment


def parse(response) -> feedparser.FeedParserDict:
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    return feed


def soup_of(markup: str) -> BeautifulSoup:
    return BeautifulSoup(markup, "html.parser")


def text_of(detail) -> str:
    """A feed's text field as a reader shows it (an HTML one with its entities decoded)."""
    return html.unescape(detail.value) if detail.type == "text/html" else detail.value


def as_utc(moment: datetime.datetime) -> tuple:
    return moment.astimezone(datetime.UTC).timetuple()[:6]


@time_machine.travel(NOW)
class PostFeedTests(OnSiteDomainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        call_command("loaddata", "april_2014", verbosity=0)
        cls.mills = Post.objects.filter(title="").get().author
        cls.mills.email = "mills@example.org"
        cls.mills.save()
        cls.writer = make_user("writer", first_name="Pat", last_name="Writer",
                               email="pat.writer@example.org")  # fmt: skip
        cls.cited = make_post(
            "Risk & blame",
            "Munro said so [1]. ![A chart](/media/uploads/chart.png)",
            author=cls.writer,
            published_at=london(2014, 5, 20, 9),
            tags=["Ofsted", "workforce"],
            references={1: "Munro, E. (2011) The Munro review"},
        )
        cls.draft = make_post("Secret draft", author=cls.writer, status=Post.Status.DRAFT,
                              published_at=london(2014, 5, 21, 9), tags=["Ofsted"])  # fmt: skip
        cls.scheduled = make_post("Not yet", author=cls.writer, tags=["Ofsted"],
                                  published_at=NOW + datetime.timedelta(days=3))  # fmt: skip
        cls.published = list(Post.objects.published())

    def test_the_atom_feed_describes_the_site_with_absolute_addresses(self):
        response = self.client.get(ATOM)
        self.assertEqual(response["Content-Type"], "application/atom+xml; charset=utf-8")
        feed = parse(response).feed
        self.assertEqual(feed.title, "Child Protection Social Work")
        self.assertEqual(feed.subtitle, "An expert blog on child protection social work")
        self.assertEqual(feed.link, f"{ROOT}/")
        self.assertEqual(feed.id, f"{ROOT}{ATOM}")
        links = {link.rel: link.href for link in feed.links}
        self.assertEqual(links["self"], f"{ROOT}{ATOM}")
        self.assertEqual(feed.author_detail, {"name": "Child Protection Social Work"})
        newest = max(last_modified(post) for post in self.published)
        self.assertEqual(feed.updated_parsed[:6], as_utc(newest))

    def test_atom_entries_are_the_published_posts_in_full(self):
        entries = parse(self.client.get(ATOM)).entries
        self.assertEqual(len(entries), len(self.published))
        for entry, post in zip(entries, self.published, strict=True):
            with self.subTest(post=post.slug):
                self.assertEqual(entry.title, post.display_title)
                self.assertEqual(entry.link, f"{ROOT}{post.get_absolute_url()}")
                self.assertEqual(entry.id, entry.link)
                self.assertEqual(entry.published_parsed[:6], as_utc(post.published_at))
                self.assertEqual(entry.updated_parsed[:6], as_utc(last_modified(post)))
                self.assertEqual(entry.author, post.author_name)
                self.assertEqual(
                    sorted(tag.term for tag in entry.tags),
                    sorted(tag.name for tag in post.tags.all()),
                )
                self.assertEqual(plain_text(entry.summary), post.excerpt)
                self.assertEqual(entry.content[0].type, "text/html")
                self.assertTrue(
                    plain_text(entry.content[0].value).startswith(plain_text(post.body_html))
                )

    def test_an_untitled_post_is_entitled_by_its_opening_words(self):
        for url in (ATOM, RSS):
            with self.subTest(url=url):
                titles = [
                    text_of(entry.title_detail) for entry in parse(self.client.get(url)).entries
                ]
                self.assertIn(UNTITLED, titles)
                self.assertIn("Risk & blame", titles)

    def test_links_inside_the_content_are_absolute_and_references_follow_the_text(self):
        post_url = f"{ROOT}{self.cited.get_absolute_url()}"
        for url in (ATOM, RSS):
            with self.subTest(url=url):
                entry = parse(self.client.get(url)).entries[0]
                self.assertEqual(entry.link, post_url)
                content = entry.content[0].value if url == ATOM else entry.description
                page = soup_of(content)
                self.assertEqual(page.select_one("a.cite")["href"], f"{post_url}#ref-1")
                self.assertEqual(page.select_one("img")["src"],
                                 f"{ROOT}/media/uploads/chart.png")  # fmt: skip
                self.assertIn("Munro, E. (2011) The Munro review", page.select_one("ol li").text)
                for node in page.select("[href], [src]"):
                    self.assertTrue((node.get("href") or node.get("src")).startswith("https://"))

    def test_the_rss_feed_has_the_full_html_dates_categories_and_authors(self):
        response = self.client.get(RSS)
        self.assertEqual(response["Content-Type"], "application/rss+xml; charset=utf-8")
        feed = parse(response)
        self.assertEqual(feed.version, "rss20")
        self.assertEqual(feed.feed.link, f"{ROOT}/")
        self.assertEqual(len(feed.entries), len(self.published))
        for entry, post in zip(feed.entries, self.published, strict=True):
            with self.subTest(post=post.slug):
                self.assertEqual(entry.link, f"{ROOT}{post.get_absolute_url()}")
                self.assertEqual(entry.published_parsed[:6], as_utc(post.published_at))
                self.assertEqual(entry.author, post.author_name)
                self.assertEqual(
                    sorted(tag.term for tag in entry.tags),
                    sorted(tag.name for tag in post.tags.all()),
                )
                self.assertIn(plain_text(post.body_html)[:200], plain_text(entry.description))

    def test_no_draft_or_scheduled_post_in_any_feed(self):
        ofsted = reverse("blog:tag-feed", args=["ofsted"])
        for url in (ATOM, RSS, ofsted):
            with self.subTest(url=url):
                raw = self.client.get(url).content.decode()
                self.assertNotIn("Secret draft", raw)
                self.assertNotIn("Not yet", raw)
                self.assertNotIn(self.draft.slug, raw)
                self.assertNotIn(self.scheduled.slug, raw)

    def test_no_email_address_in_any_feed(self):
        for url in (ATOM, RSS, reverse("blog:tag-feed", args=["ofsted"])):
            with self.subTest(url=url):
                raw = self.client.get(url).content
                self.assertIsNone(EMAIL.search(raw), url)
                self.assertNotIn(b"<email>", raw)

    def test_the_tag_feed_has_only_that_tags_published_posts(self):
        url = reverse("blog:tag-feed", args=["ofsted"])
        response = self.client.get(url)
        self.assertEqual(response["Content-Type"], "application/atom+xml; charset=utf-8")
        feed = parse(response)
        self.assertEqual(feed.feed.title, "Child Protection Social Work: posts tagged “Ofsted”")
        self.assertEqual(feed.feed.link, f"{ROOT}/tags/ofsted/")
        self.assertEqual({link.rel: link.href for link in feed.feed.links}["self"], f"{ROOT}{url}")
        expected = [p for p in self.published if "Ofsted" in {t.name for t in p.tags.all()}]
        self.assertEqual(len(expected), 2)
        self.assertEqual([entry.link for entry in feed.entries],
                         [f"{ROOT}{p.get_absolute_url()}" for p in expected])  # fmt: skip

    def test_an_unknown_tag_or_one_without_published_posts_has_no_feed(self):
        make_post("Only a draft", status=Post.Status.DRAFT, tags=["hidden topic"])
        for slug in ("no-such-tag", "hidden-topic"):
            with self.subTest(slug=slug):
                url = reverse("blog:tag-feed", args=[slug])
                self.assertEqual(self.client.get(url).status_code, 404)

    def test_autodiscovery_links_on_home_post_and_tag_pages_lead_to_the_feeds(self):
        site_feeds = {ATOM: "application/atom+xml", RSS: "application/rss+xml",
                      COMMENTS: "application/atom+xml"}  # fmt: skip
        tag_feed = reverse("blog:tag-feed", args=["ofsted"])
        pages = {
            "/": site_feeds,
            self.cited.get_absolute_url(): site_feeds,
            "/tags/ofsted/": {**site_feeds, tag_feed: "application/atom+xml"},
        }
        for page_url, expected in pages.items():
            with self.subTest(page=page_url):
                page = soup(self.client.get(page_url))
                links = page.select('head link[rel="alternate"]')
                self.assertEqual({link["href"]: link["type"] for link in links}, expected)
                for link in links:
                    self.assertTrue(link.get("title"))
                    response = self.client.get(link["href"])
                    self.assertEqual(response.status_code, 200)
                    self.assertTrue(response["Content-Type"].startswith(link["type"]))
                    parse(response)

    def test_visible_feed_links_in_the_footer_and_on_the_tag_page(self):
        footer = soup(self.client.get("/")).select_one("footer")
        self.assertEqual({a["href"] for a in footer.select("a")} & {ATOM, RSS, COMMENTS},
                         {ATOM, RSS, COMMENTS})  # fmt: skip
        tag_page = soup(self.client.get("/tags/ofsted/"))
        link = tag_page.select_one(f'main a[href="{reverse("blog:tag-feed", args=["ofsted"])}"]')
        self.assertIn("Feed", link.text)


@time_machine.travel(NOW)
class CommentFeedTests(OnSiteDomainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        author = make_user("writer", first_name="Pat", last_name="Writer",
                           email="pat.writer@example.org")  # fmt: skip
        cls.post = make_post("Pressure of work", author=author,
                             published_at=london(2014, 5, 1, 9))  # fmt: skip
        cls.untitled = make_post("", "I’m not really surprised to hear, as reported here, that…",
                                 author=author, published_at=london(2014, 5, 2, 9))  # fmt: skip
        cls.hidden_post = make_post("Withdrawn later", author=author,
                                    published_at=london(2014, 5, 3, 9))  # fmt: skip
        signed_in = make_user("sam", first_name="Sam", last_name="Signed",
                              email="sam.signed@example.org")  # fmt: skip
        cls.ann = add_comment(cls.post, "Ann Reader", "ann.reader@example.org",
                              "I agree.\n\nSee https://example.net/report for more.",
                              submit_date=london(2014, 5, 10, 9))  # fmt: skip
        cls.sam = add_comment(cls.untitled, "Sam Signed", "sam.signed@example.org", "Quite so.",
                              user=signed_in, submit_date=london(2014, 5, 11, 9))  # fmt: skip
        add_comment(cls.post, "Held Back", "held@example.org", "Buy now", is_public=False)
        add_comment(cls.post, "Taken Down", "removed@example.org", "Rude", is_removed=True)
        add_comment(cls.hidden_post, "Orphan Reader", "orphan@example.org", "On a withdrawn post")
        Post.objects.filter(pk=cls.hidden_post.pk).update(status=Post.Status.DRAFT)
        cls.emails = [b"pat.writer@example.org", b"ann.reader@example.org",
                      b"sam.signed@example.org", b"held@example.org", b"removed@example.org",
                      b"orphan@example.org"]  # fmt: skip

    def test_the_feed_describes_itself_with_absolute_addresses(self):
        response = self.client.get(COMMENTS)
        self.assertEqual(response["Content-Type"], "application/atom+xml; charset=utf-8")
        feed = parse(response).feed
        self.assertEqual(feed.title, "Child Protection Social Work: comments")
        self.assertEqual(feed.link, f"{ROOT}/discussions/")
        self.assertEqual({link.rel: link.href for link in feed.links}["self"], f"{ROOT}{COMMENTS}")
        self.assertEqual(feed.author_detail, {"name": "Child Protection Social Work"})
        self.assertEqual(feed.updated_parsed[:6], as_utc(self.sam.submit_date))

    def test_only_published_comments_on_published_posts_newest_first(self):
        entries = parse(self.client.get(COMMENTS)).entries
        self.assertEqual(
            [entry.title for entry in entries],
            ["Sam Signed on I’m not really surprised to hear…", "Ann Reader on Pressure of work"],
        )
        sam, ann = entries
        self.assertEqual(ann.link, f"{ROOT}{self.post.get_absolute_url()}#c{self.ann.pk}")
        self.assertEqual(ann.id, ann.link)
        self.assertEqual(ann.author, "Ann Reader")
        self.assertEqual(ann.published_parsed[:6], as_utc(self.ann.submit_date))
        self.assertEqual(ann.updated_parsed[:6], as_utc(self.ann.submit_date))
        content = soup_of(ann.content[0].value)
        self.assertEqual([p.text for p in content.select("p")],
                         ["I agree.", "See https://example.net/report for more."])  # fmt: skip
        self.assertEqual(content.select_one("a")["href"], "https://example.net/report")
        self.assertEqual(sam.author, "Sam Signed")

    def test_held_removed_and_withdrawn_comments_are_absent(self):
        raw = self.client.get(COMMENTS).content.decode()
        for absent in ("Held Back", "Buy now", "Taken Down", "Rude", "Orphan Reader",
                       "withdrawn post", "Withdrawn later"):  # fmt: skip
            self.assertNotIn(absent, raw)

    def test_no_email_address_anywhere(self):
        raw = self.client.get(COMMENTS).content
        for email in self.emails:
            self.assertNotIn(email, raw)
        self.assertIsNone(EMAIL.search(raw))
        self.assertNotIn(b"<email>", raw)


@time_machine.travel(NOW)
class FeedQueryTests(OnSiteDomainTestCase):
    """Each feed runs a fixed number of queries, and shows at most its number of items,
    however many there are."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        author = make_user("writer", email="writer@example.org")
        start = london(2014, 5, 1, 9)
        posts = Post.objects.bulk_create(
            Post(title=f"Post {i}", slug=f"post-{i}", body=f"Post {i} cites [1] and [2].",
                 author=author, status=Post.Status.PUBLISHED,
                 published_at=start + datetime.timedelta(hours=i))
            for i in range(25)
        )  # fmt: skip
        for post in posts:
            post.tags.add("Ofsted", f"topic {post.pk % 4}")
            Reference.objects.bulk_create(
                Reference(post=post, number=n, citation=f"Source {n}") for n in (1, 2)
            )
            post.save()
        for i in range(35):
            add_comment(posts[i % 25], f"Reader {i}", f"reader{i}@example.org", f"Comment {i}",
                        submit_date=start + datetime.timedelta(days=1, minutes=i))  # fmt: skip
        cls.newest = posts[-1]

    def setUp(self):
        Site.objects.get_current()  # cached for the process, as when serving

    def test_posts_feeds_cap_at_twenty_in_three_queries(self):
        for url in (ATOM, RSS):
            with self.subTest(url=url):
                # The page cache's version; posts with authors, their tags, references.
                cache.clear()
                with self.assertNumQueries(4):
                    response = self.client.get(url)
                entries = parse(response).entries
                self.assertEqual(len(entries), 20)
                self.assertEqual(entries[0].link, f"{ROOT}{self.newest.get_absolute_url()}")

    def test_the_tag_feed_caps_at_twenty_in_four_queries(self):
        with self.assertNumQueries(5):  # the version, the tag, then as the posts feed
            response = self.client.get(reverse("blog:tag-feed", args=["ofsted"]))
        self.assertEqual(len(parse(response).entries), 20)

    def test_the_comment_feed_caps_at_thirty_in_two_queries(self):
        with self.assertNumQueries(3):  # the version, comments, their posts
            response = self.client.get(COMMENTS)
        entries = parse(response).entries
        self.assertEqual(len(entries), 30)
        self.assertEqual(entries[0].title, "Reader 34 on Post 9")
        self.assertIsNone(EMAIL.search(response.content))
