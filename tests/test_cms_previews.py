"""Previews to share (blog.previews, blog.admin_previews): a signed link to a draft or
scheduled post that anyone holding it can read until it expires or is revoked; marked
as a preview, never indexed, never cached, in no feed, sitemap or search."""

from __future__ import annotations

import datetime

import time_machine
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blog import previews
from blog.models import Post, PreviewLink

from .factories import london, make_post, make_staff, make_user
from .html import soup, text
from .sites import ROOT, OnSiteDomainTestCase

NOW = london(2014, 6, 1, 12)
DAY = datetime.timedelta(days=1)


def preview_path(link: PreviewLink) -> str:
    return reverse("blog:preview", args=[previews.token_for(link)])


def stretched(link_id: int) -> str:
    """A token's first part claiming a far longer lifetime for the link."""
    return signing.b64_encode(f'{{"link":{link_id},"seconds":9999999}}'.encode()).decode()


def change_url(post: Post) -> str:
    return reverse("admin:blog_post_change", args=[post.pk])


def create_url(post: Post) -> str:
    return reverse("admin:blog_post_preview_create", args=[post.pk])


def revoke_url(link: PreviewLink) -> str:
    return reverse("admin:blog_post_preview_revoke", args=[link.post_id, link.pk])


@time_machine.travel(NOW, tick=False)
class PreviewPageTests(OnSiteDomainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.staff = make_staff("editor", first_name="Eda", last_name="Editor")
        cls.published = make_post("Already out", "Public text.", published_at=london(2014, 5, 1, 9))
        cls.draft = make_post(
            "Draft on supervision",
            "Supervision matters [1]. Zanzibarish word.",
            status=Post.Status.DRAFT,
            published_at=london(2014, 5, 20, 9),
            tags=["workforce"],
            references={1: "Munro, E. (2011) The Munro review."},
        )
        cls.scheduled = make_post(
            "Coming soon", "Later text.", published_at=NOW + 3 * DAY, tags=["future"]
        )

    def link(self, post: Post | None = None, duration: datetime.timedelta = DAY) -> PreviewLink:
        return previews.create_link(post or self.draft, self.staff, duration)

    def test_a_valid_link_shows_the_draft_marked_as_a_preview(self):
        response = Client().get(preview_path(self.link()))
        self.assertEqual(response.status_code, 200)
        page = soup(response)
        self.assertEqual(text(page.select_one("h1")), "Draft on supervision")
        banner = page.select_one("article .notice[role=status]")
        self.assertTrue(text(banner).startswith("Preview — this post is not published yet"))
        self.assertIn("the link expires on 2 June 2014, 12:00", text(banner))
        self.assertEqual(banner.strong.get_text(), "Preview")
        # The references render, with their markers' links.
        self.assertIn("Munro, E. (2011)", text(page.select_one("#references")))
        self.assertIsNotNone(page.select_one(".post__body a[href^='#']"))
        self.assertIn("workforce", text(page.select_one(".post-tags")))

    def test_the_page_is_never_indexed_nor_cached(self):
        response = Client().get(preview_path(self.link()))
        page = soup(response)
        self.assertEqual(page.select_one("meta[name=robots]")["content"], "noindex, nofollow")
        self.assertEqual(response["X-Robots-Tag"], "noindex, nofollow")
        cache_control = response["Cache-Control"]
        for word in ("no-store", "no-cache", "private", "max-age=0"):
            self.assertIn(word, cache_control)
        # No canonical address, card or discussion: the post's own is not live yet.
        self.assertIsNone(page.select_one("link[rel=canonical]"))
        self.assertIsNone(page.select_one("meta[property='og:url']"))
        self.assertIsNone(page.select_one("#comments"))
        self.assertIsNone(page.select_one("form[action*='comments']"))

    def test_the_page_cache_never_serves_a_preview(self):
        link = self.link()
        path = preview_path(link)
        reader = Client()
        self.assertEqual(reader.get(path).status_code, 200)
        with CaptureQueriesContext(connection) as second:
            self.assertEqual(reader.get(path).status_code, 200)
        # Built afresh: the link and the post were read again.
        self.assertTrue(any("blog_previewlink" in q["sql"] for q in second.captured_queries))
        previews.revoke(link, self.staff)
        self.assertEqual(reader.get(path).status_code, 410)

    def test_a_scheduled_post_can_be_previewed(self):
        response = Client().get(preview_path(self.link(self.scheduled)))
        self.assertEqual(response.status_code, 200)
        banner = text(soup(response).select_one("article .notice"))
        self.assertIn("scheduled for 4 June 2014, 12:00", banner)

    def test_an_expired_link_is_gone(self):
        path = preview_path(self.link(duration=datetime.timedelta(hours=1)))
        self.assertEqual(Client().get(path).status_code, 200)
        with time_machine.travel(NOW + datetime.timedelta(hours=1, seconds=1)):
            response = Client().get(path)
        self.assertEqual(response.status_code, 410)
        self.assertEqual(response["X-Robots-Tag"], "noindex, nofollow")
        self.assertIn("no-store", response["Cache-Control"])
        page = soup(response)
        self.assertIn("has expired", text(page.select_one("main")))
        self.assertNotIn("Supervision matters", response.content.decode())

    def test_the_signature_alone_expires_the_link_too(self):
        # A row stretched by hand (or by a bug) does not stretch the signed token.
        link = self.link(duration=datetime.timedelta(hours=1))
        PreviewLink.objects.filter(pk=link.pk).update(expires_at=NOW + 30 * DAY)
        with time_machine.travel(NOW + datetime.timedelta(hours=2)):
            response = Client().get(preview_path(link))
        self.assertEqual(response.status_code, 410)

    def test_a_revoked_link_is_gone(self):
        link = self.link()
        previews.revoke(link, self.staff)
        self.assertIsNotNone(link.revoked_at)
        response = Client().get(preview_path(link))
        self.assertEqual(response.status_code, 410)
        self.assertIn("withdrawn", text(soup(response).select_one("main")))
        self.assertNotIn("Supervision matters", response.content.decode())

    def test_a_tampered_or_forged_token_is_not_found(self):
        link = self.link()
        token = previews.token_for(link)
        other = self.link(self.scheduled)
        forged = [
            token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
            # This link's id with a longer lifetime, under its signature.
            ":".join([stretched(link.pk), *token.split(":")[1:]]),
            # Another link's id under this link's signature.
            f"{previews.token_for(other).split(':')[0]}:{':'.join(token.split(':')[1:])}",
            signing.dumps({"link": other.pk}),  # signed without the previews' salt
            "nothing",
        ]
        for bad in forged:
            response = Client().get(reverse("blog:preview", args=[bad]))
            self.assertEqual(response.status_code, 404, bad)
            self.assertNotIn("Later text", response.content.decode())

    def test_a_link_to_a_post_published_since_leads_to_the_post(self):
        link = self.link(self.scheduled)
        with time_machine.travel(NOW + 4 * DAY):
            response = Client().get(preview_path(link))
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], self.scheduled.get_absolute_url())

    def test_a_link_to_a_deleted_post_is_not_found(self):
        link = self.link()
        path = preview_path(link)
        Post.objects.filter(pk=self.draft.pk).delete()
        self.assertEqual(Client().get(path).status_code, 404)

    def test_no_link_for_a_live_post(self):
        with self.assertRaises(previews.PreviewError):
            previews.create_link(self.published, self.staff, DAY)
        with self.assertRaises(previews.PreviewError):
            previews.create_link(self.draft, self.staff, 31 * DAY)

    def test_the_same_link_always_has_the_same_token(self):
        link = self.link()
        self.assertEqual(previews.token_for(link), previews.token_for(PreviewLink.objects.get()))
        self.assertEqual(previews.url_for(link), ROOT + preview_path(link))

    def test_a_previewed_post_stays_out_of_feeds_sitemap_and_search(self):
        self.link()
        self.link(self.scheduled)
        for path in (reverse("blog:feed-atom"), reverse("blog:feed-rss"), "/sitemap.xml",
                     reverse("blog:tag-feed", args=["workforce"])):  # fmt: skip
            response = Client().get(path)
            self.assertIn(response.status_code, (200, 404), path)
            body = response.content.decode()
            for post in (self.draft, self.scheduled):
                self.assertNotIn(post.title, body, path)
                self.assertNotIn(post.slug, body, path)
            self.assertNotIn("/preview/", body, path)
        search = Client().get(reverse("blog:search"), {"q": "zanzibarish"})
        self.assertNotIn("Draft on supervision", search.content.decode())
        self.assertIn("Already out", Client().get(reverse("blog:feed-atom")).content.decode())

    def test_the_query_count_does_not_grow_with_the_post(self):
        small = self.link()
        big_post = make_post(
            "Big draft",
            " ".join(f"Point [{n}]." for n in range(1, 13)),
            status=Post.Status.DRAFT,
            tags=[f"tag {n}" for n in range(8)],
            references={n: f"Source {n}" for n in range(1, 13)},
        )
        big = self.link(big_post)
        counts = []
        for link in (small, big):
            path = preview_path(link)
            Client().get(path)  # the sidebar's fragments, cached once per change
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(Client().get(path).status_code, 200)
            counts.append(len(queries))
        self.assertEqual(counts[0], counts[1])
        self.assertLessEqual(counts[0], 5, counts)


@time_machine.travel(NOW, tick=False)
class PreviewAdminTests(OnSiteDomainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.staff = make_staff("editor", first_name="Eda", last_name="Editor")
        cls.draft = make_post("A draft", "Draft text.", status=Post.Status.DRAFT)
        cls.scheduled = make_post("Later", "Later text.", published_at=NOW + 2 * DAY)
        cls.live = make_post("Live", "Live text.", published_at=NOW - DAY)

    def setUp(self):
        self.client.force_login(self.staff)

    def test_staff_create_a_link_and_see_it_on_the_form(self):
        response = self.client.post(create_url(self.draft), {"duration": "7d"})
        self.assertRedirects(response, change_url(self.draft) + "#preview-links",
                             fetch_redirect_response=False)  # fmt: skip
        link = PreviewLink.objects.get()
        self.assertEqual(link.post, self.draft)
        self.assertEqual(link.created_by, self.staff)
        self.assertEqual(link.expires_at, NOW + 7 * DAY)
        page = soup(self.client.get(change_url(self.draft)))
        box = page.select_one("#preview-links")
        self.assertIn("Preview link made, valid for 7 days", text(page.select_one(".messagelist")))
        field = box.select_one("input.preview-links__url")
        self.assertEqual(field["value"], previews.url_for(link))
        self.assertTrue(field["value"].startswith(ROOT + "/preview/"))
        self.assertTrue(field.has_attr("readonly"))
        self.assertEqual(box.select_one("[data-copy-from]")["data-copy-from"], field["id"])
        self.assertIn("8 June 2014, 12:00", text(box))
        self.assertIn("Eda Editor", text(box))
        self.assertEqual(box.select_one(".preview-links__revoke")["action"], revoke_url(link))
        # The copy button's script is a file (the CSP allows no inline script).
        self.assertIsNotNone(box.select_one("script[src$='preview_links.js']"))
        inline = [s for s in page.select("script:not([src])") if (s.string or "").strip()]
        self.assertEqual([s for s in inline if s.get("type") != "application/json"], [])
        # Outside the post's own form: forms do not nest.
        self.assertIsNone(page.select_one("form#post_form #preview-links"))
        # The link works for a reader.
        self.assertEqual(Client().get(preview_path(link)).status_code, 200)

    def test_a_scheduled_post_gets_links_too(self):
        self.client.post(create_url(self.scheduled), {"duration": "1h"})
        link = PreviewLink.objects.get()
        self.assertEqual(link.expires_at, NOW + datetime.timedelta(hours=1))
        self.assertEqual(Client().get(preview_path(link)).status_code, 200)

    def test_a_live_post_says_previews_are_for_unpublished_posts(self):
        box = soup(self.client.get(change_url(self.live))).select_one("#preview-links")
        self.assertIn("Previews are for drafts and scheduled posts", text(box))
        self.assertIsNone(box.select_one("form"))
        self.client.post(create_url(self.live), {"duration": "1d"})
        self.assertFalse(PreviewLink.objects.exists())

    def test_an_unknown_duration_is_refused_with_a_message(self):
        response = self.client.post(create_url(self.draft), {"duration": "1y"}, follow=True)
        self.assertIn("Choose how long", text(soup(response).select_one(".messagelist")))
        self.assertFalse(PreviewLink.objects.exists())

    def test_staff_revoke_a_link(self):
        link = previews.create_link(self.draft, self.staff, DAY)
        path = preview_path(link)
        response = self.client.post(revoke_url(link), follow=True)
        self.assertIn("revoked", text(soup(response).select_one(".messagelist")))
        link.refresh_from_db()
        self.assertEqual(link.revoked_at, NOW)
        self.assertEqual(Client().get(path).status_code, 410)
        # A revoked link is no longer listed.
        box = soup(self.client.get(change_url(self.draft))).select_one("#preview-links")
        self.assertIsNone(box.select_one("input.preview-links__url"))

    def test_a_link_of_another_post_cannot_be_revoked_through_this_one(self):
        link = previews.create_link(self.draft, self.staff, DAY)
        url = reverse("admin:blog_post_preview_revoke", args=[self.scheduled.pk, link.pk])
        self.assertEqual(self.client.post(url).status_code, 404)
        link.refresh_from_db()
        self.assertIsNone(link.revoked_at)

    def test_a_link_id_beyond_what_the_database_holds_is_not_found(self):
        # Django finds no row for a number this large (an `in` lookup would overflow).
        url = reverse("admin:blog_post_preview_revoke", args=[self.draft.pk, 10**25])
        self.assertEqual(self.client.post(url).status_code, 404)

    def test_post_only(self):
        link = previews.create_link(self.draft, self.staff, DAY)
        self.assertEqual(self.client.get(create_url(self.draft)).status_code, 405)
        self.assertEqual(self.client.get(revoke_url(link)).status_code, 405)
        self.assertEqual(PreviewLink.objects.valid().count(), 1)

    def test_csrf_is_checked(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.staff)
        link = previews.create_link(self.draft, self.staff, DAY)
        self.assertEqual(client.post(create_url(self.draft), {"duration": "1d"}).status_code, 403)
        self.assertEqual(client.post(revoke_url(link)).status_code, 403)
        self.assertEqual(PreviewLink.objects.valid().count(), 1)

    def test_staff_who_may_not_change_posts_cannot_make_or_revoke_links(self):
        link = previews.create_link(self.draft, self.staff, DAY)
        client = Client()
        client.force_login(make_user("visitor", is_staff=True))
        self.assertEqual(client.post(create_url(self.draft), {"duration": "1d"}).status_code, 403)
        self.assertEqual(client.post(revoke_url(link)).status_code, 403)
        reader = Client()
        self.assertEqual(reader.post(create_url(self.draft), {"duration": "1d"}).status_code, 302)
        self.assertEqual(PreviewLink.objects.count(), 1)
        self.assertEqual(PreviewLink.objects.valid().count(), 1)
