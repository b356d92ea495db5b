"""Related reading under a post, and its reading time."""

import time_machine
from django.test import SimpleTestCase, TestCase

from blog.models import Post, reading_minutes

from .factories import london, make_post, make_user
from .html import soup, text, texts

NOW = london(2020, 6, 1, 12)


def related_titles(client, post: Post) -> list[str]:
    return texts(soup(client.get(post.get_absolute_url())), ".related-reading li a")


@time_machine.travel(NOW, tick=False)
class RelatedReadingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        author = make_user()

        def post(title: str, tags: list[str], day: int, month: int = 5, **fields) -> Post:
            return make_post(
                title, author=author, tags=tags, published_at=london(2020, month, day), **fields
            )

        cls.post = post("The post", ["ofsted", "workforce", "training", "pay"], 10)
        cls.three = post("Three shared", ["ofsted", "workforce", "training"], 1)
        cls.two_old = post("Two shared, older", ["ofsted", "workforce"], 2)
        cls.two_new = post("Two shared, newer", ["Training", "pay", "other"], 3)
        cls.one = post("One shared", ["pay"], 20)
        cls.none = post("Nothing shared", ["elsewhere"], 21)
        post("Draft", ["ofsted", "workforce", "training", "pay"], 4, status=Post.Status.DRAFT)
        post("Scheduled", ["ofsted", "workforce", "training", "pay"], 1, month=7)
        cls.untagged = post("Untagged", [], 6)

    def test_most_shared_tags_first_then_newest_at_most_three(self):
        self.assertEqual(
            related_titles(self.client, self.post),
            ["Three shared", "Two shared, newer", "Two shared, older"],
        )

    def test_fewer_than_three_and_never_itself_drafts_or_scheduled_posts(self):
        self.assertEqual(
            related_titles(self.client, self.one),
            ["The post", "Two shared, newer"],
        )

    def test_the_section(self):
        page = soup(self.client.get(self.post.get_absolute_url()))
        section = page.select_one("nav.related-reading")
        self.assertEqual(section["aria-labelledby"], "related-reading-heading")
        self.assertEqual(text(section.select_one("h2#related-reading-heading")), "Related reading")
        first = section.select_one("li")
        self.assertEqual(first.a["href"], self.three.get_absolute_url())
        self.assertEqual(text(first.time), "1 May 2020")
        # Where to go next, once the post and its discussion are read: after the
        # discussion, before the older and newer posts.
        self.assertEqual(page.select_one("section#comments").find_next("nav"), section)
        self.assertEqual(section.find_next_sibling("nav")["class"], ["post-nav"])

    def test_no_related_posts_no_section(self):
        for post in (self.none, self.untagged):
            with self.subTest(post=post.title):
                response = self.client.get(post.get_absolute_url())
                self.assertNotContains(response, "Related reading")

    def test_one_query_and_none_for_an_untagged_post(self):
        post = Post.objects.prefetch_related("tags").get(pk=self.post.pk)
        with self.assertNumQueries(1):
            self.assertEqual(len(post.related_posts()), 3)
        untagged = Post.objects.prefetch_related("tags").get(pk=self.untagged.pk)
        with self.assertNumQueries(0):
            self.assertEqual(untagged.related_posts(), [])


class ReadingMinutesTests(SimpleTestCase):
    def test_two_hundred_words_a_minute_rounded_up_at_least_one(self):
        cases = {0: 1, 1: 1, 199: 1, 200: 1, 201: 2, 400: 2, 401: 3, 1000: 5, 1001: 6}
        self.assertEqual({words: reading_minutes(words) for words in cases}, cases)


class ReadingTimeTests(TestCase):
    def test_the_words_of_the_rendered_body(self):
        post = make_post(body="**Bold** words, a [link](https://example.org/), and *more*.")
        self.assertEqual(post.word_count, 6)
        self.assertEqual(post.reading_minutes, 1)

    def test_shown_in_the_post_header_and_not_in_lists(self):
        post = make_post("Long", body=" ".join(["word"] * 401))
        self.assertEqual((post.word_count, post.reading_minutes), (401, 3))
        page = soup(self.client.get(post.get_absolute_url()))
        self.assertEqual(texts(page, ".post__header .post-meta__reading"), ["3 min read"])
        self.assertNotContains(self.client.get("/"), "min read")
