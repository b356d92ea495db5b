"""Moderation in the admin: the comments list opens on the queue, shows each comment in
full with why it was held, and approves or removes it from its own row; the change
form speaks plainly. And the posts list: badges, and filters without stray entries."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from blog.models import Comment, Post

from .discussion import comment_and_confirm, post_comment
from .factories import make_post, make_staff, make_user
from .html import soup

CHANGELIST = reverse("admin:blog_comment_changelist")
HELD_TEXT = "Cheap https://a.example https://b.example https://c.example"


@override_settings(BLOG_COMMENTS_RATE_LIMIT=100, MANAGERS=[("Mo", "mo@example.org")])
class QueueTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("moderator")
        cls.post = make_post("Learning Organisations")
        client = Client()
        cls.published = comment_and_confirm(
            client, cls.post, name="Ann", comment="A fine answer", followup="on"
        )
        cls.held = comment_and_confirm(
            client, cls.post, name="Linky", email="linky@example.org", comment=HELD_TEXT
        )

    def setUp(self):
        self.client.force_login(self.staff)

    def test_a_held_comment_keeps_why_it_was_held(self):
        self.assertEqual(self.held.hold_reasons, ["it has more than 2 links"])
        self.assertFalse(self.held.is_public)
        self.assertEqual(self.published.hold_reasons, [])

    def test_the_reasons_are_the_rules_that_held_it_not_todays(self):
        with override_settings(BLOG_COMMENTS_MAX_LINKS=10):
            row = soup(self.client.get(CHANGELIST + "?moderation=held")).select_one(
                "#result_list .comment-row__held"
            )
        self.assertEqual(row.get_text(strip=True), "Held because it has more than 2 links.")

    def test_the_list_opens_on_the_queue_when_anything_waits(self):
        response = self.client.get(CHANGELIST)
        self.assertRedirects(response, CHANGELIST + "?moderation=held")
        queue = soup(self.client.get(CHANGELIST + "?moderation=held"))
        self.assertEqual(queue.select_one("#content h1").get_text(), "Comments awaiting approval")

    def test_all_stays_reachable_and_chosen_filters_are_kept(self):
        page = soup(self.client.get(CHANGELIST + "?moderation=held"))
        moderation = page.select_one("#changelist-filter details[data-filter-title=moderation]")
        links = {a.get_text(strip=True): a["href"] for a in moderation.select("a")}
        self.assertEqual(links["All"], "?moderation=all")
        everything = self.client.get(CHANGELIST + links["All"])
        self.assertEqual(everything.status_code, 200)
        self.assertEqual(len(soup(everything).select("#result_list tbody tr")), 2)
        for query in ("?q=fine", "?o=1", "?p=1", "?is_highlighted__exact=0"):
            with self.subTest(query=query):
                self.assertEqual(self.client.get(CHANGELIST + query).status_code, 200)

    def test_nothing_waiting_no_redirect(self):
        Comment.objects.filter(pk=self.held.pk).update(is_removed=True)
        self.assertEqual(self.client.get(CHANGELIST).status_code, 200)

    def test_each_row_shows_the_whole_text_the_post_and_the_state(self):
        long_text = " ".join(f"word{i}" for i in range(80))
        Comment.objects.filter(pk=self.published.pk).update(comment=long_text)
        page = soup(self.client.get(CHANGELIST + "?moderation=public"))
        (row,) = page.select("#result_list tbody tr")
        self.assertEqual(row.select_one(".comment-row__text").get_text(strip=True), long_text)
        self.assertEqual(
            row.select_one(".comment-row__post a")["href"], self.post.get_absolute_url()
        )
        self.assertEqual(row.select_one("td.field-state .badge").get_text(strip=True), "Published")
        self.assertIsNone(row.select_one(".comment-row__held"))

    def test_readers_words_are_escaped(self):
        Comment.objects.filter(pk=self.held.pk).update(
            comment='<script>alert(1)</script><a href="https://x.example">x</a>',
            user_name="<b>Bold</b>",
        )
        response = self.client.get(CHANGELIST + "?moderation=held")
        self.assertNotContains(response, "<script>alert(1)")
        self.assertNotContains(response, '<a href="https://x.example">')
        self.assertNotContains(response, "<b>Bold</b>")
        self.assertContains(response, "&lt;script&gt;")

    def buttons(self, query: str = "?moderation=held") -> dict[str, str]:
        page = soup(self.client.get(CHANGELIST + query))
        (row,) = page.select("#result_list tbody tr")
        form = row.find_parent("form")
        self.assertEqual(form["method"], "post")
        self.assertIsNotNone(form.select_one("input[name=csrfmiddlewaretoken]"))
        return {b.get_text(strip=True): b["formaction"] for b in row.select("button")}

    def test_approve_from_the_row_publishes_and_tells_the_followers(self):
        buttons = self.buttons()
        self.assertEqual(sorted(buttons), ["Approve", "Remove"])
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(buttons["Approve"])
        self.assertRedirects(
            response, CHANGELIST + "?moderation=held", fetch_redirect_response=False
        )
        self.held.refresh_from_db()
        self.assertTrue(self.held.is_public)
        # The list's own action's path: the follower is e-mailed, the page shows it.
        self.assertEqual([m.to for m in mail.outbox], [["ann@example.org"]])
        self.client.logout()
        self.assertContains(self.client.get(self.post.get_absolute_url()), "Cheap")

    def test_remove_from_the_row(self):
        buttons = self.buttons("?moderation=public")
        self.assertEqual(list(buttons), ["Remove"])  # published: nothing to approve
        self.client.post(buttons["Remove"])
        self.published.refresh_from_db()
        self.assertTrue(self.published.is_removed)
        self.client.logout()
        self.assertNotContains(self.client.get(self.post.get_absolute_url()), "A fine answer")

    def test_the_buttons_need_post_csrf_and_the_permission(self):
        url = reverse("admin:blog_comment_approve", args=[self.held.pk])
        self.assertEqual(self.client.get(url).status_code, 405)
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(self.staff)
        self.assertEqual(strict.post(url).status_code, 403)
        # Staff who may change comments but not moderate them: no buttons, no action.
        clerk = make_user("clerk", is_staff=True)
        clerk.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="blog", codename__in=["view_comment", "change_comment"]
            )
        )
        self.client.force_login(clerk)
        page = soup(self.client.get(CHANGELIST + "?moderation=held"))
        self.assertEqual(page.select("#result_list button"), [])
        self.assertEqual(self.client.post(url).status_code, 403)
        self.held.refresh_from_db()
        self.assertFalse(self.held.is_public)
        self.assertEqual(
            self.client.post(reverse("admin:blog_comment_approve", args=[0])).status_code, 403
        )

    def test_a_missing_comment_is_a_404(self):
        url = reverse("admin:blog_comment_approve", args=[999999])
        self.assertEqual(self.client.post(url).status_code, 404)

    def test_the_change_form_speaks_plainly(self):
        page = soup(self.client.get(reverse("admin:blog_comment_change", args=[self.held.pk])))
        labels = {label.get_text(strip=True).rstrip(":") for label in page.select("label")}
        for plain in ("Name", "E-mail address", "Website", "Text", "Approved", "Removed"):
            self.assertIn(plain, labels)
        for jargon in ("User's name", "User's URL", "Is public", "Is removed"):
            self.assertNotIn(jargon, labels)
        readonly = page.get_text(" ", strip=True)
        self.assertIn("Held because", readonly)
        self.assertIn("it has more than 2 links", readonly)
        self.assertIn("Posted", readonly)


@override_settings(BLOG_COMMENTS_RATE_LIMIT=100, BLOG_COMMENTS_MODERATE_AFTER_DAYS=30)
class ReasonsTests(TestCase):
    def test_each_reason_is_kept_and_staff_are_not_held(self):
        old = make_post("Old news", published_at=timezone.now() - datetime.timedelta(days=90))
        comment = comment_and_confirm(Client(), old, comment="Cheap casino")
        self.assertEqual(
            comment.hold_reasons, ["it contains “casino”", "the post is more than 30 days old"]
        )
        staff = Client()
        staff.force_login(make_staff("editor", first_name="Ed", last_name="Itor"))
        post_comment(staff, old, comment="Casino, noted.")
        mine = Comment.objects.get(user_name="Ed Itor")
        self.assertTrue(mine.is_public)
        self.assertEqual(mine.hold_reasons, [])


class PostsListTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.author = make_user("e.editor", first_name="Eve", last_name="Editor")
        cls.nameless = make_user("jbloggs")
        make_post("Live one", tags=["Ofsted"], author=cls.author)
        make_post("Drafted", status=Post.Status.DRAFT, tags=["workforce"], author=cls.nameless)
        make_post(
            "Later", published_at=timezone.now() + datetime.timedelta(days=2), author=cls.author
        )
        Tag.objects.create(name="Orphaned", slug="orphaned")  # no post has it

    def setUp(self):
        self.client.force_login(make_staff())

    def page(self, query: str = ""):
        return soup(self.client.get(reverse("admin:blog_post_changelist") + query))

    def titles(self, query: str) -> list[str]:
        return sorted(
            th.get_text(strip=True) for th in self.page(query).select("#result_list tbody th")
        )

    def test_status_badges_and_authors_by_name(self):
        rows = {
            row.select_one("th").get_text(strip=True): (
                row.select_one("td.field-visibility .badge")["class"],
                row.select_one("td.field-author_name").get_text(strip=True),
            )
            for row in self.page().select("#result_list tbody tr")
        }
        self.assertEqual(rows, {
            "Live one": (["badge", "badge--live"], "Eve Editor"),
            "Drafted": (["badge", "badge--draft"], "The editors"),
            "Later": (["badge", "badge--scheduled"], "Eve Editor"),
        })  # fmt: skip

    def test_the_list_is_called_posts(self):
        self.assertEqual(self.page().select_one("#content h1").get_text(), "Posts")

    def test_the_status_filter_is_what_readers_get(self):
        self.assertEqual(self.titles("?visibility=draft"), ["Drafted"])
        self.assertEqual(self.titles("?visibility=scheduled"), ["Later"])
        self.assertEqual(self.titles("?visibility=live"), ["Live one"])

    def test_the_tag_filter_lists_only_tags_with_posts(self):
        filters = self.page().select_one("#changelist-filter")
        tags = [a.get_text(strip=True) for a in filters.select("details")[1].select("li a")]
        self.assertEqual(tags, ["All", "Ofsted", "workforce"])
        ofsted = Tag.objects.get(slug="ofsted")
        self.assertEqual(self.titles(f"?tags__id__exact={ofsted.pk}"), ["Live one"])

    def test_the_date_is_filtered_by_the_hierarchy_of_dates_with_posts(self):
        page = self.page()
        self.assertIsNotNone(page.select_one("nav.toplinks"))
        filter_titles = [s.get_text(strip=True) for s in page.select("#changelist-filter summary")]
        self.assertEqual(filter_titles, ["By status", "By tags"])
