"""Old addresses keep working (blog.redirects): each form of a Blogger or WordPress
address leads on with a 301, only where the site itself has no page, for GET and HEAD
only, never off the site, at the cost of no query to any other page; staff edit the
table in the admin, and a change is followed at once."""

from __future__ import annotations

import datetime

from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, TestCase, modify_settings, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.encoding import iri_to_uri
from taggit.models import Tag

from blog.models import Comment, Post, Redirect
from blog.models.redirects import MANY_TARGETS, NO_TARGET, NOT_LOCAL, SAME_ADDRESS
from blog.pagecache import current_token

from .caching import token_queries
from .factories import london, make_post, make_staff
from .html import soup

WITHOUT_MIDDLEWARE = modify_settings(MIDDLEWARE={"remove": "blog.redirects.OldAddressMiddleware"})
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def ms(moment: datetime.datetime) -> str:
    """Blogger's showComment value for a comment published at ``moment``."""
    return str((moment - EPOCH) // datetime.timedelta(milliseconds=1))


def add_comment(post: Post, submit_date: datetime.datetime, **fields) -> Comment:
    comment = Comment(
        content_type=ContentType.objects.get_for_model(Post),
        object_pk=str(post.pk),
        site=Site.objects.get_current(),
        user_name="Reader",
        user_email="reader@example.org",
        comment="Words.",
        submit_date=submit_date,
        **fields,
    )
    comment.save()
    return comment


def tag_url(tag: Tag) -> str:
    return iri_to_uri(reverse("blog:tag-detail", kwargs={"slug": tag.slug}))


class OldAddressTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post(
            "Pressure of work", published_at=london(2014, 4, 15, 9), tags=["Ofsted"]
        )
        cls.draft = make_post("Not yet", status=Post.Status.DRAFT)
        cls.ofsted = Tag.objects.get(name="Ofsted")
        cls.label = Tag.objects.create(name="Protección infantil", slug="protección-infantil")
        rows = [
            # Blogger
            Redirect(old_path="/2014/04/pressure-of-work.html", post=cls.post, source="blogger"),
            Redirect(old_path="/search/label/Protección infantil", tag=cls.label, source="blogger"),
            Redirect(old_path="/feeds/posts/default", new_path="/feeds/atom/", source="blogger"),
            Redirect(old_path="/p/about.html", new_path="/privacy/", source="blogger"),
            # WordPress
            Redirect(old_path="/?p=12", post=cls.post, source="wordpress"),
            Redirect(old_path="/?p=13", post=cls.draft, source="wordpress"),
            Redirect(old_path="/?page_id=7", new_path="/privacy/", source="wordpress"),
            Redirect(old_path="/?cat=3", tag=cls.ofsted, source="wordpress"),
            Redirect(old_path="/?feed=rss2", new_path="/feeds/rss/", source="wordpress"),
            Redirect(old_path="/2014/04/14/pressure-of-work/", post=cls.post, source="wordpress"),
            Redirect(old_path="/category/inspection/", tag=cls.ofsted, source="wordpress"),
            Redirect(old_path="/tag/ofsted/", tag=cls.ofsted, source="wordpress"),
            Redirect(old_path="/feed/", new_path="/feeds/rss/", source="wordpress"),
            Redirect(old_path="/comments/feed/", new_path="/feeds/comments/", source="wordpress"),
            Redirect(old_path="/author/jane/", new_path="/", source="wordpress"),
        ]
        Redirect.objects.bulk_create(rows)
        cls.post_url = cls.post.get_absolute_url()

    def assertLeadsTo(self, old: str, new: str, **kwargs) -> None:
        response = self.client.get(old, **kwargs)
        self.assertEqual(response.status_code, 301, old)
        self.assertEqual(response["Location"], new, old)

    def assertNotRedirected(self, old: str, status: int = 404) -> None:
        response = self.client.get(old)
        self.assertEqual(response.status_code, status, old)
        self.assertFalse(response.has_header("Location"), old)

    # Blogger ---------------------------------------------------------------------

    def test_a_blogger_post(self):
        self.assertEqual(self.post_url, "/2014/04/15/pressure-of-work/")
        self.assertLeadsTo("/2014/04/pressure-of-work.html", self.post_url)

    def test_the_mobile_flag_is_ignored(self):
        for flag in ("?m=1", "?m=0"):
            self.assertLeadsTo(f"/2014/04/pressure-of-work.html{flag}", self.post_url)

    @override_settings(BLOG_COMMENTS_PER_PAGE=2)
    def test_show_comment_leads_to_the_comment_on_its_page(self):
        start = london(2014, 4, 15, 10, 0, 0, 123000)
        comments = [add_comment(self.post, start + datetime.timedelta(minutes=i)) for i in range(3)]
        # A reply in the first thread, a millisecond-exact time of its own.
        add_comment(self.post, start + datetime.timedelta(seconds=30), parent_id=comments[0].pk)
        third = comments[2]  # the third thread: page 2 of 2 threads a page
        self.assertLeadsTo(
            f"/2014/04/pressure-of-work.html?showComment={ms(third.submit_date)}",
            f"{self.post_url}?page=2#c{third.pk}",
        )
        self.assertLeadsTo(
            f"/2014/04/pressure-of-work.html?showComment={ms(start)}&m=1",
            f"{self.post_url}#c{comments[0].pk}",
        )

    def test_show_comment_with_no_comment_readers_see_leads_to_the_post(self):
        held = add_comment(self.post, london(2014, 4, 16, 8, 0, 0, 5000), is_public=False)
        for value in (ms(held.submit_date), ms(held.submit_date + datetime.timedelta(days=1)),
                      "", "abc", "9" * 40, "١٢٣"):  # fmt: skip
            self.assertLeadsTo(f"/2014/04/pressure-of-work.html?showComment={value}", self.post_url)

    def test_a_label_with_a_space_and_letters_beyond_ascii(self):
        self.assertLeadsTo("/search/label/Protecci%C3%B3n%20infantil", tag_url(self.label))
        self.assertEqual(tag_url(self.label), "/tags/protecci%C3%B3n-infantil/")

    def test_the_feed_and_its_rss_format(self):
        self.assertLeadsTo("/feeds/posts/default", "/feeds/atom/")
        # With no row of its own, the format is ignored like any other query...
        self.assertLeadsTo("/feeds/posts/default?alt=rss", "/feeds/atom/")
        # ...and with one, it names the item.
        Redirect.objects.create(old_path="/feeds/posts/default?alt=rss", new_path="/feeds/rss/")
        self.assertLeadsTo("/feeds/posts/default?alt=rss", "/feeds/rss/")

    def test_a_page_leads_where_its_row_says(self):
        self.assertLeadsTo("/p/about.html", "/privacy/")

    # WordPress -------------------------------------------------------------------

    def test_wordpress_ids_in_the_home_pages_query(self):
        self.assertLeadsTo("/?p=12", self.post_url)
        self.assertLeadsTo("/?page_id=7", "/privacy/")
        self.assertLeadsTo("/?cat=3", tag_url(self.ofsted))
        self.assertLeadsTo("/?feed=rss2", "/feeds/rss/")
        self.assertLeadsTo("/?p=12&utm_source=x", self.post_url)

    def test_the_home_page_is_served_when_no_row_applies(self):
        self.assertNotRedirected("/", status=200)
        self.assertNotRedirected("/?p=999", status=200)
        self.assertNotRedirected("/?utm_source=x", status=200)
        # A post readers cannot see is never sent to: its address would give it away.
        self.assertNotRedirected("/?p=13", status=200)

    def test_a_wordpress_permalink_only_where_the_site_has_no_such_page(self):
        self.assertLeadsTo("/2014/04/14/pressure-of-work/", self.post_url)
        # The same shape as the site's own addresses: the site's page wins.
        Redirect.objects.create(old_path=self.post_url, new_path="/privacy/")
        self.assertNotRedirected(self.post_url, status=200)

    def test_category_tag_feeds_and_author(self):
        self.assertLeadsTo("/category/inspection/", tag_url(self.ofsted))
        self.assertLeadsTo("/tag/ofsted/", tag_url(self.ofsted))
        self.assertLeadsTo("/feed/", "/feeds/rss/")
        self.assertLeadsTo("/comments/feed/", "/feeds/comments/")
        self.assertLeadsTo("/author/jane/", "/")

    def test_with_or_without_the_trailing_slash(self):
        self.assertLeadsTo("/tag/ofsted", tag_url(self.ofsted))
        self.assertLeadsTo("/feed", "/feeds/rss/")
        Redirect.objects.create(old_path="/about.html", new_path="/privacy/")
        self.assertLeadsTo("/about.html/", "/privacy/")
        # A permalink without its slash is first mended by APPEND_SLASH (it has the
        # shape of the site's own addresses), then led on.
        self.assertLeadsTo("/2014/04/14/pressure-of-work", "/2014/04/14/pressure-of-work/")

    # The response ----------------------------------------------------------------

    def test_a_301_that_browsers_keep_a_day_at_most(self):
        response = self.client.get("/feed/")
        self.assertEqual(response.status_code, 301)
        self.assertEqual(response["Cache-Control"], "max-age=86400")

    def test_head_is_redirected(self):
        response = self.client.head("/2014/04/pressure-of-work.html")
        self.assertEqual(response.status_code, 301)
        self.assertEqual(response["Location"], self.post_url)
        self.assertEqual(self.client.head("/?p=12")["Location"], self.post_url)

    def test_post_is_not_redirected(self):
        for url in ("/2014/04/pressure-of-work.html", "/?p=12", "/feed/"):
            response = self.client.post(url)
            self.assertNotEqual(response.status_code, 301, url)
            self.assertFalse(response.has_header("Location"), url)

    def test_nul_in_an_old_address_is_a_404_not_a_500(self):
        # PostgreSQL refuses NUL in a query: no look-up is made with one.
        self.client.raise_request_exception = False
        for url in ("/?p=%00", "/?page_id=1%002", "/no-such%00page/", "/x.html?showComment=%00"):
            self.assertIn(self.client.get(url).status_code, (200, 404), url)

    def test_a_draft_is_never_led_to(self):
        Redirect.objects.create(old_path="/2014/05/not-yet.html", post=self.draft)
        self.assertNotRedirected("/2014/05/not-yet.html")

    def test_never_off_the_site(self):
        # Rows written past the model's validation (a bulk write, a shell).
        hostile = ["//evil.example/", "https://evil.example/", "/\\evil.example/",
                   "javascript:alert(1)", "evil.example/x", "/ok\r\nSet-Cookie: x=1"]  # fmt: skip
        for i, target in enumerate(hostile):
            Redirect.objects.create(old_path=f"/hostile-{i}.html", new_path=target)
            with self.subTest(target=target), self.assertLogs("blog.redirects", "WARNING"):
                self.assertNotRedirected(f"/hostile-{i}.html")


class QueryCostTests(TestCase):
    """The middleware costs a page that is not a 404 nothing: the same queries with it
    as without it, from the page cache or built afresh."""

    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Pressure of work", published_at=london(2014, 4, 15, 9))
        Redirect.objects.create(old_path="/?p=12", post=cls.post)

    def setUp(self):
        Site.objects.get_current()  # cached for the process, as readers meet it

    def queries(self, url: str) -> tuple[int, int]:
        """The queries of ``url`` built afresh, then served from the page cache. (A new
        client each time: a client keeps the middleware it met first.)"""
        cache.clear()
        counts = []
        client = Client()
        for _ in range(2):
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            counts.append(len(queries))
        return counts[0], counts[1]

    def test_pages_pay_nothing(self):
        for url in ("/", "/?page=1", "/?utm_source=x", self.post.get_absolute_url(), "/tags/"):
            with self.subTest(url=url):
                with WITHOUT_MIDDLEWARE:
                    without = self.queries(url)
                self.assertEqual(self.queries(url), without)
        self.assertEqual(self.queries("/")[1], token_queries())  # the page cache's token alone

    def test_a_404_or_a_wordpress_id_pays_one_look_up(self):
        for url in ("/2014/04/no-such-post.html", "/?p=99"):
            with self.subTest(url=url):
                with WITHOUT_MIDDLEWARE:
                    without = self.queries(url)
                self.assertEqual(self.queries(url)[0], without[0] + 1)


class ValidationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Pressure of work")

    def errors(self, **fields) -> dict[str, list[str]]:
        row = Redirect(**{"old_path": "/old.html", **fields})
        try:
            row.full_clean()
        except ValidationError as error:
            return error.message_dict
        return {}

    def test_exactly_one_target(self):
        self.assertEqual(self.errors(), {"__all__": [NO_TARGET]})
        self.assertEqual(self.errors(post=self.post, new_path="/feeds/rss/"),
                         {"__all__": [MANY_TARGETS]})  # fmt: skip
        self.assertEqual(self.errors(post=self.post), {})

    def test_a_new_address_on_this_site_only(self):
        for target in ("https://evil.example/", "//evil.example", "/\\evil.example",
                       "javascript:alert(1)", "feeds/rss/", "/a b"):  # fmt: skip
            with self.subTest(target=target):
                self.assertEqual(self.errors(new_path=target), {"new_path": [NOT_LOCAL]})
        self.assertEqual(self.errors(new_path="/old.html"), {"new_path": [SAME_ADDRESS]})
        self.assertEqual(self.errors(new_path="/feeds/rss/?x=1#top"), {})

    def test_an_old_address_is_kept_as_the_look_up_meets_it(self):
        row = Redirect(
            old_path="https://example.blogspot.com/search/label/Child%20care#top",
            new_path="/tags/",
        )
        row.full_clean()
        self.assertEqual(row.old_path, "/search/label/Child care")
        self.assertIn("old_path", self.errors(old_path="old.html", new_path="/"))


class AdminTests(TestCase):
    LIST = reverse("admin:blog_redirect_changelist")
    ADD = reverse("admin:blog_redirect_add")

    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor")
        cls.post = make_post("Pressure of work", published_at=london(2014, 4, 15, 9))
        cls.row = Redirect.objects.create(
            old_path="/2014/04/pressure-of-work.html", post=cls.post, source="blogger"
        )
        Redirect.objects.create(old_path="/feed/", new_path="/feeds/rss/", source="wordpress")
        Redirect.objects.create(old_path="/old-about/", new_path="/privacy/")

    def setUp(self):
        self.client.force_login(self.staff)

    def form(self, **fields: str) -> dict[str, str]:
        return {"old_path": "/p/about.html", "post": "", "tag": "", "new_path": "", **fields}

    def test_the_list(self):
        page = soup(self.client.get(self.LIST))
        rows = [[cell.get_text(" ", strip=True) for cell in tr.select("th, td")[1:]]
                for tr in page.select("#result_list tbody tr")]  # fmt: skip
        self.assertEqual([row[:3] for row in rows], [
            ["/2014/04/pressure-of-work.html", "/2014/04/15/pressure-of-work/", "Blogger"],
            ["/feed/", "/feeds/rss/", "WordPress"],
            ["/old-about/", "/privacy/", "Added by hand"],
        ])  # fmt: skip
        links = [a["href"] for a in page.select("#result_list td.field-leads_to a")]
        self.assertEqual(links, ["/2014/04/15/pressure-of-work/", "/feeds/rss/", "/privacy/"])

    def test_a_row_readers_are_not_sent_along_says_why(self):
        draft = make_post("Not yet", status=Post.Status.DRAFT)
        Redirect.objects.create(old_path="/2014/05/not-yet.html", post=draft)
        page = soup(self.client.get(self.LIST, {"q": "not-yet"}))
        cell = page.select_one("#result_list td.field-leads_to")
        self.assertIsNone(cell.select_one("a"))
        self.assertIn("not followed: the post is not public", cell.get_text(" ", strip=True))

    def test_the_change_page_says_where_the_row_came_from(self):
        page = soup(self.client.get(reverse("admin:blog_redirect_change", args=[self.row.pk])))
        self.assertEqual(page.select_one("input[name=old_path]")["value"], self.row.old_path)
        self.assertIn("Blogger", page.select_one(".field-source_label").get_text())

    def test_search_and_filter(self):
        page = soup(self.client.get(self.LIST, {"q": "pressure"}))
        self.assertEqual(len(page.select("#result_list tbody tr")), 1)
        for value, expected in (("wordpress", ["/feed/"]), ("hand", ["/old-about/"])):
            page = soup(self.client.get(self.LIST, {"source": value}))
            found = [th.get_text(strip=True) for th in page.select("#result_list tbody th")]
            self.assertEqual(found, expected, value)

    def test_the_form_chooses_a_post_or_a_tag_by_searching(self):
        page = soup(self.client.get(self.ADD))
        for name in ("post", "tag"):
            self.assertIn("admin-autocomplete", page.select_one(f"select[name={name}]")["class"])

    def test_staff_add_one(self):
        response = self.client.post(self.ADD, self.form(new_path="/privacy/"))
        self.assertRedirects(response, self.LIST)
        row = Redirect.objects.get(old_path="/p/about.html")
        self.assertEqual((row.new_path, row.source), ("/privacy/", ""))
        self.client.logout()
        self.assertEqual(self.client.get("/p/about.html")["Location"], "/privacy/")

    def test_the_form_says_what_is_wrong(self):
        cases = [(self.form(), NO_TARGET),
                 (self.form(post=str(self.post.pk), new_path="/privacy/"), MANY_TARGETS),
                 (self.form(new_path="https://evil.example/"), NOT_LOCAL)]  # fmt: skip
        for data, message in cases:
            response = self.client.post(self.ADD, data)
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, message)
        self.assertFalse(Redirect.objects.filter(old_path="/p/about.html").exists())

    def test_an_edited_row_is_followed_at_once(self):
        self.client.logout()
        self.assertEqual(
            self.client.get(self.row.old_path)["Location"], self.post.get_absolute_url()
        )
        self.client.force_login(self.staff)
        token = current_token()
        change = reverse("admin:blog_redirect_change", args=[self.row.pk])
        response = self.client.post(
            change, self.form(old_path=self.row.old_path, new_path="/tags/")
        )
        self.assertRedirects(response, self.LIST)
        self.assertNotEqual(current_token(), token)  # the page cache starts afresh
        self.client.logout()
        self.assertEqual(self.client.get(self.row.old_path)["Location"], "/tags/")


class PageCacheTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Pressure of work", published_at=london(2014, 4, 15, 9))

    def test_a_new_or_changed_or_deleted_row_is_followed_at_once(self):
        old = "/2014/04/pressure-of-work.html"
        for _ in range(2):  # a 404, asked twice: whatever the cache keeps of it
            self.assertEqual(self.client.get(old).status_code, 404)
        token = current_token()
        row = Redirect.objects.create(old_path=old, new_path="/tags/")
        self.assertNotEqual(current_token(), token)
        self.assertEqual(self.client.get(old)["Location"], "/tags/")
        row.new_path, row.post = "", self.post
        row.save()
        self.assertEqual(self.client.get(old)["Location"], self.post.get_absolute_url())
        token = current_token()
        row.delete()
        self.assertNotEqual(current_token(), token)
        self.assertEqual(self.client.get(old).status_code, 404)


def test_the_middleware_sees_what_the_page_cache_serves_and_what_append_slash_mended():
    from django.conf import settings

    order = settings.MIDDLEWARE
    middleware = order.index("blog.redirects.OldAddressMiddleware")
    assert middleware + 1 == order.index("blog.pagecache.PageCacheMiddleware")
    assert middleware < order.index("django.middleware.common.CommonMiddleware")
