import datetime

from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from blog.models import Post, Reference
from blog.revisions import versions_of

from .factories import admin_post_form, london, make_post, make_staff, make_user
from .html import soup

ADD_URL = reverse("admin:blog_post_add")


def post_form(author, **overrides) -> dict:
    fields = {
        "title": "Retention, again",
        "body": "Vacancies rose [1], and turnover too [2]. See also [3].",
        "tags": "mandatory reporting, Ofsted, workforce",
        **overrides,
    }
    references = (
        (1, "Children’s social work workforce statistics, 2014", "https://example.org/stats"),
        (2, "A second source", ""),
    )
    return admin_post_form(author, references=references, **fields)


class PostAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor", first_name="Ed", last_name="Itor")
        Tag.objects.create(name="Ofsted", slug="ofsted")

    def setUp(self):
        self.client.force_login(self.staff)

    def test_the_add_form_has_the_markdown_editor_and_the_references_inline(self):
        page = soup(self.client.get(ADD_URL))
        editor = page.select_one("textarea.markdownx-editor[name=body]")
        self.assertEqual(editor["data-markdownx-urls-path"], reverse("editor:preview"))
        self.assertEqual(editor["data-markdownx-upload-urls-path"], reverse("editor:upload"))
        self.assertIsNotNone(page.select_one(".markdownx-preview"))
        self.assertIsNotNone(page.select_one("input[name='references-0-number']"))
        self.assertEqual(page.select_one("select[name=author] option[selected]")["value"],
                         str(self.staff.pk))  # fmt: skip

    def test_staff_add_a_post_with_references_and_tags(self):
        response = self.client.post(ADD_URL, post_form(self.staff))
        self.assertRedirects(response, reverse("admin:blog_post_changelist"))
        post = Post.objects.get(title="Retention, again")
        self.assertEqual(post.slug, "retention-again")
        self.assertEqual(post.published_at, london(2014, 4, 20, 9, 30))
        self.assertEqual(
            [(r.number, r.url) for r in post.references.all()],
            [(1, "https://example.org/stats"), (2, "")],
        )
        # "mandatory reporting" is one tag; "Ofsted" reuses the existing tag.
        self.assertEqual(
            sorted(post.tags.values_list("slug", flat=True)),
            ["mandatory-reporting", "ofsted", "workforce"],
        )
        self.assertEqual(Tag.objects.filter(slug="ofsted").count(), 1)
        # The stored HTML links the markers that have references, after the inline saved.
        self.assertIn('id="cite-1"', post.body_html)
        self.assertIn('id="cite-2"', post.body_html)
        self.assertNotIn("#ref-3", post.body_html)

        page = soup(self.client.get(post.get_absolute_url()))
        self.assertEqual(page.select_one("#ref-1 a")["href"], "https://example.org/stats")
        self.assertEqual(page.select_one("#ref-2 a.backlink")["href"], "#cite-2")

    def test_tags_are_case_insensitive(self):
        self.client.post(ADD_URL, post_form(self.staff, tags="OFSTED, ofsted"))
        post = Post.objects.get()
        self.assertEqual(list(post.tags.values_list("name", flat=True)), ["Ofsted"])

    def test_untitled_post_from_the_admin(self):
        self.client.post(
            ADD_URL,
            post_form(self.staff, title="", body="I’m not really surprised to hear, again."),
        )
        post = Post.objects.get()
        self.assertEqual(post.slug, "im-not-really-surprised-to-hear")
        self.assertEqual(post.display_title, "I’m not really surprised to hear…")

    def test_duplicate_reference_numbers_are_refused_and_nothing_is_saved(self):
        data = post_form(self.staff, **{"references-1-number": "1"})
        response = self.client.post(ADD_URL, data)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Please correct the duplicate data for number")
        self.assertFalse(Post.objects.exists())
        self.assertFalse(Reference.objects.exists())

    def test_bad_references_are_refused_with_a_message_and_nothing_saved(self):
        for field, value, message in [
            ("references-0-number", "0", "Ensure this value is greater than or equal to 1."),
            ("references-0-number", "1000", "Ensure this value is less than or equal to 999."),
            ("references-0-url", "javascript:alert(1)", "Enter a valid URL."),
            ("references-0-citation", "", "This field is required."),
        ]:
            with self.subTest(field=field, value=value):
                response = self.client.post(ADD_URL, post_form(self.staff, **{field: value}))
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, message)
                self.assertFalse(Post.objects.exists())
                self.assertFalse(Reference.objects.exists())

    def test_script_in_the_body_is_removed(self):
        body = 'Hi <script>alert(1)</script><a href="javascript:alert(1)">x</a>'
        self.client.post(ADD_URL, post_form(self.staff, body=body))
        html = Post.objects.get().body_html
        self.assertNotIn("<script", html)
        self.assertNotIn("javascript:", html)

    def test_changelist_filters_search_and_date_hierarchy(self):
        make_post("Findable Ofsted piece", tags=["Ofsted"], published_at=london(2014, 4, 8, 9))
        make_post("Draft piece", status=Post.Status.DRAFT)
        url = reverse("admin:blog_post_changelist")
        page = soup(self.client.get(url))
        self.assertIsNotNone(page.select_one("#changelist-filter"))
        self.assertIsNotNone(page.select_one("nav.toplinks"))  # date hierarchy
        self.assertContains(self.client.get(url, {"q": "Findable"}), "Findable Ofsted piece")
        self.assertNotContains(self.client.get(url, {"status__exact": "published"}), "Draft piece")
        tag = Tag.objects.get(slug="ofsted")
        self.assertContains(self.client.get(url, {"tags__id__exact": tag.pk}), "Findable")

    def test_publish_and_unpublish_actions(self):
        draft = make_post("To publish", status=Post.Status.DRAFT)
        url = reverse("admin:blog_post_changelist")
        self.client.post(url, {"action": "publish", "_selected_action": [draft.pk]})
        draft.refresh_from_db()
        self.assertEqual(draft.status, Post.Status.PUBLISHED)
        self.client.post(url, {"action": "unpublish", "_selected_action": [draft.pk]})
        draft.refresh_from_db()
        self.assertEqual(draft.status, Post.Status.DRAFT)
        # Each kept as a revision, by whom and why (blog.revisions).
        kept = [(v.field_dict["status"], v.revision.user, v.revision.comment)
                for v in versions_of(draft)[:2]]  # fmt: skip
        self.assertEqual(kept, [
            (Post.Status.DRAFT, self.staff, "Returned to draft from the list"),
            (Post.Status.PUBLISHED, self.staff, "Published from the list"),
        ])  # fmt: skip

    def test_view_on_site(self):
        post = make_post("Seen")
        change = self.client.get(reverse("admin:blog_post_change", args=[post.pk]))
        view = soup(change).select_one("a.viewsitelink")
        # A relative link: it works on whatever host and port the admin is served.
        self.assertEqual(view["href"], post.get_absolute_url())

    def test_non_staff_cannot_reach_the_admin(self):
        self.client.force_login(make_user())
        response = self.client.get(ADD_URL)
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("admin:login"), response["Location"])


class TagInputTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()

    def setUp(self):
        self.client.force_login(self.staff)

    def test_tags_that_cannot_make_an_address_are_refused(self):
        for tags, message in [
            ("Ofsted, !!!", "“!!!” cannot be a tag: it needs a letter or a digit."),
            ("x" * 101, "is too long for a tag (100 at most)."),
        ]:
            with self.subTest(tags=tags[:20]):
                response = self.client.post(ADD_URL, post_form(self.staff, tags=tags))
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, message)
                self.assertFalse(Post.objects.exists())
                self.assertFalse(Tag.objects.exists())

    def test_tags_with_accents_get_pages(self):
        self.client.post(ADD_URL, post_form(self.staff, tags="naïve practice, Ärzte"))
        post = Post.objects.get()
        self.assertEqual(
            sorted(post.tags.values_list("slug", flat=True)), ["naïve-practice", "ärzte"]
        )
        self.client.logout()
        page = soup(self.client.get("/tags/"))
        links = sorted(a["href"] for a in page.select(".tag-index a"))
        self.assertEqual(links, ["/tags/%C3%A4rzte/", "/tags/na%C3%AFve-practice/"])
        for link in links:
            response = self.client.get(link)
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, "Retention, again")


class VisibilityColumnTests(TestCase):
    def test_the_list_says_draft_scheduled_or_live(self):
        make_post("Drafted", status=Post.Status.DRAFT)
        make_post("Later", published_at=timezone.now() + datetime.timedelta(days=2))
        make_post("Now live")
        self.client.force_login(make_staff())
        page = soup(self.client.get(reverse("admin:blog_post_changelist")))
        rows = {
            row.select_one("th").get_text(): row.select_one("td.field-visibility").get_text()
            for row in page.select("#result_list tbody tr")
        }
        self.assertEqual(rows, {"Drafted": "Draft", "Later": "Scheduled", "Now live": "Live"})


class CommentAdminTests(TestCase):
    """The Comment admin: the library's, with the post, the moderation queue and the
    answers actions."""

    @classmethod
    def setUpTestData(cls):
        from .discussion import comment_and_confirm

        cls.staff = make_staff("moderator")
        cls.post = make_post("Learning Organisations", call_for_answers="Do you learn?")
        client = cls.client_class()
        cls.published = comment_and_confirm(client, cls.post, comment="A fine answer")
        cls.held = comment_and_confirm(
            client, cls.post, name="Linky",
            comment="https://a.example https://b.example https://c.example",
        )  # fmt: skip

    def setUp(self):
        self.client.force_login(self.staff)

    def test_changelist_shows_post_name_date_state_and_filters_the_queue(self):
        url = reverse("admin:blog_comment_changelist")
        page = soup(self.client.get(url + "?moderation=all"))
        rows = page.select("#result_list tbody tr")
        self.assertEqual(len(rows), 2)
        self.assertIn("Learning Organisations", rows[0].get_text())
        states = sorted(b.get_text() for b in page.select("#result_list td.field-state .badge"))
        self.assertEqual(states, ["Awaiting approval", "Published"])
        queue = soup(self.client.get(url + "?moderation=held"))
        names = [name.get_text() for name in queue.select("#result_list .comment-by__name")]
        self.assertEqual(names, ["Linky"])
        found = soup(self.client.get(url + "?q=fine+answer"))
        self.assertEqual(len(found.select("#result_list tbody tr")), 1)

    def test_change_form_and_related_admins(self):
        response = self.client.get(reverse("admin:blog_comment_change", args=[self.held.pk]))
        self.assertContains(response, "Learning Organisations")
        for name in ("admin:django_comments_commentflag_changelist",
                     "admin:django_comments_xtd_blacklisteddomain_changelist"):  # fmt: skip
            self.assertEqual(self.client.get(reverse(name)).status_code, 200)

    def test_approve_and_remove_actions(self):
        url = reverse("admin:blog_comment_changelist")
        self.client.post(url, {"action": "approve_comments", "_selected_action": [self.held.pk]})
        self.held.refresh_from_db()
        self.assertTrue(self.held.is_public)
        self.client.post(url, {"action": "remove_comments", "_selected_action": [self.held.pk]})
        self.held.refresh_from_db()
        self.assertTrue(self.held.is_removed)

    def test_the_post_list_counts_published_comments_and_links_to_them(self):
        page = soup(self.client.get(reverse("admin:blog_post_changelist")))
        link = page.select_one("td.field-comments a")
        self.assertEqual(link.get_text(), "1")  # the held one is not counted
        listed = soup(self.client.get(link["href"]))
        self.assertEqual(len(listed.select("#result_list tbody tr")), 2)

    def test_only_shown_comments_can_be_highlighted(self):
        url = reverse("admin:blog_comment_changelist")
        self.client.post(url, {"action": "highlight_answers",
                               "_selected_action": [self.published.pk, self.held.pk]})  # fmt: skip
        self.published.refresh_from_db()
        self.held.refresh_from_db()
        self.assertEqual((self.published.is_highlighted, self.held.is_highlighted), (True, False))
        self.client.post(url, {"action": "unhighlight_answers",
                               "_selected_action": [self.published.pk]})  # fmt: skip
        self.published.refresh_from_db()
        self.assertFalse(self.published.is_highlighted)
