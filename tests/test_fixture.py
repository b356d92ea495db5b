import unittest

from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import TestCase
from taggit.models import Tag

from blog.models import Post, Reference, TaggedPost

from .html import soup
from .seed import read_seed, seed_available


def body_lines(html: str) -> list[str]:
    """The body's text as a reader sees it: one entry a paragraph or line break."""
    lines = []
    for paragraph in BeautifulSoup(html, "html.parser").find_all("p"):
        for br in paragraph.find_all("br"):
            br.replace_with("\n")
        lines += [" ".join(line.split()) for line in paragraph.get_text().split("\n")]
    return [line for line in lines if line]


def snapshot() -> dict:
    return {
        model.__name__: sorted(map(repr, model.objects.values()))
        for model in (Post, Reference, TaggedPost, Tag, get_user_model())
    }


@unittest.skipUnless(
    seed_available(), "the client's seed (../shared/seeds/) is not beside the repo"
)
class SeedFidelityTests(TestCase):
    """The site carries the April 2014 entries word for word, as the seed has them."""

    fixtures = ["april_2014"]

    @classmethod
    def setUpTestData(cls):
        cls.seed = read_seed()

    def test_seven_entries_on_five_days(self):
        self.assertEqual(len(self.seed), 7)
        self.assertEqual(Post.objects.published().count(), 7)
        self.assertEqual(len({entry.day for entry in self.seed}), 5)

    def test_titles_dates_and_same_day_order(self):
        posts = list(Post.objects.published())  # newest first
        self.assertEqual([p.title for p in posts], [e.title for e in self.seed])
        self.assertEqual([p.published_on for p in posts], [e.day for e in self.seed])

    def test_every_paragraph_word_for_word_on_the_page(self):
        for entry, post in zip(self.seed, Post.objects.published(), strict=True):
            with self.subTest(post=post.display_title):
                page = soup(self.client.get(post.get_absolute_url()))
                shown = body_lines(str(page.select_one(".post__body")))
                expected = [" ".join(line.split()) for line in entry.lines]
                self.assertEqual(shown, expected)

    def test_references_word_for_word(self):
        for entry, post in zip(self.seed, Post.objects.published(), strict=True):
            with self.subTest(post=post.display_title):
                self.assertEqual(
                    {r.number: r.citation for r in post.references.all()}, entry.references
                )
                self.assertFalse(any(r.url for r in post.references.all()), "no invented links")

    def test_letters_are_block_quotes(self):
        post = Post.objects.get(title__startswith="Is it any wonder")
        quotes = BeautifulSoup(post.body_html, "html.parser").find_all("blockquote")
        self.assertEqual(len(quotes), 2)
        self.assertTrue(quotes[0].get_text().strip().startswith("Dear (County Council),"))
        self.assertTrue(quotes[1].get_text().strip().startswith("Dear Mr Mills,"))

    def test_no_invented_links(self):
        for post in Post.objects.all():
            links = BeautifulSoup(post.body_html, "html.parser").find_all("a")
            self.assertTrue(all(a["href"].startswith("#ref-") for a in links), post)


class FixtureTests(TestCase):
    fixtures = ["april_2014"]

    def test_required_tags(self):
        def tags(title):
            return set(Post.objects.get(title=title).tags.values_list("slug", flat=True))

        self.assertIn("ofsted", tags("Ofsted – and the TIWPIR problem"))
        self.assertIn("mandatory-reporting", tags("Mandatory Reporting - the wrong approach"))
        self.assertIn("workforce", tags("Stepping up but not staying in?"))
        self.assertIn("workforce", tags("Pressure of Work"))

    def test_learning_organisations_calls_for_answers(self):
        post = Post.objects.get(title="Learning Organisations")
        self.assertTrue(
            post.call_for_answers.startswith("Does your organisation create conditions")
        )
        self.assertIn(post.call_for_answers.split("?")[0], post.body)
        others = Post.objects.exclude(pk=post.pk).exclude(call_for_answers="")
        self.assertFalse(others.exists())

    def test_author_account_cannot_sign_in(self):
        author = get_user_model().objects.get(username="mills")
        self.assertFalse(author.has_usable_password())
        self.assertFalse(author.is_staff)
        self.assertEqual(set(Post.objects.values_list("author", flat=True)), {author.pk})

    def test_loading_twice_changes_nothing(self):
        before = snapshot()
        call_command("loaddata", "april_2014", verbosity=0)
        self.assertEqual(snapshot(), before)

    def test_loading_keeps_body_html_in_step_with_the_references(self):
        post = Post.objects.get(title="Learning Organisations")
        self.assertIn('id="cite-1"', post.body_html)
        self.assertIn('id="cite-2"', post.body_html)


class LoadCommandTests(TestCase):
    def test_fills_an_empty_site_and_never_overwrites(self):
        call_command("load_april_2014", verbosity=0)
        self.assertEqual(Post.objects.count(), 7)
        post = Post.objects.get(title="Pressure of Work")
        post.title = "Pressure of Work (edited by staff)"
        post.save()
        call_command("load_april_2014", verbosity=0)
        self.assertEqual(Post.objects.count(), 7)
        post.refresh_from_db()
        self.assertEqual(post.title, "Pressure of Work (edited by staff)")
