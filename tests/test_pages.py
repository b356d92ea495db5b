import datetime

import time_machine
from django.template.loader import render_to_string
from django.test import TestCase
from django.urls import reverse

from blog.models import Post

from .factories import london, make_post, make_staff, make_user
from .html import soup, text, texts

STEPPING_UP = "/2014/04/15/stepping-up-but-not-staying-in/"
LEARNING = "/2014/04/09/learning-organisations/"
UNTITLED = "/2014/04/17/im-not-really-surprised-to-hear/"

APRIL_DAYS = [
    "Thursday, 17 April 2014",
    "Tuesday, 15 April 2014",
    "Wednesday, 9 April 2014",
    "Tuesday, 8 April 2014",
    "Wednesday, 2 April 2014",
]
APRIL_TITLES = [
    "I’m not really surprised to hear…",
    "Mandatory Reporting - the wrong approach",
    "Stepping up but not staying in?",
    "Learning Organisations",
    "Is it any wonder that child protection social work in England is not a developing profession?",
    "Ofsted – and the TIWPIR problem",
    "Pressure of Work",
]


class AprilPagesTests(TestCase):
    """Every reader's URL, with the fixture's real counts."""

    fixtures = ["april_2014"]

    def get(self, url: str, status: int = 200):
        response = self.client.get(url)
        self.assertEqual(response.status_code, status, url)
        return soup(response)

    def test_home_lists_newest_first_under_one_heading_per_day(self):
        page = self.get(reverse("blog:post-index"))
        self.assertEqual(texts(page, ".day__heading"), APRIL_DAYS)
        # Each heading leads to its day, and gives the date once: no byline repeats it.
        self.assertEqual(
            [a["href"] for a in page.select(".day__heading a")][:2],
            ["/2014/04/17/", "/2014/04/15/"],
        )
        self.assertEqual(page.select(".post-summary time"), [])
        self.assertEqual(texts(page, ".post-summary__title"), APRIL_TITLES)
        fifteenth = page.select_one("#day-2014-04-15").find_parent("section")
        self.assertEqual(texts(fifteenth, ".post-summary__title"), APRIL_TITLES[1:3])

    def test_every_page_has_the_shared_frame(self):
        for url in ["/", "/2014/", "/2014/04/", "/2014/04/15/", STEPPING_UP, "/tags/",
                    "/tags/ofsted/", "/2014/13/"]:  # fmt: skip
            with self.subTest(url=url):
                response = self.client.get(url)
                page = soup(response)
                self.assertEqual(page.html["lang"], "en-gb")
                self.assertEqual(len(page.find_all("h1")), 1)
                self.assertEqual(page.select_one("a.skip-link")["href"], "#main")
                self.assertIsNotNone(page.select_one("main#main"))
                self.assertEqual(page.select_one(".site-title a")["href"], "/")
                archive = page.select_one(".archive-tree")
                self.assertIn("Blog archive", text(archive))
                self.assertEqual(texts(archive, "summary"), ["2014 (7)"])
                self.assertEqual(
                    texts(archive, ".archive-tree__months li"), ["All of 2014", "April (7)"]
                )
                stylesheet = page.select_one('link[rel="stylesheet"]')["href"]
                self.assertTrue(stylesheet.startswith("/static/"), "no CDN: our own CSS")
                if url == "/tags/":  # the page is the list of tags: no second one
                    self.assertEqual(page.select(".tag-cloud"), [])
                    continue
                tags = {a.get_text(): text(a.parent) for a in page.select(".tag-cloud a")}
                self.assertEqual(tags["Ofsted"], "Ofsted (1)")
                self.assertEqual(tags["workforce"], "workforce (2)")
                self.assertEqual(tags["mandatory reporting"], "mandatory reporting (1)")

    def test_year_archive_lists_months_with_counts(self):
        page = self.get("/2014/")
        self.assertEqual(text(page.h1), "Posts from 2014")
        self.assertEqual(texts(page, ".archive-month h2"), ["April 2014 (7 posts)"])
        self.assertEqual(len(page.select(".archive-month__posts li")), 7)

    def test_month_archive_lists_all_seven(self):
        page = self.get("/2014/04/")
        self.assertEqual(text(page.h1), "April 2014")
        self.assertEqual(texts(page, ".post-summary__title"), APRIL_TITLES)

    def test_day_archive_lists_exactly_its_posts(self):
        page = self.get("/2014/04/15/")
        self.assertEqual(text(page.h1), "Tuesday, 15 April 2014")
        self.assertEqual(page.select(".post-summary time"), [])  # the heading has the date
        self.assertEqual(texts(page, ".post-summary__title"), APRIL_TITLES[1:3])
        self.assertEqual(texts(self.get("/2014/04/08/"), ".post-summary__title"), APRIL_TITLES[4:6])

    def test_post_page(self):
        page = self.get(STEPPING_UP)
        self.assertEqual(text(page.h1), "Stepping up but not staying in?")
        self.assertEqual(page.title.get_text().split(" · ")[0], "Stepping up but not staying in?")
        self.assertEqual(
            page.select_one(".post-meta time")["datetime"], "2014-04-15T10:00:00+01:00"
        )
        self.assertIn("Tuesday, 15 April 2014", text(page.select_one(".post-meta")))
        self.assertIn("by Mr Mills", text(page.select_one(".post-meta")))
        tags = {a.get_text(): a["href"] for a in page.select(".post-tags a")}
        self.assertEqual(tags["workforce"], "/tags/workforce/")
        # Navigation to the neighbours, in publication order.
        self.assertEqual(
            page.select_one('a[rel="next"]')["href"],
            "/2014/04/15/mandatory-reporting-the-wrong-approach/",
        )
        self.assertEqual(page.select_one('a[rel="prev"]')["href"], LEARNING)

    def test_references_link_both_ways(self):
        page = self.get(STEPPING_UP)
        marker = page.select_one("#cite-1")
        self.assertEqual((marker.name, marker["href"], marker.get_text()), ("a", "#ref-1", "[1]"))
        section = page.select_one("section#references")
        item = section.select_one("ol > li#ref-1")
        self.assertTrue(text(item).startswith("The Views of Step Up to Social Work Trainees"))
        self.assertEqual(item.select_one("a.backlink")["href"], "#cite-1")
        # [2] has no reference line in the seed: it stays plain text.
        self.assertIsNone(page.select_one("#cite-2"))
        self.assertIn("in England [2].", text(page.select_one(".post__body")))
        self.assertIsNone(page.select_one("#ref-2"))

    def test_learning_organisations_has_two_references(self):
        page = self.get(LEARNING)
        self.assertEqual([li["id"] for li in page.select("#references li")], ["ref-1", "ref-2"])
        self.assertEqual(
            [a["href"] for a in page.select(".post__body a.cite")], ["#ref-1", "#ref-2"]
        )

    def test_a_post_without_references_has_no_references_section(self):
        self.assertIsNone(self.get("/2014/04/02/pressure-of-work/").select_one("#references"))

    def test_untitled_post_is_headed_by_its_date_not_an_invented_title(self):
        page = self.get(UNTITLED)
        h1 = page.h1
        self.assertNotIn("visually-hidden", h1["class"])
        self.assertEqual(text(h1), "Untitled post of Thursday, 17 April 2014")
        self.assertEqual(text(h1.select_one(".visually-hidden")), "Untitled post of")
        self.assertEqual(h1.time["datetime"], "2014-04-17T12:00:00+01:00")
        # The byline under it does not give the date again.
        self.assertIsNone(page.select_one(".post-meta time"))
        self.assertEqual(page.title.get_text().split(" · ")[0], "I’m not really surprised to hear…")
        home = self.get("/")
        link = home.select_one(f'.post-summary__title a[href="{UNTITLED}"]')
        self.assertEqual(link.get_text(), "I’m not really surprised to hear…")

    def test_tag_index_lists_tags_of_published_posts_with_counts(self):
        page = self.get("/tags/")
        rows = texts(page, ".tag-index li")
        self.assertIn("Ofsted (1 post)", rows)
        self.assertIn("workforce (2 posts)", rows)
        self.assertIn("mandatory reporting (1 post)", rows)

    def test_tag_pages(self):
        self.assertEqual(
            texts(self.get("/tags/workforce/"), ".post-summary__title"),
            ["Stepping up but not staying in?", "Pressure of Work"],
        )
        self.assertEqual(
            texts(self.get("/tags/ofsted/"), ".post-summary__title"),
            ["Ofsted – and the TIWPIR problem"],
        )
        self.assertEqual(
            texts(self.get("/tags/mandatory-reporting/"), ".post-summary__title"),
            ["Mandatory Reporting - the wrong approach"],
        )

    def test_bad_addresses_are_404_pages(self):
        for url in [
            "/2014/13/", "/2014/02/30/", "/0000/", "/2099/", "/9999/12/31/", "/2014/4/",
            "/tags/no-such-tag/", "/?page=abc", "/?page=999", "/?page=0", "/?page=-1",
            "/2014/04/?page=2", "/tags/ofsted/?page=abc", "/2014/04/15/no-such-post/",
            "/2013/", "/2014/05/",
            "/" + "a" * 2000 + "/", "/2014/04/15/" + "s" * 2000 + "/",
        ]:  # fmt: skip
            with self.subTest(url=url[:60]):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 404)
                self.assertIn("Page not found", response.content.decode())
                # Our own 404.html, not the one django-comments-xtd ships.
                self.assertTemplateUsed(response, "blog/base_blog.html")

    def test_a_post_under_another_date_is_sent_to_its_address(self):
        for wrong in ["/2014/04/16/", "/2013/04/15/", "/2014/02/30/"]:
            response = self.client.get(wrong + "stepping-up-but-not-staying-in/")
            self.assertRedirects(response, STEPPING_UP, status_code=301)

    def test_500_page_renders_without_request_or_database(self):
        with self.assertNumQueries(0):
            html = render_to_string("500.html")
        self.assertIn("Something went wrong", html)


class PaginationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        author = make_user()
        for i in range(25):
            make_post(f"Post {i}", author=author, published_at=london(2020, 1, 1 + i, 12))

    def test_ten_posts_a_page(self):
        first = soup(self.client.get("/"))
        self.assertEqual(len(first.select(".post-summary")), 10)
        self.assertEqual(texts(first, ".post-summary__title")[0], "Post 24")
        third = soup(self.client.get("/?page=3"))
        self.assertEqual(
            texts(third, ".post-summary__title"), [f"Post {i}" for i in range(4, -1, -1)]
        )
        self.assertEqual(third.select_one('.pagination a[rel="prev"]')["href"], "?page=2")
        self.assertEqual(self.client.get("/?page=4").status_code, 404)
        self.assertEqual(self.client.get("/?page=last").status_code, 200)


class VisibilityTests(TestCase):
    """Drafts and scheduled posts: 404 for readers and absent from every list and count."""

    @classmethod
    def setUpTestData(cls):
        cls.author = make_user()
        cls.live = make_post(
            "Live", author=cls.author, published_at=london(2020, 3, 2, 12), tags=["shared"]
        )
        cls.draft = make_post(
            "Draft",
            author=cls.author,
            published_at=london(2020, 3, 3, 12),
            status=Post.Status.DRAFT,
            tags=["shared", "secret"],
        )
        cls.scheduled = make_post(
            "Scheduled",
            author=cls.author,
            published_at=london(2020, 4, 1, 9),
            tags=["shared", "later"],
        )
        cls.staff = make_staff()

    def setUp(self):
        traveller = time_machine.travel(london(2020, 3, 15, 12), tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def test_readers_get_404_for_drafts_and_scheduled_posts(self):
        for post in (self.draft, self.scheduled):
            self.assertEqual(self.client.get(post.get_absolute_url()).status_code, 404)
            # Nor does another date give a hidden post away by redirecting to it.
            self.assertEqual(self.client.get(f"/2020/03/15/{post.slug}/").status_code, 404)
        self.assertEqual(self.client.get("/2020/04/").status_code, 404)
        self.assertEqual(self.client.get("/2020/04/01/").status_code, 404)
        self.assertEqual(self.client.get("/tags/secret/").status_code, 404)
        self.assertEqual(self.client.get("/tags/later/").status_code, 404)

    def test_lists_and_counts_leave_them_out(self):
        for url in ["/", "/2020/", "/2020/03/", "/tags/", "/tags/shared/"]:
            with self.subTest(url=url):
                body = self.client.get(url).content.decode()
                self.assertNotIn("Draft", body)
                self.assertNotIn("Scheduled", body)
                self.assertNotIn("secret", body)
                page = soup(self.client.get(url))
                self.assertEqual(texts(page, ".archive-tree summary"), ["2020 (1)"])
                if url == "/tags/":  # the page's own list, and no second one beside it
                    self.assertIn("shared (1 post)", texts(page, ".tag-index li"))
                else:
                    self.assertIn("shared (1)", texts(page, ".tag-cloud li"))

    def test_staff_can_preview_a_draft_which_is_never_cached(self):
        self.client.force_login(self.staff)
        for post in (self.draft, self.scheduled):
            response = self.client.get(post.get_absolute_url())
            self.assertEqual(response.status_code, 200)
            self.assertIn("no-store", response["Cache-Control"])
            self.assertIn("Preview: readers cannot see this post yet", response.content.decode())
        # A public post is not marked as uncacheable.
        response = self.client.get(self.live.get_absolute_url())
        self.assertNotIn("no-store", response.get("Cache-Control", ""))

    def test_a_scheduled_post_appears_on_time(self):
        with time_machine.travel(london(2020, 4, 1, 9, 0, 1), tick=False):
            response = self.client.get(self.scheduled.get_absolute_url())
            self.assertEqual(response.status_code, 200)
            self.assertIn("Scheduled", texts(soup(self.client.get("/")), ".post-summary__title"))

    def test_archive_of_a_future_year_is_404(self):
        self.assertEqual(self.client.get("/2021/").status_code, 404)


class EmptySiteTests(TestCase):
    def test_home_of_an_empty_site(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertIn("No posts yet.", response.content.decode())

    def test_non_staff_users_cannot_preview(self):
        post = make_post(
            "Draft",
            status=Post.Status.DRAFT,
            published_at=london(2020, 1, 1) - datetime.timedelta(days=1),
        )
        self.client.force_login(make_user())
        self.assertEqual(self.client.get(post.get_absolute_url()).status_code, 404)
