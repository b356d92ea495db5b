"""The page cache (blog.pagecache): anonymous readers get cached pages that are never
stale, conditional GETs answer 304, and cached pages keep every reader's comment form
and session their own."""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable

import time_machine
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Permission
from django.contrib.sites.models import Site
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.middleware.csrf import CSRF_TOKEN_LENGTH
from django.test import Client, RequestFactory, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from taggit.models import Tag

from blog import pagecache
from blog.admin import PostAdmin
from blog.discussion.admin import CommentAdmin
from blog.models import Comment, Post, Reference
from config.settings.base import cache_from_url

from .caching import token_queries
from .discussion import comment_and_confirm, confirmation_path, form_data, press
from .factories import london, make_post, make_staff, make_user
from .html import soup

NOW = london(2014, 4, 20, 12)

# What differs between two renders of one page for two readers, or a second apart.
VOLATILE = re.compile(rb'(name="(?:csrfmiddlewaretoken|timestamp|security_hash)" value=")[^"]*"')


def normalised(content: bytes) -> bytes:
    return VOLATILE.sub(rb'\1"', content)


def fresh_client() -> Client:
    """A reader the page cache does not serve (one with messages waiting): the page as
    the database has it now."""
    client = Client()
    client.cookies["messages"] = "none-that-can-be-read"
    return client


def queries_for(client: Client, url: str, **headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return len(queries), response


@time_machine.travel(NOW, tick=False)
class PageCacheTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.author = make_user("writer", first_name="Pat", last_name="Writer")
        cls.post = make_post(
            "Stepping up",
            "The workforce needs support [1].",
            author=cls.author,
            published_at=london(2014, 4, 15, 9),
            tags=["workforce", "Ofsted"],
            references={1: "Munro, E. (2011) The Munro review."},
            call_for_answers="Answers please",
        )
        cls.older = make_post(
            "Mandatory reporting",
            "Should it be the law?",
            author=cls.author,
            published_at=london(2014, 4, 2, 9),
            tags=["mandatory reporting"],
        )
        cls.draft = make_post(
            "Draft on supervision",
            "Not yet.",
            author=cls.author,
            published_at=london(2014, 4, 16, 9),
            status=Post.Status.DRAFT,
            tags=["workforce"],
        )

    def setUp(self):
        Site.objects.get_current()  # cached for the process, as when serving

    def pages(self) -> dict[str, str]:
        """Every page a change to a post, its tags, references or comments can show on."""
        return {
            "home": reverse("blog:post-index"),
            "year": reverse("blog:archive-year", args=[2014]),
            "month": reverse("blog:archive-month", args=[2014, 4]),
            "day": reverse("blog:archive-day", args=[2014, 4, 15]),
            "post": self.post.get_absolute_url(),
            "older post": self.older.get_absolute_url(),
            "tags": reverse("blog:tag-list"),
            "tag": reverse("blog:tag-detail", args=["workforce"]),
            "tag feed": reverse("blog:tag-feed", args=["workforce"]),
            "atom": reverse("blog:feed-atom"),
            "rss": reverse("blog:feed-rss"),
            "comments feed": reverse("blog:feed-comments"),
            "sitemap": reverse("sitemap"),
            "discussions": reverse("blog:discussions"),
            "references": reverse("blog:references"),
            "search": reverse("blog:search") + "?q=supervision",
        }

    def warm(self) -> None:
        """Every page into the cache, and a check that the next request is served from it
        (the version look-up alone), so the checks below test the cache, not a miss."""
        for name, url in self.pages().items():
            self.client.get(url)
            count, response = queries_for(self.client, url)
            if response.status_code == 200:
                self.assertEqual(count, token_queries(), f"{name} was not served from the cache")

    def assert_nothing_stale(self) -> None:
        """Each page as the cache serves it is the page as the database has it now."""
        reader = fresh_client()
        for name, url in self.pages().items():
            cached, fresh = self.client.get(url), reader.get(url)
            self.assertEqual(cached.status_code, fresh.status_code, name)
            self.assertEqual(normalised(cached.content), normalised(fresh.content), name)

    def after(self, change: Callable[[], object], shows: dict[str, str] = (), hides=()) -> None:
        """Warm every page, make ``change``, then check no page is stale, and that the
        named pages do show (or no longer show) the change: the check cannot pass
        because nothing changed."""
        self.warm()
        change()
        self.assert_nothing_stale()
        for name, text in dict(shows).items():
            self.assertContains(self.client.get(self.pages()[name]), text, msg_prefix=name)
        for name, text in dict(hides).items():
            self.assertNotContains(self.client.get(self.pages()[name]), text, msg_prefix=name)


class ServingTests(PageCacheTestCase):
    def test_a_second_reader_gets_the_page_from_the_cache(self):
        url = self.post.get_absolute_url()
        first_count, first = queries_for(self.client, url)
        second_count, second = queries_for(Client(), url)
        self.assertGreater(first_count, 5)
        self.assertEqual(second_count, token_queries())  # the token, and nothing else
        self.assertEqual(normalised(first.content), normalised(second.content))
        self.assertContains(second, "Stepping up")

    def test_a_cached_page_keeps_the_headers_the_other_middleware_gave_it(self):
        url = self.post.get_absolute_url()
        fresh = self.client.get(url)
        count, cached = queries_for(Client(), url)
        self.assertEqual(count, token_queries())
        for header in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                       "Content-Type"):  # fmt: skip
            self.assertEqual(cached.get(header), fresh.get(header), header)
        self.assertEqual(cached["Content-Length"], str(len(cached.content)))
        # The reader's own CSRF cookie, which the page's token belongs to.
        self.assertIn(settings.CSRF_COOKIE_NAME, cached.cookies)
        self.assertIn("Cookie", cached["Vary"])
        # A feed has no form: no cookie at all.
        self.client.get(reverse("blog:feed-atom"))
        feed = Client().get(reverse("blog:feed-atom"))
        self.assertEqual(dict(feed.cookies), {})

    def test_head_is_served_from_the_cache_too(self):
        self.client.get("/")
        with CaptureQueriesContext(connection) as queries:
            response = self.client.head("/")
        self.assertEqual((len(queries), response.status_code), (token_queries(), 200))

    def test_a_page_with_other_query_parameters_is_built_afresh(self):
        self.client.get("/?utm_source=newsletter")
        count, response = queries_for(self.client, "/?utm_source=newsletter")
        self.assertEqual(response.status_code, 200)
        self.assertGreater(count, 1)

    def test_errors_and_posts_are_never_stored(self):
        missing = "/2014/04/15/no-such-post/"
        self.client.get(missing)
        count, response = queries_for(self.client, missing)
        self.assertEqual(response.status_code, 404)
        self.assertGreater(count, 1)

    def test_the_cache_keeps_pages_for_less_than_the_comment_form_stays_valid(self):
        # A cached form's timestamp is at most this old: readers have the rest of
        # COMMENTS_TIMEOUT to write.
        self.assertLessEqual(settings.BLOG_PAGE_CACHE_SECONDS * 4, settings.COMMENTS_TIMEOUT)

    def test_a_failing_cache_serves_from_the_database_and_says_so(self):
        unreachable = {"default": settings.CACHES["default"] | {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }}  # fmt: skip
        with override_settings(CACHES=unreachable), self.assertLogs("blog.pagecache", "WARNING"):
            response = self.client.get(self.post.get_absolute_url())
        self.assertContains(response, "Stepping up")

    def test_a_failed_cache_is_left_alone_for_a_while(self):
        # Not asked (nor warned about) again for BLOG_CACHE_RETRY_SECONDS: a stopped
        # Redis would otherwise fail several times in every request.
        unreachable = {"default": cache_from_url("redis://127.0.0.1:1/0")}
        url = self.post.get_absolute_url()
        with override_settings(CACHES=unreachable):
            with self.assertLogs("blog.pagecache", "WARNING") as logs:
                self.client.get(url)
            self.assertEqual(len(logs.output), 1, logs.output)
            self.assertIn("asking the cache again in 5 s", logs.output[0])
            with self.assertNoLogs("blog.pagecache", "WARNING"):
                self.assertContains(self.client.get(url), "Stepping up")
            with override_settings(BLOG_CACHE_RETRY_SECONDS=0):
                for _ in range(2):  # asked, and failing, at every call again
                    with self.assertLogs("blog.pagecache", "WARNING") as logs:
                        self.assertContains(self.client.get(url), "Stepping up")
                    # The page's get and set, and its fragments'.
                    self.assertGreater(len(logs.output), 2)


class FrontTests(PageCacheTestCase):
    """What Django gives nginx to keep (tools/nginx.py; tests/test_front.py runs it)."""

    def front_page(self, at: float):
        url = self.post.get_absolute_url()
        with time_machine.travel(at, tick=False):
            return Client().get(url, headers={pagecache.FRONT_REQUEST_HEADER: "1"})

    def test_the_csrf_fields_carry_the_placeholder_where_nginx_is_told(self):
        response = self.front_page(NOW.timestamp() + 0.5)
        placeholder, at, cookie = response[pagecache.FRONT_CSRF_HEADER].split(" ", 2)
        placeholder = placeholder.encode()
        offsets = [int(offset) for offset in at.split(",")]
        self.assertGreaterEqual(len(offsets), 2)  # the comment form and following by e-mail
        self.assertEqual(len(placeholder), CSRF_TOKEN_LENGTH)  # as long as a masked token
        content = response.content
        self.assertEqual(content.count(placeholder), len(offsets))
        for at in offsets:
            self.assertEqual(content[at : at + len(placeholder)], placeholder)
            self.assertEqual(content[at - 7 : at], b'value="')
        self.assertNotIn("Set-Cookie", response.headers)  # nothing of a reader's to keep
        self.assertTrue(cookie.startswith("csrftoken=__secret__; "), cookie)

    def test_nginx_keeps_a_page_to_the_end_of_its_second_unless_built_early_in_it(self):
        second = int(NOW.timestamp())
        for fraction, kept in [(0.0, False), (0.19, False), (0.2, True), (0.99, True)]:
            with self.subTest(fraction=fraction):
                response = self.front_page(second + fraction)
                self.assertEqual(response.get("X-Accel-Expires"), f"@{second}" if kept else None)


class InvalidationTests(PageCacheTestCase):
    """Each change readers can see shows on every page at the very next request."""

    def test_publishing_a_post(self):
        def publish():
            self.draft.status = Post.Status.PUBLISHED
            self.draft.save()

        self.after(publish, shows={"home": "Draft on supervision", "tag": "Draft on supervision",
                                   "atom": "Draft on supervision", "search": "Draft on supervision",
                                   "post": "Draft on supervision"})  # fmt: skip

    def test_editing_a_post(self):
        def edit():
            self.post.title = "Stepping up, revised"
            self.post.save()

        self.after(edit, shows={"home": "Stepping up, revised", "post": "Stepping up, revised",
                                "day": "Stepping up, revised", "rss": "Stepping up, revised",
                                "sitemap": self.post.slug})  # fmt: skip

    def test_unpublishing_a_post(self):
        def unpublish():
            self.older.status = Post.Status.DRAFT
            self.older.save()

        self.after(unpublish, hides={"home": "Mandatory reporting", "tags": "mandatory reporting",
                                     "month": "Mandatory reporting"})  # fmt: skip

    def test_publishing_and_unpublishing_from_the_admin_list(self):
        # One UPDATE statement, which sends no signal.
        admin = PostAdmin(Post, None)
        request = type("Request", (), {"_messages": None, "user": AnonymousUser()})()
        admin.message_user = lambda *args, **kwargs: None
        self.after(
            lambda: admin.publish(request, Post.objects.filter(pk=self.draft.pk)),
            shows={"home": "Draft on supervision"},
        )
        self.after(
            lambda: admin.unpublish(request, Post.objects.filter(pk=self.post.pk)),
            hides={"home": "Stepping up"},
        )

    def test_a_scheduled_post_appears_when_its_time_comes(self):
        make_post("Scheduled", author=self.author, published_at=NOW + datetime.timedelta(hours=1))
        self.warm()
        self.assertNotContains(self.client.get("/"), "Scheduled")
        with time_machine.travel(NOW + datetime.timedelta(hours=2), tick=False):
            self.assertContains(self.client.get("/"), "Scheduled")

    @override_settings(BLOG_COMMENTS_CLOSE_AFTER_DAYS=30)
    def test_comments_close_when_their_time_comes(self):
        pagecache.invalidate()  # the clock's next change, under this setting
        url = self.post.get_absolute_url()
        with time_machine.travel(london(2014, 5, 14, 9), tick=False):
            self.assertContains(self.client.get(url), 'id="comment-form"')
            self.assertEqual(queries_for(self.client, url)[0], token_queries())
        with time_machine.travel(london(2014, 5, 16, 9), tick=False):
            response = self.client.get(url)
            self.assertNotContains(response, 'id="comment-form"')
            self.assertContains(response, "Comments are closed.")

    def test_adding_and_removing_tags(self):
        self.after(
            lambda: self.older.tags.add("workforce"),
            shows={"tag": "Mandatory reporting", "older post": 'href="/tags/workforce/"'},
        )
        self.after(lambda: self.post.tags.remove("workforce"),
                   hides={"tag": "Stepping up"})  # fmt: skip

    def test_renaming_and_deleting_a_tag(self):
        def rename():
            tag = Tag.objects.get(name="Ofsted")
            tag.name = "Ofsted inspections"
            tag.save()

        self.after(rename, shows={"tags": "Ofsted inspections", "post": "Ofsted inspections"})
        self.after(lambda: Tag.objects.filter(name="Ofsted inspections").delete(),
                   hides={"tags": "Ofsted inspections", "post": "Ofsted inspections"})  # fmt: skip

    def test_adding_editing_and_removing_references(self):
        self.after(
            lambda: Reference.objects.create(post=self.older, number=1, citation="Laming (2009)"),
            shows={"older post": "Laming (2009)", "references": "Laming (2009)"},
        )

        def edit():
            reference = self.post.references.get(number=1)
            reference.citation = "Munro, E. (2011) The Munro review: final report."
            reference.save()

        self.after(edit, shows={"post": "final report", "references": "final report"})
        self.after(lambda: Reference.objects.filter(post=self.post).delete(),
                   hides={"post": "final report", "references": "final report"})  # fmt: skip

    def test_a_comment_confirmed_by_its_writer(self):
        def comment():
            comment_and_confirm(Client(), self.post, comment="Supervision matters most.")

        self.after(comment, shows={"post": "Supervision matters most.",
                                   "comments feed": "Supervision matters most.",
                                   "discussions": "Supervision matters most.",
                                   "home": "1 comment"})  # fmt: skip

    def test_approving_removing_and_highlighting_comments(self):
        reader = make_user("reader", first_name="Ann", last_name="Reader")
        with self.captureOnCommitCallbacks(execute=True):
            held = Comment.objects.create(
                content_object=self.post, site_id=settings.SITE_ID, user=reader,
                user_name="Ann Reader", comment="Held back for approval.", is_public=False,
                submit_date=NOW,
            )  # fmt: skip
        admin, request = CommentAdmin(Comment, None), self._staff_request()

        self.after(
            lambda: admin.approve_comments(request, Comment.objects.filter(pk=held.pk)),
            shows={"post": "Held back for approval.", "discussions": "Held back"},
        )
        self.after(
            lambda: admin.highlight_answers(request, Comment.objects.filter(pk=held.pk)),
            shows={"post": "Highlighted answer"},
        )
        self.after(
            lambda: admin.remove_comments(request, Comment.objects.filter(pk=held.pk)),
            hides={"post": "Held back for approval.", "comments feed": "Held back"},
        )

    def test_renaming_the_author(self):
        def rename():
            self.author.first_name = "Patricia"
            self.author.save()

        self.after(rename, shows={"post": "Patricia Writer", "atom": "Patricia Writer"})

    def test_signing_in_changes_nothing_readers_see(self):
        self.warm()
        staff = make_staff("editor", password="a-long-test-password")
        token = pagecache.current_token()
        # Through the admin's form: django-axes refuses a sign-in without a request.
        admin = reverse("admin:index")
        form = {"username": "editor", "password": "a-long-test-password", "next": admin}
        response = Client().post(reverse("admin:login"), form)
        self.assertRedirects(response, admin, fetch_redirect_response=False)
        staff.refresh_from_db()
        self.assertIsNotNone(staff.last_login)
        self.assertEqual(pagecache.current_token(), token)

    def _staff_request(self):
        from django.contrib.messages.storage.fallback import FallbackStorage
        from django.contrib.sessions.backends.db import SessionStore
        from django.test import RequestFactory

        request = RequestFactory().post("/admin/")
        request.user = make_staff()
        request.session = SessionStore()  # not the test client's: it would get a cookie
        request._messages = FallbackStorage(request)
        return request


class ConditionalGetTests(PageCacheTestCase):
    def test_an_unchanged_page_answers_304_and_a_changed_one_200(self):
        for url in ("/", self.post.get_absolute_url(), reverse("blog:feed-atom")):
            with self.subTest(url=url):
                first = self.client.get(url)
                etag = first["ETag"]
                self.assertIn("no-cache", first["Cache-Control"])
                again = self.client.get(url, headers={"if-none-match": etag})
                self.assertEqual(again.status_code, 304)
                self.assertEqual(again.content, b"")
                self.assertEqual(again["ETag"], etag)
                # Another reader's copy is the same page: the same validator.
                self.assertEqual(Client().get(url, headers={"if-none-match": etag}).status_code,
                                 304)  # fmt: skip
        self.post.title = "Stepping up, revised"
        self.post.save()
        changed = self.client.get("/", headers={"if-none-match": etag})
        self.assertEqual(changed.status_code, 200)
        self.assertNotEqual(changed["ETag"], etag)

    def test_pages_with_a_form_are_private_and_feeds_public(self):
        page = self.client.get(self.post.get_absolute_url())
        feed = self.client.get(reverse("blog:feed-atom"))
        self.assertIn("private", page["Cache-Control"])
        self.assertIn("public", feed["Cache-Control"])
        cached = self.client.get(self.post.get_absolute_url())
        self.assertIn("private", cached["Cache-Control"])


class ReadersKeepTheirOwnTests(PageCacheTestCase):
    def _form_fields(self, response) -> dict:
        form = soup(response).select_one("#comment-form")
        return {
            field["name"]: field.get("value", "")
            for field in form.select("input[name]")
            if field.get("type") != "checkbox"
        }

    def test_two_readers_can_both_comment_from_one_cached_page(self):
        url = self.post.get_absolute_url()
        ann, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
        first = ann.get(url)
        count, second = queries_for(bob, url)
        self.assertEqual(count, token_queries())  # Bob's page came from the cache
        ann_fields, bob_fields = self._form_fields(first), self._form_fields(second)
        self.assertNotEqual(ann_fields["csrfmiddlewaretoken"], bob_fields["csrfmiddlewaretoken"])
        self.assertNotEqual(ann.cookies["csrftoken"].value, bob.cookies["csrftoken"].value)
        self.assertNotIn(ann.cookies["csrftoken"].value.encode(), second.content)
        for client, fields, name in ((ann, ann_fields, "Ann"), (bob, bob_fields, "Bob")):
            fields |= {"name": name, "email": f"{name.lower()}@example.org", "url": "",
                       "comment": f"{name} agrees."}  # fmt: skip
            with self.captureOnCommitCallbacks(execute=True):
                response = client.post(reverse("comments-post-comment"), fields)
            self.assertEqual(response.status_code, 302, f"{name}'s comment was refused")
        self.assertEqual(len(mail.outbox), 2)  # a confirmation request each
        press(Client(), confirmation_path(mail.outbox[0]))
        self.assertContains(Client().get(url), "Ann agrees.")

    def test_a_token_from_another_readers_page_is_refused(self):
        url = self.post.get_absolute_url()
        ann, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
        ann_fields = self._form_fields(ann.get(url))
        bob.get(url)
        data = form_data(self.post) | {"csrfmiddlewaretoken": ann_fields["csrfmiddlewaretoken"]}
        response = bob.post(reverse("comments-post-comment"), data)
        self.assertEqual(response.status_code, 403)

    def test_staff_pages_are_never_served_to_readers(self):
        staff = make_staff("moderator", password="a-long-test-password")
        staff.user_permissions.add(
            Permission.objects.get(
                codename="can_moderate", content_type__app_label="django_comments"
            )
        )
        comment_and_confirm(Client(), self.post, comment="First!")
        editor = Client()
        editor.force_login(staff)
        url = self.post.get_absolute_url()
        self.assertContains(editor.get(url), "comment__remove")
        self.assertContains(editor.get(url), "comment__remove")
        reader = self.client.get(url)
        self.assertNotContains(reader, "comment__remove")
        self.assertNotContains(reader, "moderator")
        # And the other way round: a cached page is not what staff are served.
        self.assertContains(editor.get(url), "comment__remove")

    def test_signed_in_readers_get_cached_pages_with_their_own_name_and_token(self):
        from django.middleware.csrf import _does_token_match

        url = self.post.get_absolute_url()
        readers = []
        for username, full in (("ann", "Ann <Lee>"), ("bob", "")):
            user = make_user(username)
            user.first_name = full
            user.save()
            client = Client()
            client.force_login(user)
            readers.append((client, full or username))
        first_count, _ = queries_for(readers[0][0], url)
        for client, name in readers:
            count, response = queries_for(client, url)
            # The session, the user and their permissions: the page itself from the cache.
            self.assertLess(count, first_count)
            self.assertLessEqual(count, 5)
            self.assertContains(response, f"You are signed in as {escape(name)}:")
            self.assertNotContains(response, "pagecache-")
            secret = client.cookies[settings.CSRF_COOKIE_NAME].value
            tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
            self.assertTrue(tokens)
            self.assertTrue(all(_does_token_match(token, secret) for token in tokens))
        # Anonymous readers get their own page, without the signed-in form.
        self.assertNotContains(self.client.get(url), "You are signed in as")

    def test_staff_get_their_links_from_the_cache_and_readers_never_do(self):
        staff = make_staff("chief-editor")
        editor = Client()
        editor.force_login(staff)
        reader = Client()
        reader.force_login(make_user())
        url = self.post.get_absolute_url()
        edit = reverse("admin:blog_post_change", args=[self.post.pk])
        editor.get(url)
        count, response = queries_for(editor, url)
        self.assertContains(response, edit)
        self.assertLessEqual(count, 5)
        self.assertNotContains(reader.get(url), edit)
        self.assertNotContains(self.client.get(url), edit)

    def test_a_signed_in_readers_pages_are_never_stale(self):
        reader = Client()
        reader.force_login(make_user())
        url = self.post.get_absolute_url()
        reader.get(url)
        comment_and_confirm(Client(), self.post, comment="Seen by a signed-in reader.")
        self.assertContains(reader.get(url), "Seen by a signed-in reader.")

    def test_while_one_request_builds_a_page_again_the_others_get_it_as_it_was(self):
        url = self.post.get_absolute_url()
        self.client.get(url)
        # Another request is building the page after a change (the lock it holds).
        self.post.title = "Changed while another request builds the page"
        with self.captureOnCommitCallbacks(execute=True):  # the new token, published
            self.post.save()
        key = pagecache._key(RequestFactory().get(url), pagecache.ANONYMOUS)
        cache.add(f"building:{key}", 1, pagecache.BUILD_SECONDS)
        count, meanwhile = queries_for(Client(), url)
        self.assertEqual(count, token_queries())
        self.assertNotContains(meanwhile, "Changed while")
        # Not to the reader who made the change (or anyone who wrote a moment ago).
        writer = Client()
        writer.cookies[pagecache.FRESH_COOKIE] = "1"
        self.assertContains(writer.get(url), "Changed while")
        # Built, the page is everyone's.
        cache.delete(f"building:{key}")
        self.assertContains(Client().get(url), "Changed while")
        self.assertContains(Client().get(url), "Changed while")

    def test_a_write_marks_the_writer_for_a_few_seconds(self):
        writer = Client()
        writer.get(self.post.get_absolute_url())  # the CSRF cookie a browser holds
        comment_and_confirm(writer, self.post, comment="Mine.")
        cookie = writer.cookies[pagecache.FRESH_COOKIE]
        self.assertEqual(cookie["max-age"], pagecache.FRESH_SECONDS)
        self.assertTrue(cookie["httponly"])

    def test_a_reader_with_a_message_waiting_gets_it(self):
        url = reverse("blog:post-index")
        self.client.get(url)
        reader = Client()
        reader.cookies["messages"] = "anything"
        count, _ = queries_for(reader, url)
        self.assertGreater(count, 1)

    def test_a_draft_preview_is_never_stored(self):
        staff = make_staff()
        editor = Client()
        editor.force_login(staff)
        url = self.draft.get_absolute_url()
        self.assertEqual(editor.get(url).status_code, 200)
        self.assertEqual(self.client.get(url).status_code, 404)


@override_settings(CACHES={"default": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:6379/15",
}})  # fmt: skip
class RedisTests(PageCacheTestCase):
    """The production cache: one shared by every worker."""

    def setUp(self):
        super().setUp()
        try:
            cache.clear()
        except Exception as error:  # any failure to reach Redis
            if os.environ.get("CI") == "true":
                raise
            self.skipTest(f"no Redis at 127.0.0.1:6379 ({error})")

    def tearDown(self):
        cache.clear()

    def test_pages_are_cached_in_redis_and_never_stale(self):
        url = self.post.get_absolute_url()
        self.client.get(url)
        # The token comes from Redis with the page, in one round trip: no query.
        self.assertEqual(queries_for(Client(), url)[0], 0)
        self.after(lambda: comment_and_confirm(Client(), self.post, comment="Redis works."),
                   shows={"post": "Redis works."})  # fmt: skip

    def test_the_token_in_redis_is_the_databases_after_every_commit(self):
        self.client.get("/")
        before = cache.get(pagecache.TOKEN_KEY)
        with self.captureOnCommitCallbacks(execute=True):
            self.post.title = "A new title"
            self.post.save()
            # Until the commit, readers are sent to the database for the token.
            self.assertIsNone(cache.get(pagecache.TOKEN_KEY))
        after = cache.get(pagecache.TOKEN_KEY)
        self.assertEqual(after, tuple(pagecache._token_row()))
        self.assertNotEqual(after, before)
        # A reader who read the old token before the commit cannot put it back.
        self.assertFalse(cache.add(pagecache.TOKEN_KEY, before))
        self.assertContains(Client().get(self.post.get_absolute_url()), "A new title")


class SettingsTests(TestCase):
    def test_cache_url(self):
        from config.settings.base import cache_from_url

        self.assertEqual(
            cache_from_url("redis://127.0.0.1:6379/1"),
            {"BACKEND": "django.core.cache.backends.redis.RedisCache",
             "LOCATION": "redis://127.0.0.1:6379/1",
             "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}},
        )  # fmt: skip
        self.assertEqual(cache_from_url("locmem://")["BACKEND"],
                         "django.core.cache.backends.locmem.LocMemCache")  # fmt: skip
        with self.assertRaises(ValueError):
            cache_from_url("memcached://127.0.0.1")


class DeleteTests(PageCacheTestCase):
    def test_a_delete_changes_the_token_once_however_many_rows_it_takes(self):
        for i in range(5):
            Reference.objects.create(post=self.older, number=i + 1, citation=f"Work {i}")
        self.older.tags.add("a", "b", "c")
        with CaptureQueriesContext(connection) as queries:
            self.older.delete()
        changes = [q for q in queries if "blog_contentversion" in q["sql"] and "UPDATE" in q["sql"]]
        self.assertEqual(len(changes), 1)
        self.assertNotContains(self.client.get("/"), "Mandatory reporting")
        self.after(lambda: Post.objects.filter(pk=self.post.pk).delete(),
                   hides={"home": "Stepping up"})  # fmt: skip
