"""Authors (issue 17): every author has a profile and a page at /authors/<slug>/ with
their biography and published posts, paged, and an Atom feed; bylines, JSON-LD and
Open Graph lead to it; the admin edits profiles."""

from __future__ import annotations

import datetime
import importlib
import json

import time_machine
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blog.models import Author, Image, Post
from blog.writing import post_writes

from .factories import admin_post_form, london, make_post, make_staff, make_user
from .html import soup, text
from .sites import ROOT, OnSiteDomainTestCase
from .test_feeds import parse

NOW = london(2014, 6, 1, 12)


class ProfilesTests(TestCase):
    def test_a_new_author_gets_a_profile_through_the_write_path(self):
        user = make_user("pw", first_name="Pat", last_name="Writer")
        self.assertFalse(Author.objects.filter(user=user).exists())
        make_post("First", author=user)
        author = Author.objects.get(user=user)
        self.assertEqual(author.slug, "pat-writer")
        self.assertEqual(author.name, "Pat Writer")
        make_post("Second", author=user)  # one profile, kept as it is
        self.assertEqual(Author.objects.filter(user=user).count(), 1)

    def test_namesakes_get_unique_slugs_and_a_login_name_is_never_a_slug(self):
        first = make_user("pw1", first_name="Pat", last_name="Writer")
        second = make_user("pw2", first_name="Pat", last_name="Writer")
        nameless = make_user("jbloggs73")
        with post_writes() as writes:
            for user in (first, second, nameless):
                post = Post(
                    title=f"By {user.username}",
                    body="x",
                    author=user,
                    status=Post.Status.PUBLISHED,
                    published_at=NOW,
                )
                post.save()
                writes.add(post)
        slugs = dict(Author.objects.values_list("user__username", "slug"))
        self.assertEqual(
            slugs, {"pw1": "pat-writer", "pw2": "pat-writer-2", "jbloggs73": "the-editors"}
        )

    def test_the_admin_write_of_a_post_gives_its_author_a_profile(self):
        staff = make_staff("root", first_name="Ann", last_name="Editor")
        self.client.force_login(staff)
        response = self.client.post(reverse("admin:blog_post_add"), admin_post_form(staff))
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Author.objects.get(user=staff).slug, "ann-editor")

    def test_the_display_name_is_the_byline(self):
        post = make_post("Named", author=make_user("pw", first_name="Pat", last_name="Writer"))
        Author.objects.filter(user=post.author).update(display_name="  Dr  P. Writer ")
        page = soup(self.client.get(post.get_absolute_url()))
        self.assertEqual(text(page.select_one(".post-meta__author")), "by Dr P. Writer")
        body = self.client.get(reverse("blog:feed-atom")).content.decode()
        self.assertIn("<name>Dr P. Writer</name>", body)


@time_machine.travel(NOW)
class AuthorPageTests(OnSiteDomainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.pat = make_user("pw", first_name="Pat", last_name="Writer")
        cls.other = make_user("ow", first_name="Oli", last_name="Other")
        start = london(2014, 5, 1, 9)
        cls.posts = [
            make_post(f"Pat {i}", author=cls.pat, published_at=start + datetime.timedelta(days=i))
            for i in range(12)
        ]
        cls.draft = make_post("Pat's draft", author=cls.pat, status=Post.Status.DRAFT)
        cls.scheduled = make_post(
            "Pat's next", author=cls.pat, published_at=NOW + datetime.timedelta(days=2)
        )
        cls.others = make_post("Oli's", author=cls.other, published_at=start)
        cls.author = Author.objects.get(user=cls.pat)
        cls.author.display_name = "Pat Writer"
        cls.author.bio = "Social worker <b>and</b> manager.\n\nWrites on inspections."
        cls.author.save()
        cls.url = reverse("blog:author-detail", args=[cls.author.slug])

    def test_the_page_has_the_biography_escaped_and_only_published_posts_paged(self):
        page = soup(self.client.get(self.url))
        self.assertEqual(text(page.h1), "Pat Writer")
        paragraphs = [text(p) for p in page.select(".author__bio p")]
        self.assertEqual(
            paragraphs, ["Social worker <b>and</b> manager.", "Writes on inspections."]
        )
        self.assertIsNone(page.select_one(".author__bio b"))
        titles = [text(a) for a in page.select(".post-summary__title a")]
        first_page = [post.title for post in reversed(self.posts)][:10]
        self.assertEqual(titles, first_page)
        self.assertIn("12 posts", text(page.select_one(".breadcrumb")))
        second = soup(self.client.get(self.url + "?page=2"))
        self.assertEqual(
            [text(a) for a in second.select(".post-summary__title a")], ["Pat 1", "Pat 0"]
        )
        self.assertNotIn("Pat's draft", str(page) + str(second))
        self.assertNotIn("Pat's next", str(page) + str(second))
        self.assertNotIn("Oli's", str(page) + str(second))

    def test_the_photo_has_its_size_and_alternative_text(self):
        self.author.photo = Image.objects.create(
            file="images/2014/05/pat.jpg", width=300, height=200, alt_text="Pat at a desk"
        )
        self.author.save()
        img = soup(self.client.get(self.url)).select_one("img.author__photo")
        self.assertEqual((img["width"], img["height"], img["alt"]), ("300", "200", "Pat at a desk"))
        self.assertTrue(img["src"].endswith("images/2014/05/pat.jpg"))

    def test_the_photo_is_its_smallest_rendition(self):
        photo = Image.objects.create(
            file="images/2014/05/pat.jpg", width=1600, height=1200, format="JPEG",
            digest="f" * 64, alt_text="Pat at a desk",
        )  # fmt: skip
        for width, fmt in ((960, "JPEG"), (480, "JPEG"), (480, "WEBP"), (1600, "JPEG")):
            photo.renditions.create(
                width=width, height=width * 3 // 4, format=fmt,
                file=f"images/renditions/2014/05/pat-{width}.{fmt.lower()}",
            )  # fmt: skip
        self.author.photo = photo
        self.author.save()
        img = soup(self.client.get(self.url)).select_one("img.author__photo")
        self.assertTrue(img["src"].endswith("images/renditions/2014/05/pat-480.jpeg"), img)
        self.assertEqual((img["width"], img["height"]), ("480", "360"))

    def test_unknown_or_unpublished_authors_have_no_page(self):
        drafter = make_user("dw", first_name="Dee", last_name="Drafter")
        make_post("Only a draft", author=drafter, status=Post.Status.DRAFT)
        for slug in ("no-such-author", Author.objects.get(user=drafter).slug):
            with self.subTest(slug=slug):
                self.assertEqual(self.client.get(f"/authors/{slug}/").status_code, 404)
                feed = reverse("blog:author-feed", args=[slug])
                self.assertEqual(self.client.get(feed).status_code, 404)

    def test_the_feed_is_atom_with_only_the_authors_published_posts(self):
        url = reverse("blog:author-feed", args=[self.author.slug])
        response = self.client.get(url)
        self.assertEqual(response["Content-Type"], "application/atom+xml; charset=utf-8")
        feed = parse(response)
        self.assertEqual(feed.feed.title, "Child Protection Social Work: posts by Pat Writer")
        self.assertEqual(feed.feed.link, f"{ROOT}{self.url}")
        self.assertEqual({link.rel: link.href for link in feed.feed.links}["self"], f"{ROOT}{url}")
        self.assertEqual(
            [entry.link for entry in feed.entries],
            [f"{ROOT}{p.get_absolute_url()}" for p in reversed(self.posts)],
        )
        self.assertEqual(
            feed.entries[0].author_detail, {"name": "Pat Writer", "href": f"{ROOT}{self.url}"}
        )

    def test_the_page_announces_its_feed(self):
        page = soup(self.client.get(self.url))
        feed = reverse("blog:author-feed", args=[self.author.slug])
        links = page.select(f'head link[rel="alternate"][href="{feed}"]')
        self.assertEqual([link["type"] for link in links], ["application/atom+xml"])
        self.assertIsNotNone(page.select_one(f'main a[href="{feed}"]'))

    def test_bylines_link_to_the_author_page(self):
        pages = ["/", self.posts[0].get_absolute_url(), "/2014/05/", "/search/?q=Pat", self.url]
        for path in pages:
            with self.subTest(path=path):
                bylines = soup(self.client.get(path)).select(".post-meta__author")
                self.assertTrue(bylines)
                for byline in bylines:
                    link = byline.select_one("a")
                    self.assertIn(link["href"], {self.url, self.others.author_url})
                    self.assertEqual(link["rel"], ["author"])

    def test_json_ld_and_open_graph_carry_the_author_page(self):
        page = soup(self.client.get(self.posts[0].get_absolute_url()))
        data = json.loads(page.select_one('script[type="application/ld+json"]').string)
        self.assertEqual(
            data["author"], {"@type": "Person", "name": "Pat Writer", "url": f"{ROOT}{self.url}"}
        )
        meta = page.select_one('meta[property="article:author"]')
        self.assertEqual(meta["content"], f"{ROOT}{self.url}")


class AuthorPageQueryTests(TestCase):
    """The author page costs the same with one post as with thirty (three pages)."""

    def build(self, n: int) -> str:
        user = make_user(f"writer{n}", first_name="Writer", last_name=str(n))
        start = london(2014, 4, 1, 9)
        with post_writes() as writes:
            posts = Post.objects.bulk_create(
                Post(
                    title=f"Post {i}",
                    slug=f"w{n}-post-{i}",
                    body="x",
                    author=user,
                    status=Post.Status.PUBLISHED,
                    published_at=start + datetime.timedelta(hours=i),
                )
                for i in range(n)
            )
            for post in posts:
                post.tags.add("workforce", f"topic {post.pk % 5}")
            writes.add_many(posts)
        return Author.objects.get(user=user).get_absolute_url()

    def count(self, url: str) -> int:
        Site.objects.get_current()
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(url).status_code, 200)
        return len(queries)

    def test_a_fixed_number_of_queries(self):
        one, thirty = self.build(1), self.build(30)
        # The cache's version, the sidebar's 2, the author, whether they have posts, the
        # count, the page of posts with their bylines, the page's tags, the header's pages.
        self.assertEqual(self.count(one), 9)
        self.assertEqual(self.count(thirty), 9)
        self.assertEqual(self.count(thirty + "?page=3"), 9)
        feed = reverse("blog:author-feed", args=[thirty.strip("/").split("/")[-1]])
        cache.clear()
        with self.assertNumQueries(5):  # the version, the author, then as the posts feed
            self.client.get(feed)


class MigrationTests(TestCase):
    def test_the_data_migration_gives_every_writer_a_profile(self):
        migration = importlib.import_module("blog.migrations.0015_author_profiles")
        writer = make_post("A post", author=make_user("w", first_name="Zoë", last_name="Ng"))
        reader = make_user("r", first_name="Rea", last_name="Der")
        Author.objects.all().delete()  # as before the migration
        migration.create_profiles(django_apps, None)
        self.assertEqual(
            list(Author.objects.values_list("user", "slug")), [(writer.author_id, "zoe-ng")]
        )
        self.assertFalse(Author.objects.filter(user=reader).exists())


class FixtureAuthorTests(TestCase):
    def test_the_april_2014_author_has_a_named_page(self):
        call_command("load_april_2014", verbosity=0)
        author = Author.objects.get(user__username="mills")
        self.assertEqual(author.name, "Mr Mills")
        response = self.client.get(author.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        page = soup(response)
        self.assertEqual(text(page.h1), "Mr Mills")
        self.assertEqual(len(page.select(".post-meta__author")), 7)
        self.assertNotIn(">mills<", response.content.decode())


class AuthorAdminTests(TestCase):
    def test_the_list_counts_posts_and_the_form_saves(self):
        staff = make_staff("root", first_name="Ann", last_name="Editor")
        make_post("One", author=staff)
        make_post("Two", author=staff)
        self.client.force_login(staff)
        page = soup(self.client.get(reverse("admin:blog_author_changelist")))
        self.assertEqual(text(page.select_one("td.field-post_count")), "2")
        author = Author.objects.get(user=staff)
        url = reverse("admin:blog_author_change", args=[author.pk])
        form = soup(self.client.get(url))
        self.assertEqual(form.select_one("a.viewsitelink")["href"], author.get_absolute_url())
        response = self.client.post(
            url,
            {
                "user": staff.pk,
                "display_name": "A. Editor",
                "slug": "a-editor",
                "bio": "Edits.",
                "photo": "",
            },
        )
        self.assertEqual(response.status_code, 302)
        author.refresh_from_db()
        self.assertEqual((author.display_name, author.slug), ("A. Editor", "a-editor"))

    def test_staff_without_the_permission_edit_their_own_profile_only(self):
        mine = make_user("me", first_name="Me", last_name="Staff", is_staff=True)
        theirs = make_user("them", first_name="Them", last_name="Staff", is_staff=True)
        mine.user_permissions.add(Permission.objects.get(codename="view_post"))
        make_post("Mine", author=mine)
        make_post("Theirs", author=theirs)
        own, other = Author.objects.get(user=mine), Author.objects.get(user=theirs)
        self.client.force_login(mine)
        listing = soup(self.client.get(reverse("admin:blog_author_changelist")))
        self.assertEqual([text(td) for td in listing.select("td.field-slug")], [own.slug])
        other_url = reverse("admin:blog_author_change", args=[other.pk])
        self.assertIn(self.client.get(other_url).status_code, (302, 403, 404))
        url = reverse("admin:blog_author_change", args=[own.pk])
        response = self.client.post(
            url,
            {"user": theirs.pk, "display_name": "Me!", "slug": own.slug, "bio": "", "photo": ""},
        )
        self.assertEqual(response.status_code, 302)
        own.refresh_from_db()
        self.assertEqual((own.display_name, own.user_id), ("Me!", mine.pk))
