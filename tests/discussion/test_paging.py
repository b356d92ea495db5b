"""A huge discussion is paged by thread (a top-level comment with all its replies),
oldest first: every comment on exactly one page, links to any comment landing on its
page, and the same few queries on every page, whatever the number of comments."""

from __future__ import annotations

import datetime

import feedparser
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blog.models import Comment, Post

from ..factories import make_post, make_user
from ..html import soup, text, texts
from . import post_comment

THREADS = 55  # visible threads: 6 pages of 10, 2 pages of the default 50
PER_PAGE = 10
REMOVED_TOP = 13  # the thread whose top-level comment was removed (its reply stays)


def add(post: Post, parent: Comment | None = None, **fields) -> Comment:
    comment = Comment(
        content_type=ContentType.objects.get_for_model(Post),
        object_pk=str(post.pk),
        site=Site.objects.get_current(),
        user_name=fields.pop("user_name", "Reader"),
        user_email="reader@example.org",
        comment=fields.pop("comment", "Words."),
        submit_date=timezone.now(),
        parent_id=parent.pk if parent else 0,
        **fields,
    )
    comment.save()
    return comment


def build_discussion(post: Post) -> list[list[Comment]]:
    """THREADS visible threads, the i-th with a chain of i % 4 replies (down to the
    deepest level), in among threads readers never see. Returns the visible threads'
    comments, oldest thread first."""
    threads = []
    for i in range(THREADS):
        chain = [add(post, comment=f"Thread {i}")]
        for depth in range(1, i % 4 + 1):
            chain.append(add(post, chain[-1], comment=f"Thread {i} reply {depth}"))
        threads.append(chain)
        if i == 20:  # threads with nothing published: no place of their own
            add(post, comment="Held", is_public=False)
            gone = add(post, comment="Removed")
            add(post, gone, comment="Removed reply", is_removed=True)
            Comment.objects.filter(pk=gone.pk).update(is_removed=True)
    # Removed after its replies were written: they keep their thread's place.
    removed = threads[REMOVED_TOP].pop(0)
    Comment.objects.filter(pk=removed.pk).update(is_removed=True)
    return threads


class CommentPagesTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("A huge thread", "Tell us.", call_for_answers="What would you change?")
        cls.threads = build_discussion(cls.post)
        cls.comments = [comment for thread in cls.threads for comment in thread]
        # Highlighted answers on page 1 (thread 3) and page 3 (thread 24).
        cls.answers = [cls.threads[3][1], cls.threads[24][0]]
        Comment.objects.filter(pk__in=[c.pk for c in cls.answers]).update(is_highlighted=True)
        cls.url = cls.post.get_absolute_url()

    def page(self, number: int | None = None):
        query = f"?page={number}" if number else ""
        response = self.client.get(self.url + query)
        self.assertEqual(response.status_code, 200)
        return soup(response)

    @staticmethod
    def article_ids(page) -> list[int]:
        return [int(a["id"][1:]) for a in page.select("#comments article.comment")]

    @staticmethod
    def top_level_ids(page) -> list[int]:
        return [int(a["id"][1:]) for a in page.select("#comments > .comment-list > li > article")]


@override_settings(BLOG_COMMENTS_PER_PAGE=PER_PAGE)
class PagingTests(CommentPagesTestCase):
    def test_every_comment_is_on_exactly_one_page_with_its_whole_thread(self):
        seen: list[int] = []
        for number in range(1, 7):
            with self.subTest(page=number):
                page = self.page(number)
                expected = self.threads[(number - 1) * PER_PAGE : number * PER_PAGE]
                # Threads in order, each with all its replies nested in its article.
                self.assertEqual(self.top_level_ids(page), [t[0].pk for t in expected])
                self.assertEqual(self.article_ids(page), [c.pk for t in expected for c in t])
                for thread in expected:
                    root = page.select_one(f"#c{thread[0].pk}")
                    for reply in thread[1:]:
                        self.assertIsNotNone(root.select_one(f"article#c{reply.pk}"))
                seen += self.article_ids(page)
        self.assertEqual(sorted(seen), sorted(c.pk for c in self.comments))
        self.assertNotIn("Held", text(self.page(3)))

    def test_page_two_shows_the_eleventh_to_twentieth_threads(self):
        page = self.page(2)
        self.assertEqual(
            texts(page, "#comments > .comment-list > li > article > * > .comment__text"),
            [f"Thread {i}" if i != REMOVED_TOP else f"Thread {i} reply 1" for i in range(10, 20)],
        )

    def test_the_heading_counts_every_published_comment_on_every_page(self):
        total = len(self.comments)
        self.assertGreater(total, 100)
        for number in (1, 4):
            heading = self.page(number).select_one("#comments-heading")
            self.assertEqual(text(heading), f"{total} comments")

    def test_the_form_is_on_every_page(self):
        for number in (1, 6):
            self.assertIsNotNone(self.page(number).select_one("#comments #comment-form"))

    def test_pages_that_do_not_exist_are_not_found(self):
        for page in ("0", "7", "999", "abc", "-1", "2.5", "1e3"):
            with self.subTest(page=page):
                response = self.client.get(f"{self.url}?page={page}")
                self.assertEqual(response.status_code, 404)
        self.assertEqual(self.top_level_ids(self.page()), self.top_level_ids(self.page(1)))
        self.assertEqual(self.client.get(f"{self.url}?page=").status_code, 200)

    def test_navigation_between_pages(self):
        page = self.page(3)
        navs = page.select("#comments nav")
        self.assertEqual(
            [nav["aria-label"] for nav in navs],
            ["Comment pages", "Comment pages, after the comments"],
        )
        top, bottom = navs
        # One above the list, one below it.
        self.assertIs(top.find_next_sibling(), page.select_one(".comment-list"))
        self.assertIs(page.select_one(".comment-list").find_next_sibling(), bottom)
        links = {a["href"] for a in top.select("a[href]")}
        self.assertTrue(all(href.endswith("#comments") for href in links), links)
        self.assertEqual(top.select_one("a[rel=prev]")["href"], f"{self.url}?page=2#comments")
        self.assertEqual(top.select_one("a[rel=next]")["href"], f"{self.url}?page=4#comments")
        self.assertEqual(text(top.select_one("[aria-current=page]")), "Page 3 of 6")
        # The first page is the post's own address.
        self.assertIn(f"{self.url}#comments", links)
        self.assertNotIn(f"{self.url}?page=1#comments", links)
        self.assertIn(f"{self.url}?page=6#comments", links)

        first, last = self.page(1), self.page(6)
        self.assertIsNone(first.select_one("#comments a[rel=prev]"))
        self.assertIsNone(last.select_one("#comments a[rel=next]"))
        self.assertEqual(text(last.select_one("[aria-current=page]")), "Page 6 of 6")

    def test_the_canonical_address_names_the_page(self):
        for number, query in ((1, ""), (2, "?page=2")):
            link = self.page(number).select_one("link[rel=canonical]")["href"]
            self.assertTrue(link.endswith(self.url + query), link)

    def test_queries_are_the_same_on_every_page_whatever_the_number_of_comments(self):
        small = make_post("A smaller thread", "Tell us.", call_for_answers="Why?")
        for i in range(PER_PAGE + 1):
            top = add(small)
            if i == 0:
                add(small, top, is_highlighted=True)
        # What every page shares and is kept between requests (the Site, the sidebar)
        # is fetched once first, as for a reader arriving at any page.
        Site.objects.get_current()
        self.client.get(f"{self.url}?page=2")
        counts, comment_queries = [], []
        for url in (f"{self.url}", f"{self.url}?page=3", f"{small.get_absolute_url()}?page=2"):
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get(url).status_code, 200)
            counts.append(len(queries))
            comment_queries.append(sum("django_comments" in q["sql"] for q in queries))
        self.assertEqual(len(set(counts)), 1, counts)
        # The post with its comment and thread counts, the page's comments, the
        # highlighted answers with their pages.
        self.assertEqual(comment_queries, [3, 3, 3])


@override_settings(BLOG_COMMENTS_PER_PAGE=PER_PAGE)
class CommentLinkTests(CommentPagesTestCase):
    def test_a_deep_reply_on_page_three_links_to_page_three(self):
        deep = self.threads[27][-1]  # 27 % 4 == 3 replies: the deepest level
        self.assertEqual(deep.level, 3)
        self.assertEqual(deep.get_absolute_url(), f"{self.url}?page=3#c{deep.pk}")
        page = self.page(3)
        article = page.select_one(f"article#c{deep.pk}")
        self.assertIsNotNone(article)
        self.assertEqual(article.select_one(".comment__permalink")["href"], deep.get_absolute_url())
        self.assertNotIn(deep.pk, self.article_ids(self.page(2)))

    def test_first_page_comments_link_to_the_post_itself(self):
        comment = self.threads[0][0]
        self.assertEqual(comment.get_absolute_url(), f"{self.url}#c{comment.pk}")
        permalink = self.page(1).select_one(f"#c{comment.pk} .comment__permalink")
        self.assertEqual(permalink["href"], f"{self.url}#c{comment.pk}")

    def test_a_reply_whose_top_level_comment_was_removed_stays_on_its_threads_page(self):
        orphan = self.threads[REMOVED_TOP][0]
        self.assertEqual(orphan.get_absolute_url(), f"{self.url}?page=2#c{orphan.pk}")
        self.assertIn(orphan.pk, self.top_level_ids(self.page(2)))

    def test_ranks_for_a_list_agree_with_each_comments_own(self):
        ranked = Comment.objects.filter(pk__in=[c.pk for c in self.comments]).with_thread_ranks()
        with self.assertNumQueries(1):
            pages = {c.pk: c.comment_page for c in ranked}
        for comment in self.comments:
            self.assertEqual(pages[comment.pk], Comment.objects.get(pk=comment.pk).comment_page)
        self.assertEqual(sorted(set(pages.values())), [1, 2, 3, 4, 5, 6])

    def test_highlighted_answers_link_to_the_page_that_shows_them(self):
        on_one, on_three = self.answers
        for number, links in (
            (1, [f"#c{on_one.pk}", f"{self.url}?page=3#c{on_three.pk}"]),
            (3, [f"{self.url}#c{on_one.pk}", f"#c{on_three.pk}"]),
            (5, [f"{self.url}#c{on_one.pk}", f"{self.url}?page=3#c{on_three.pk}"]),
        ):
            with self.subTest(page=number):
                page = self.page(number)
                answers = page.select("aside.answers-please .answers-please__answers li a")
                self.assertEqual([a["href"] for a in answers], links)
        self.assertIsNotNone(self.page(3).select_one(f"#c{on_three.pk}.comment--answer"))

    def test_the_comments_feed_links_each_comment_to_its_page(self):
        entries = feedparser.parse(self.client.get(reverse("blog:feed-comments")).content).entries
        links = {entry.link for entry in entries}
        newest = Comment.objects.visible().order_by("-submit_date", "-pk")[:30]
        self.assertEqual(len(links), 30)
        for comment in newest:
            self.assertTrue(
                any(link.endswith(comment.get_absolute_url()) for link in links),
                comment.get_absolute_url(),
            )
        self.assertTrue(any("?page=6#c" in link for link in links))

    def test_an_old_address_keeps_its_page(self):
        day = self.post.published_at - datetime.timedelta(days=3)
        old = f"/{day:%Y/%m/%d}/{self.post.slug}/?page=3"
        response = self.client.get(old)
        self.assertRedirects(response, f"{self.url}?page=3", status_code=301)


@override_settings(BLOG_COMMENTS_PER_PAGE=PER_PAGE)
class PostingTests(CommentPagesTestCase):
    def test_a_new_comment_lands_on_the_last_page_and_a_reply_on_its_threads(self):
        self.client.force_login(make_user("rita", first_name="Rita", last_name="Reader"))
        response = post_comment(self.client, self.post, comment="A new thread at last.")
        final = self.client.get(response["Location"])
        comment = Comment.objects.get(comment="A new thread at last.")
        self.assertRedirects(final, f"{self.url}?page=6#c{comment.pk}")
        self.assertIn(comment.pk, self.top_level_ids(self.page(6)))

        parent = self.threads[24][0]  # page 3
        response = post_comment(self.client, self.post, reply_to=parent.pk, comment="Reply.")
        reply = Comment.objects.get(comment="Reply.")
        self.assertRedirects(
            self.client.get(response["Location"]), f"{self.url}?page=3#c{reply.pk}"
        )
        self.assertIsNotNone(self.page(3).select_one(f"#c{parent.pk} article#c{reply.pk}"))


class DefaultPageSizeTests(CommentPagesTestCase):
    def test_fifty_threads_to_a_page(self):
        first, second = self.page(1), self.page(2)
        self.assertEqual(len(self.top_level_ids(first)), 50)
        self.assertEqual(self.top_level_ids(second), [t[0].pk for t in self.threads[50:]])
        self.assertEqual(text(first.select_one("[aria-current=page]")), "Page 1 of 2")
        self.assertEqual(self.client.get(f"{self.url}?page=3").status_code, 404)
        last = self.threads[-1][-1]
        self.assertEqual(last.get_absolute_url(), f"{self.url}?page=2#c{last.pk}")
