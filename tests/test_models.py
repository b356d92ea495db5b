import datetime

import time_machine
from django.db import IntegrityError, transaction
from django.test import TestCase

from blog.models import Post, Reference

from .factories import london, make_post, make_user


class PublishedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.author = make_user()
        cls.live = make_post("Live", author=cls.author, published_at=london(2020, 1, 1, 9))
        cls.draft = make_post(
            "Draft", author=cls.author, published_at=london(2020, 1, 2), status=Post.Status.DRAFT
        )
        cls.scheduled = make_post(
            "Scheduled", author=cls.author, published_at=london(2020, 6, 1, 8)
        )

    @time_machine.travel(london(2020, 3, 1, 12), tick=False)
    def test_only_published_and_due_posts_are_visible(self):
        self.assertQuerySetEqual(Post.objects.published(), [self.live])

    def test_a_scheduled_post_appears_on_time_without_restart(self):
        with time_machine.travel(london(2020, 6, 1, 7, 59), tick=False):
            self.assertNotIn(self.scheduled, Post.objects.published())
        with time_machine.travel(london(2020, 6, 1, 8, 0), tick=False):
            self.assertIn(self.scheduled, Post.objects.published())

    @time_machine.travel(london(2020, 3, 1, 12), tick=False)
    def test_staff_see_everything(self):
        staff = make_user(is_staff=True)
        self.assertEqual(Post.objects.visible_to(staff).count(), 3)
        self.assertEqual(Post.objects.visible_to(make_user()).count(), 1)


class SlugTests(TestCase):
    def test_slug_comes_from_the_title(self):
        post = make_post("Ofsted – and the TIWPIR problem")
        self.assertEqual(post.slug, "ofsted-and-the-tiwpir-problem")

    def test_untitled_post_gets_its_opening_words_never_an_invented_title(self):
        post = make_post("", "I’m not really surprised to hear, as reported in the press.")
        self.assertEqual(post.title, "")
        self.assertEqual(post.display_title, "I’m not really surprised to hear…")
        self.assertEqual(str(post), "I’m not really surprised to hear…")
        self.assertEqual(post.slug, "im-not-really-surprised-to-hear")

    def test_short_untitled_post_has_no_ellipsis(self):
        self.assertEqual(make_post("", "Answers please.").display_title, "Answers please")

    def test_slugs_are_made_unique(self):
        first, second = make_post("Same"), make_post("Same")
        self.assertEqual((first.slug, second.slug), ("same", "same-2"))

    def test_slugs_are_unique_in_the_database(self):
        make_post("Taken")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Post.objects.create(slug="taken", body="x", author=make_user())

    def test_a_long_title_gives_a_slug_that_fits(self):
        post = make_post(("word " * 40)[:200])
        self.assertLessEqual(len(post.slug), Post._meta.get_field("slug").max_length)


class UrlTests(TestCase):
    def test_url_uses_the_london_calendar_day(self):
        # 00:30 on 15 April in London is still 14 April in UTC.
        post = make_post("Late", published_at=london(2014, 4, 15, 0, 30))
        self.assertEqual(post.get_absolute_url(), "/2014/04/15/late/")
        self.assertEqual(post.published_on, datetime.date(2014, 4, 15))


class ReferenceTests(TestCase):
    def test_references_are_ordered_by_number(self):
        post = make_post(references={2: "Second", 1: "First"})
        self.assertEqual([r.number for r in post.references.all()], [1, 2])

    def test_number_is_unique_per_post(self):
        post = make_post(references={1: "First"})
        with self.assertRaises(IntegrityError), transaction.atomic():
            Reference.objects.create(post=post, number=1, citation="Again")
        Reference.objects.create(post=make_post("Other"), number=1, citation="Fine")

    def test_body_is_rerendered_when_references_change(self):
        post = make_post(body="Cited [1] and [2].", references={1: "One"})
        self.assertIn('id="cite-1"', post.body_html)
        self.assertNotIn("#ref-2", post.body_html)

        reference = Reference.objects.create(post=post, number=2, citation="Two")
        post.refresh_from_db()
        self.assertIn('id="cite-2"', post.body_html)

        reference.delete()
        post.refresh_from_db()
        self.assertNotIn("#ref-2", post.body_html)

    def test_backlinks_only_for_cited_references(self):
        post = make_post(body="Only [1] here.", references={1: "One", 3: "Three"})
        cited = {r.number: r.is_cited for r in post.references_with_backlinks()}
        self.assertEqual(cited, {1: True, 3: False})

    def test_deleting_a_post_deletes_its_references(self):
        post = make_post(references={1: "One"})
        post.delete()
        self.assertFalse(Reference.objects.exists())


class TagTests(TestCase):
    def test_tags_are_case_insensitive_and_may_contain_spaces(self):
        first = make_post("One", tags=["Ofsted", "mandatory reporting"])
        second = make_post("Two", tags=["ofsted"])
        self.assertEqual(
            sorted(t.slug for t in first.tags.all()), ["mandatory-reporting", "ofsted"]
        )
        self.assertEqual(list(second.tags.values_list("name", flat=True)), ["Ofsted"])


class NeighbourTests(TestCase):
    def test_previous_and_next_skip_hidden_posts_and_order_ties_by_id(self):
        author = make_user()
        at = london(2014, 4, 15, 10)
        first = make_post("First", author=author, published_at=at)
        second = make_post("Second", author=author, published_at=at)  # same moment
        make_post("Hidden", author=author, published_at=at + datetime.timedelta(hours=1),
                  status=Post.Status.DRAFT)  # fmt: skip
        third = make_post("Third", author=author, published_at=at + datetime.timedelta(hours=2))
        self.assertEqual((first.get_previous_post(), first.get_next_post()), (None, second))
        self.assertEqual((second.get_previous_post(), second.get_next_post()), (first, third))
        self.assertEqual((third.get_previous_post(), third.get_next_post()), (second, None))
