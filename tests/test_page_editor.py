"""The page editor in the admin (blog.admin_editor.PageEditorMixin): the post's editor
(title, body with its live preview, the cheat sheet, image upload) with a page's
publishing buttons (draft or published, no schedule), through the one write path."""

from __future__ import annotations

import json

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from blog.models import Page
from blog.revisions import versions_of
from blog.writing import save_page

from .factories import make_staff, make_user
from .html import soup
from .test_editor import TemporaryMediaMixin, image_bytes

ADD_URL = reverse("admin:blog_page_add")
PREVIEW_URL = reverse("admin:blog_page_preview")
UPLOAD_URL = reverse("editor:upload")


def change_url(page: Page) -> str:
    return reverse("admin:blog_page_change", args=[page.pk])


def make_page(status: str = Page.Status.DRAFT, **fields) -> Page:
    return save_page(Page(title="About", slug="about", body="We *write*.", status=status,
                          **fields))  # fmt: skip


def form(**fields: str) -> dict[str, str]:
    return {"title": "About", "slug": "about", "body": "We **write**.", "status": "draft",
            "navigation_order": "0", **fields}  # fmt: skip


def preview(client: Client, body: str, **extra):
    payload = json.dumps({"body": body, "references": [{"number": "1", "citation": "A"}]})
    return client.post(PREVIEW_URL, payload, content_type="application/json", **extra)


def staff_with(*codenames: str):
    user = make_user(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def buttons(response) -> list[list[str]]:
    return [
        [button.get_text(strip=True) for button in row.select("button[name=_publish]")]
        for row in soup(response).select(".publish-row")
    ]


class PageEditorFormTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor")

    def setUp(self):
        self.client.force_login(self.staff)

    def test_the_change_form_is_the_post_editor(self):
        page = soup(self.client.get(ADD_URL))
        self.assertIn("post-editor", page.body["class"])
        self.assertIsNotNone(page.select_one(".post-writing .field-title input[autofocus]"))
        editor = page.select_one(".post-writing [data-editor]")
        self.assertEqual(editor["data-preview-url"], PREVIEW_URL)
        self.assertIsNotNone(editor.select_one(".markdownx textarea#id_body"))
        frame = editor.select_one("iframe.editor__frame")
        self.assertEqual(frame["title"], "Preview of the page as readers will see it")
        # A page's look: title and body, no byline, no references.
        self.assertIn('class="post page"', frame["srcdoc"])
        self.assertIsNotNone(editor.select_one("details.markdown-help"))
        # Pages cite nothing: the cheat sheet leaves the reference markers out.
        self.assertNotIn("[1]", editor.select_one("details.markdown-help").get_text())
        headings = [h.get_text(strip=True) for h in page.select("fieldset h2")]
        self.assertIn("Navigation", headings)
        navigation = page.select("fieldset")[-1]
        self.assertEqual(
            [row["class"][-1] for row in navigation.select(".form-row")],
            ["field-slug", "field-in_navigation", "field-navigation_order"],
        )

    def test_the_buttons_follow_the_pages_status(self):
        new = self.client.get(ADD_URL)
        self.assertEqual(buttons(new), [["Save draft", "Publish"]] * 2)
        self.assertIn("New page", soup(new).select_one(".publish-row__state").get_text())
        self.assertNotContains(new, "Schedule")
        draft = self.client.get(change_url(make_page()))
        self.assertEqual(buttons(draft), [["Save draft", "Publish"]] * 2)
        Page.objects.all().delete()
        live = self.client.get(change_url(make_page(Page.Status.PUBLISHED)))
        self.assertEqual(buttons(live), [["Update", "Unpublish"]] * 2)
        # The revisions (RevisionsAdminMixin) are still a link away.
        self.assertIsNotNone(soup(live).select_one("a.revisionslink"))

    def test_publish_goes_through_the_write_path_and_unpublish_takes_it_back(self):
        response = self.client.post(ADD_URL, {**form(), "_publish": "publish"})
        page = Page.objects.get()
        self.assertRedirects(response, change_url(page))
        self.assertEqual(page.status, Page.Status.PUBLISHED)
        self.assertEqual(page.body_html.strip(), "<p>We <strong>write</strong>.</p>")
        self.assertEqual([v.revision.user for v in versions_of(page)], [self.staff])
        self.client.logout()
        self.assertContains(self.client.get("/about/"), "<strong>write</strong>")

        self.client.force_login(self.staff)
        response = self.client.post(
            change_url(page), {**form(status="published"), "_publish": "draft"}, follow=True
        )
        self.assertContains(response, "saved as a draft")
        page.refresh_from_db()
        self.assertEqual(page.status, Page.Status.DRAFT)
        self.assertEqual(len(versions_of(page)), 2)
        self.client.logout()
        self.assertEqual(self.client.get("/about/").status_code, 404)

    def test_a_button_not_offered_is_a_plain_save(self):
        page = make_page()
        # "Update" is for a live page: it publishes nothing that was a draft.
        self.client.post(change_url(page), {**form(), "_publish": "update"})
        page.refresh_from_db()
        self.assertEqual(page.status, Page.Status.DRAFT)

    def test_a_clashing_slug_still_shows_its_error(self):
        response = self.client.post(ADD_URL, {**form(slug="search"), "_publish": "publish"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "already one of the site")
        self.assertFalse(Page.objects.exists())


class PagePreviewTests(TemporaryMediaMixin, TestCase):
    def test_the_body_is_rendered_sanitised_with_nothing_to_cite(self):
        self.client.force_login(staff_with("change_page"))
        response = preview(self.client, "**Hi** [1]<script>alert(1)</script>")
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertIn("<strong>Hi</strong>", data["html"])
        self.assertNotIn("<script", data["html"])
        # A page has no references: the marker stays as text, none is listed.
        self.assertNotIn('href="#ref-1"', data["html"])
        self.assertEqual((data["references"].strip(), data["problems"]), ("", []))

    def test_staff_without_page_permission_may_not_preview_or_upload(self):
        for user in (staff_with("view_page"), staff_with("change_comment")):
            client = Client()
            client.force_login(user)
            with self.subTest(user=list(user.user_permissions.values_list("codename"))):
                response = preview(client, "*hi*")
                self.assertEqual(response.status_code, 403)
                self.assertEqual(response.json()["error"], "You may not write pages.")
                upload = SimpleUploadedFile("a.png", image_bytes("PNG"), "image/png")
                self.assertEqual(client.post(UPLOAD_URL, {"image": upload}).status_code, 403)

    def test_page_writers_may_upload_an_image(self):
        self.client.force_login(staff_with("add_page"))
        upload = SimpleUploadedFile("a.png", image_bytes("PNG"), "image/png")
        response = self.client.post(UPLOAD_URL, {"image": upload, "alt_text": "A chart"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(response.json()["image_code"].startswith("![A chart]("))
