"""The post editor in the admin (blog.admin_editor): its preview endpoint, its publishing
buttons, and the page that carries them."""

from __future__ import annotations

import datetime
import json
import re

import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blog.models import Post, Reference

from .factories import admin_post_form, london, make_post, make_staff, make_user
from .hostile import corpus
from .hostile.inert import html_problems
from .html import soup, texts
from .test_write_path import counted

ADD_URL = reverse("admin:blog_post_add")
PREVIEW_URL = reverse("admin:blog_post_preview")
NOW = london(2026, 12, 3, 16, 40)
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def preview(client: Client, body: str = "", references: list | None = None, **extra):
    payload = {"body": body, "references": references or []}
    return client.post(
        PREVIEW_URL, json.dumps(payload), content_type="application/json", **extra
    )


def change_url(post: Post) -> str:
    return reverse("admin:blog_post_change", args=[post.pk])


def staff_with(*codenames: str):
    user = make_user(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


class PreviewAccessTests(TestCase):
    """Only active staff who may add or change posts get a preview; 403 for everyone
    else, 405 for anything but POST, and the CSRF token is checked."""

    def assert_refused(self, client: Client):
        response = preview(client, "*hi*")
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"<em>hi</em>", response.content)

    def test_anonymous_readers_and_staff_without_the_permission_are_refused(self):
        self.assert_refused(self.client)
        for user in (
            make_user(),
            staff_with("view_post", "change_comment"),
            make_staff(is_active=False),
        ):
            with self.subTest(user=user.username):
                client = Client()
                client.force_login(user)
                self.assert_refused(client)

    def test_staff_who_may_add_or_change_posts_get_it(self):
        for codename in ("add_post", "change_post"):
            with self.subTest(codename):
                client = Client()
                client.force_login(staff_with(codename))
                response = preview(client, "*hi*")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.json()["html"], "<p><em>hi</em></p>")

    def test_only_post(self):
        self.client.force_login(make_staff())
        response = self.client.get(PREVIEW_URL)
        self.assertEqual(response.status_code, 405)
        self.assertEqual(response["Allow"], "POST")

    def test_the_csrf_token_is_required(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_staff())
        self.assertEqual(preview(client, "*hi*").status_code, 403)
        # The token as the change form carries it, sent in the header as editor.js does.
        form = soup(client.get(ADD_URL))
        token = form.select_one("input[name=csrfmiddlewaretoken]")["value"]
        response = preview(client, "*hi*", HTTP_X_CSRFTOKEN=token)
        self.assertEqual(response.status_code, 200)


class PreviewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()

    def setUp(self):
        self.client.force_login(self.staff)

    def test_markers_are_resolved_against_the_references_sent_none_saved(self):
        response = preview(
            self.client,
            "Vacancies rose [1], turnover too [2]; see [3].",
            [
                {"number": "2", "citation": "A second source", "url": ""},
                {"number": "1", "citation": "Workforce statistics", "url": "https://example.org/s"},
                {"number": "", "citation": "A row not numbered yet", "url": ""},
            ],
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(Reference.objects.exists())
        data = response.json()
        html = soup_of(data["html"])
        self.assertEqual([a["href"] for a in html.select("a.cite")], ["#ref-1", "#ref-2"])
        self.assertIn("[3]", html.get_text())
        self.assertNotIn("#ref-3", data["html"])
        references = soup_of(data["references"])
        self.assertEqual([li["id"] for li in references.select("li")], ["ref-1", "ref-2"])
        self.assertEqual(
            references.select_one("#ref-1 a:not(.backlink)")["href"], "https://example.org/s"
        )
        self.assertEqual(references.select_one("#ref-2 a.backlink")["href"], "#cite-2")
        self.assertNotIn("not numbered yet", data["references"])
        self.assertEqual(data["problems"], [])

    def test_a_reference_that_is_not_cited_has_no_backlink(self):
        data = preview(self.client, "No markers.", [{"number": 1, "citation": "Alone"}]).json()
        self.assertIsNone(soup_of(data["references"]).select_one("a.backlink"))

    def test_the_preview_is_what_the_post_page_shows(self):
        body = "Supervision [1] **matters** [2].\n\n> Quoted, with [a link](https://example.org)."
        post = make_post(
            "Same", body, references={1: "Munro, E. (2011) Final report", 2: "Laming (2009)"}
        )
        page = soup(self.client.get(post.get_absolute_url()))
        sent = [{"number": r.number, "citation": r.citation} for r in post.references.all()]
        data = preview(self.client, body, sent).json()
        on_page = page.select_one(".post__body").decode_contents()
        self.assertEqual(data["html"].strip(), on_page.strip())
        self.assertEqual((data["words"], data["minutes"]), (post.word_count, post.reading_minutes))
        self.assertEqual(data["words"], 6)  # the [1] and [2] markers are not words
        self.assertEqual(texts(soup_of(data["references"]), "li"), texts(page, "#references li"))
        self.assertEqual(
            [a["href"] for a in soup_of(data["references"]).select("a")],
            [a["href"] for a in page.select("#references a")],
        )

    def test_what_the_writer_types_is_sanitised(self):
        data = preview(
            self.client,
            'Hi <script>alert(1)</script><img src=x onerror="alert(2)">'
            "[x](javascript:alert(3)) <iframe src=//evil.example></iframe> [1]",
            [{"number": 1, "citation": "<script>alert(4)</script>", "url": "javascript:alert(5)"}],
        ).json()
        for part in (data["html"], data["references"]):
            self.assertNotIn("<script", part)
            self.assertNotIn("javascript:", part)
            self.assertNotIn("onerror", part)
            self.assertNotIn("<iframe", part)
        self.assertIn("&lt;script&gt;alert(4)&lt;/script&gt;", data["references"])
        # The URL the save would refuse is not linked, and the writer is told.
        self.assertIsNone(soup_of(data["references"]).select_one("#ref-1 a:not(.backlink)"))
        self.assertEqual(data["problems"], ["Reference [1]: Enter a valid URL."])

    def test_what_the_save_would_refuse_is_said_and_left_out(self):
        data = preview(
            self.client,
            "[1] [2] [0]",
            [
                {"number": "1", "citation": "First"},
                {"number": "1", "citation": "First again"},
                {"number": "0", "citation": "Zero"},
                {"number": "1000", "citation": "Too far"},
            ],
        ).json()
        self.assertEqual(texts(soup_of(data["references"]), "li"), ["First ↩"])
        self.assertEqual(
            data["problems"],
            [
                "Two references are numbered 1: the save will refuse that.",
                "Reference 3: Ensure this value is greater than or equal to 1.",
                "Reference 4: Ensure this value is less than or equal to 999.",
            ],
        )

    def test_bad_input_is_a_400_with_a_message(self):
        def raw(content: bytes | str):
            return self.client.post(PREVIEW_URL, content, content_type="application/json")

        cases = [
            (raw(b"not json"), "not JSON"),
            (raw(b"\xff\xfe"), "not JSON"),
            (raw("[1, 2]"), "must be a JSON object"),
            (raw(json.dumps({"body": ["a"]})), "The body must be text"),
            (raw(json.dumps({"body": "x" * 500_001})), "at most 500,000"),
            (raw(json.dumps({"references": "1"})), "must be a list"),
            (raw(json.dumps({"references": [1]})), "must be an object"),
            (raw(json.dumps({"references": [{"number": 1}] * 1000})), "At most 999"),
            (raw(json.dumps({"references": [{"number": 1, "citation": "c" * 10_001}]})),
             "citation is 10,001 characters"),
            (raw(json.dumps({"references": [{"number": 1, "url": "https://e.org/" + "u" * 500}]})),
             "URL is 514 characters"),
            (raw(json.dumps({"references": [{"number": [1]}]})), "number must be text"),
        ]  # fmt: skip
        for response, message in cases:
            with self.subTest(message):
                self.assertEqual(response.status_code, 400)
                self.assertIn(message, response.json()["error"])

    def test_a_request_over_the_upload_limit_is_a_400(self):
        with self.settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
            response = preview(self.client, "x" * 2000)
        self.assertEqual(response.status_code, 400)
        self.assertIn("too large", response.json()["error"])

    def test_every_hostile_payload_previews_inert(self):
        # The shared corpus (tests/hostile), as the body, a citation and a URL at once.
        for payload in corpus.TEXT:
            with self.subTest(payload.id):
                response = preview(
                    self.client,
                    payload.value + " [1]",
                    [{"number": 1, "citation": payload.value, "url": payload.value[:500]}],
                )
                self.assertEqual(response.status_code, 200)
                data = response.json()
                self.assertEqual(html_problems(data["html"]), [])
                self.assertEqual(html_problems(data["references"]), [])

    def test_a_preview_writes_nothing(self):
        with CaptureQueriesContext(connection) as queries:
            response = preview(self.client, "Text [1].", [{"number": 1, "citation": "A"}])
        self.assertEqual(response.status_code, 200)
        writes = [q["sql"] for q in queries.captured_queries if WRITES.match(q["sql"])]
        self.assertEqual(writes, [])


def soup_of(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


class EditorPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()

    def setUp(self):
        self.client.force_login(self.staff)

    def test_the_add_form_carries_the_editor(self):
        page = soup(self.client.get(ADD_URL))
        editor = page.select_one("[data-editor]")
        self.assertEqual(editor["data-preview-url"], PREVIEW_URL)
        textarea = editor.select_one(".markdownx textarea#id_body.markdownx-editor")
        # markdownx keeps the textarea (upload by drag and drop); its own preview calls
        # are pushed out of reach, ours replaces them.
        self.assertEqual(textarea["data-markdownx-upload-urls-path"], reverse("editor:upload"))
        self.assertEqual(textarea["data-markdownx-latency"], str(2**31 - 1))
        self.assertEqual(textarea["aria-describedby"], "id_body_helptext")
        self.assertIn("[1]", page.select_one("#id_body_helptext").get_text())
        frame = editor.select_one("iframe.editor__frame")
        self.assertEqual(frame["sandbox"], ["allow-same-origin"])  # no scripts in it
        self.assertTrue(frame["title"])
        document = soup_of(frame["srcdoc"])
        self.assertEqual(
            [link["href"] for link in document.select("link[rel=stylesheet]")],
            ["/static/css/fonts.css", "/static/css/site.css", "/static/css/editor.css"],
        )
        self.assertIsNotNone(document.select_one(".post__body[data-preview=body]"))
        cheat_sheet = editor.select_one("details.markdown-help")
        self.assertIn("## Section", cheat_sheet.get_text())
        self.assertIn("Left out: raw HTML", cheat_sheet.get_text())
        # A new post starts at its title, not at the first publishing button.
        self.assertTrue(page.select_one("#id_title").has_attr("autofocus"))
        self.assertNotIn("admin/js/change_form.js", str(page))
        scripts = [s["src"] for s in page.select("script[src]")]
        self.assertIn("/static/js/editor.js", scripts)
        self.assertEqual(page.select("script:not([src])"), [])

    def test_the_references_inline_labels_every_field(self):
        page = soup(self.client.get(ADD_URL))
        row = page.select_one("#references-0")
        for name in ("number", "citation", "url"):
            field = row.select_one(f"[name=references-0-{name}]")
            self.assertIsNotNone(row.select_one(f"label[for={field['id']}]"), name)
        # The references follow the body, before the publication fieldset.
        html = str(page)
        self.assertLess(html.index('id="id_body"'), html.index('id="references-group"'))
        self.assertLess(html.index('id="references-group"'), html.index('id="id_published_at_0"'))

    def test_the_buttons_follow_the_posts_state(self):
        later = timezone.now() + datetime.timedelta(days=2)
        cases = [
            (ADD_URL, ["Save draft", "Publish now", "Schedule"], "New post"),
            (change_url(make_post("D", status=Post.Status.DRAFT)),
             ["Save draft", "Publish now", "Schedule"], "Draft"),
            (change_url(make_post("S", published_at=later)),
             ["Update schedule", "Publish now", "Back to draft"], "Scheduled for"),
            (change_url(make_post("L")), ["Update", "Unpublish"], "Live since"),
        ]  # fmt: skip
        for url, labels, state in cases:
            with self.subTest(state):
                page = soup(self.client.get(url))
                rows = page.select(".publish-row")
                self.assertEqual([r["class"][1] for r in rows],
                                 ["publish-row--top", "publish-row--bottom"])  # fmt: skip
                for row in rows:
                    buttons = row.select("button[name=_publish]")
                    self.assertEqual([b.get_text(strip=True) for b in buttons], labels)
                    self.assertIn(state, row.select_one(".publish-row__state").get_text())
                # The status is the buttons' to set: no dropdown.
                self.assertIsNone(page.select_one("select[name=status]"))

    def test_staff_who_may_only_view_get_no_buttons(self):
        post = make_post("Viewed")
        client = Client()
        client.force_login(staff_with("view_post"))
        page = soup(client.get(change_url(post)))
        self.assertEqual(page.select("button[name=_publish]"), [])


@time_machine.travel(NOW, tick=False)
class PublishingButtonTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()

    def setUp(self):
        self.client.force_login(self.staff)

    def form(self, action: str, **fields) -> dict:
        data = admin_post_form(self.staff, title="Caseloads", body="Too high [1].", **fields)
        # The page sends the status it holds (hidden); the button decides.
        data["status"] = "draft"
        data["_publish"] = action
        return data

    def test_save_draft(self):
        with counted() as writes:
            response = self.client.post(ADD_URL, self.form("draft"))
        post = Post.objects.get()
        self.assertRedirects(response, change_url(post), fetch_redirect_response=False)
        self.assertEqual(post.status, Post.Status.DRAFT)
        self.assertEqual((writes.renders, writes.index_writes, writes.renewals), (1, 1, 1))
        messages = texts(soup(self.client.get(change_url(post))), ".messagelist li")
        self.assertEqual(messages, ["“Caseloads” is saved as a draft: readers cannot see it."])

    def test_publish_now_takes_the_servers_time_not_the_forms(self):
        # The form says 20 April 2014 (what the browser had); the post goes out now.
        with counted() as writes:
            response = self.client.post(ADD_URL, self.form("publish"))
        post = Post.objects.get()
        self.assertRedirects(response, change_url(post), fetch_redirect_response=False)
        self.assertEqual((post.status, post.published_at), (Post.Status.PUBLISHED, NOW))
        self.assertTrue(post.is_public)
        self.assertIn('href="#ref-1"', post.body_html)
        self.assertEqual((writes.renders, writes.index_writes, writes.renewals), (1, 1, 1))
        page = soup(self.client.get(change_url(post)))
        [message] = page.select(".messagelist li")
        self.assertIn("“Caseloads” is published.", message.get_text())
        self.assertEqual(message.select_one("a")["href"], post.get_absolute_url())
        self.client.logout()
        home = soup(self.client.get(reverse("blog:post-index")))
        self.assertIn("Caseloads", home.select_one(".post-summary").get_text())

    def test_publish_now_without_a_date(self):
        self.client.post(
            ADD_URL, self.form("publish", published_at_0="", published_at_1="")
        )
        self.assertEqual(Post.objects.get().published_at, NOW)

    def test_schedule_for_later(self):
        with counted() as writes:
            response = self.client.post(
                ADD_URL, self.form("schedule", published_at_0="05/12/2026", published_at_1="09:00")
            )
        post = Post.objects.get()
        self.assertRedirects(response, change_url(post), fetch_redirect_response=False)
        self.assertEqual(post.status, Post.Status.PUBLISHED)
        self.assertEqual(post.published_at, london(2026, 12, 5, 9, 0))
        self.assertFalse(post.is_public)
        self.assertEqual((writes.renders, writes.index_writes, writes.renewals), (1, 1, 1))
        messages = texts(soup(self.client.get(change_url(post))), ".messagelist li")
        self.assertEqual(messages, ["“Caseloads” is scheduled for 5 December 2026, 09:00."])

    def test_schedule_needs_a_time_in_the_future(self):
        for date, time, message in [
            ("20/04/2014", "09:30", "give a time after now (3 December 2026, 16:40)"),
            ("03/12/2026", "16:40", "give a time after now"),
            ("", "", "give the date and time to publish it"),
        ]:
            with self.subTest(date=date, time=time), counted() as writes:
                response = self.client.post(
                    ADD_URL, self.form("schedule", published_at_0=date, published_at_1=time)
                )
                self.assertEqual(response.status_code, 200)
                page = soup(response)
                self.assertIsNotNone(page.select_one(".errornote"))
                self.assertIn(message, page.select_one(".field-published_at .errorlist").get_text())
                # Said at the top of the form too, beside the buttons.
                self.assertIn(message, page.select_one(".errornote + .errorlist").get_text())
                self.assertFalse(Post.objects.exists())
                self.assertEqual((writes.renders, writes.renewals), (0, 0))
                # The buttons still offer what a new post can do.
                labels = [b.get_text(strip=True) for b in page.select(".publish-row--top button")]
                self.assertEqual(labels, ["Save draft", "Publish now", "Schedule"])

    def test_a_live_post_is_updated_or_unpublished(self):
        post = make_post("Live one", "Text [1].", author=self.staff, references={1: "A source"},
                         published_at=london(2026, 11, 1, 8))  # fmt: skip
        data = self.change_form(post, "update", title="Live one, revised")
        with counted() as writes:
            response = self.client.post(change_url(post), data)
        self.assertRedirects(response, change_url(post), fetch_redirect_response=False)
        post.refresh_from_db()
        self.assertEqual((post.title, post.status), ("Live one, revised", Post.Status.PUBLISHED))
        self.assertEqual(post.published_at, london(2026, 11, 1, 8))
        self.assertEqual((writes.renders, writes.index_writes, writes.renewals), (1, 1, 1))

        with counted() as writes:
            self.client.post(change_url(post), self.change_form(post, "draft"))
        post.refresh_from_db()
        self.assertEqual(post.status, Post.Status.DRAFT)
        self.assertEqual((writes.index_writes, writes.renewals), (1, 1))
        page = soup(self.client.get(change_url(post)))
        self.assertIn("saved as a draft", page.select_one(".messagelist").get_text())
        labels = [b.get_text(strip=True) for b in page.select(".publish-row--top button")]
        self.assertEqual(labels, ["Save draft", "Publish now", "Schedule"])

    def test_an_unknown_button_value_is_a_plain_save(self):
        data = self.form("explode")
        data["status"] = "published"
        response = self.client.post(ADD_URL, data)
        self.assertRedirects(response, reverse("admin:blog_post_changelist"))
        self.assertEqual(Post.objects.get().status, Post.Status.PUBLISHED)

    def test_a_button_the_page_does_not_offer_publishes_nothing(self):
        # "Update" belongs to a live post: pressed (forged) on a draft, it is a save.
        post = make_post("Draft", "Text [1].", author=self.staff, references={1: "A source"},
                         status=Post.Status.DRAFT)  # fmt: skip
        self.client.post(change_url(post), self.change_form(post, "update"))
        post.refresh_from_db()
        self.assertEqual(post.status, Post.Status.DRAFT)

    def change_form(self, post: Post, action: str, **changes) -> dict:
        from .test_write_path import references_form

        local = timezone.localtime(post.published_at)
        data = references_form(
            post,
            published_at_0=local.strftime("%d/%m/%Y"),
            published_at_1=local.strftime("%H:%M:%S"),
            status=post.status,
            **changes,
        )
        data["_publish"] = action
        return data
