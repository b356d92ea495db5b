"""The page cache against what readers and staff write, and against made-up addresses
(issue 14, items 1 and 7).

1. Each reader's CSRF token goes where the cache's own placeholder is, and nowhere
   else: text that imitates the form's field (in every field a reader or staff member
   fills) comes out of the cache byte for byte as an uncached render shows it, for
   every reader, from one worker's cache or another's, and the feeds stay XML.
2. Only canonical addresses are stored: no made-up query, page spelling or host port
   adds an entry to the cache, and the canonical pages are still served from it.
"""

from __future__ import annotations

import os
import pickle
import xml.etree.ElementTree as ET  # nosec B405 # our own sitemap, parsed to check it
from unittest import mock
from urllib.parse import urlencode

import feedparser
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.cache import caches
from django.db import connection
from django.middleware.csrf import _does_token_match
from django.test import Client, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from taggit.models import Tag

from blog import pagecache
from blog.models import Comment, Post, Reference
from blog.writing import save_post
from config.settings.base import cache_from_url

from ..caching import token_queries
from ..factories import london, make_post, make_user
from ..html import soup
from .corpus import Payload, _family

NOW = london(2014, 4, 20, 12)
CSRF_NAME = "csrfmiddlewaretoken"
# The shape of today's placeholder (blog.pagecache.csrf_placeholder), and the bytes the
# cache rewrote before.
NEW_SHAPE = "pagecache-csrf-" + "0123456789abcdef" * 2
OLD_PLACEHOLDER = "\x00csrf-token\x00"

# Text that imitates what the page cache rewrites: the CSRF field, as written, quoted
# otherwise, escaped, cut up by Markdown, in CDATA, the old placeholder and the new
# one's shape, and long enough to reach past the rest of a page.
CSRF_LOOKALIKES = _family(
    ("field", f'<input type="hidden" name="{CSRF_NAME}" value="forged">'),
    ("attributes", f'name="{CSRF_NAME}" value="forged"'),
    ("unclosed", f'name="{CSRF_NAME}" value="'),
    ("twice", f'name="{CSRF_NAME}" value="a" and name="{CSRF_NAME}" value="b"'),
    ("empty-value", f'name="{CSRF_NAME}" value=""'),
    ("single-quotes", f"name='{CSRF_NAME}' value='forged'"),
    ("unquoted", f"name={CSRF_NAME} value=forged"),
    ("entities", f"name=&quot;{CSRF_NAME}&quot; value=&quot;forged&quot;"),
    ("numeric-entities", f"name=&#34;{CSRF_NAME}&#x22; value=&#34;"),
    ("markdown-code", f'Look: `name="{CSRF_NAME}" value="` there'),
    ("markdown-split", f'name="{CSRF_NAME}" **value="** then *"*'),
    ("markdown-block", f'    <input name="{CSRF_NAME}" value="\n\nand after'),
    ("markdown-link", f'[name="{CSRF_NAME}" value="](https://example.org/ "x")'),
    ("cdata", f'<![CDATA[name="{CSRF_NAME}" value="]]>'),
    ("cdata-break", f']]>name="{CSRF_NAME}" value="<![CDATA[ after'),
    ("old-placeholder", f'name="{CSRF_NAME}" value="{OLD_PLACEHOLDER}"'),
    ("old-placeholder-alone", f"before {OLD_PLACEHOLDER} after"),
    ("new-shape", f'name="{CSRF_NAME}" value="{NEW_SHAPE}"'),
    ("new-shape-alone", f"before {NEW_SHAPE} after"),
    ("long", f'name="{CSRF_NAME}" value="' + "x" * 20_000),
    ("many", f'name="{CSRF_NAME}" value="" ' * 500),
)


def lookalikes() -> list[Payload]:
    # PostgreSQL stores no NUL in text: the old placeholder is tried on SQLite only.
    if connection.vendor == "postgresql":
        return [p for p in CSRF_LOOKALIKES if OLD_PLACEHOLDER not in p.value]
    return CSRF_LOOKALIKES


def fit(text: str, model, field: str) -> str:
    """``text`` cut to what the column holds (PostgreSQL refuses more)."""
    return text[: model._meta.get_field(field).max_length]


def fresh_client() -> Client:
    """A reader the page cache does not serve (messages waiting): the page as an
    uncached render shows it."""
    client = Client()
    client.cookies["messages"] = "none-that-can-be-read"
    return client


def form_tokens(response) -> list[str]:
    """The CSRF tokens of the page's real forms (never text inside the page)."""
    if not response["Content-Type"].startswith("text/html"):
        return []
    return [field["value"] for field in soup(response).select(f"form > input[name={CSRF_NAME}]")]


def without_tokens(response) -> bytes:
    content = response.content
    for token in form_tokens(response):
        content = content.replace(token.encode(), b"{reader's token}")
    return content


def page_keys() -> set[str]:
    """The page entries in the default cache (local memory or Redis)."""
    backend = caches["default"]
    if hasattr(backend, "_cache") and isinstance(backend._cache, dict):  # local memory
        keys = list(backend._cache)
    else:
        keys = [key.decode() for key in backend._cache.get_client().scan_iter("*")]
    return {key for key in keys if ":page:" in key}


def queries_for(client: Client, url: str, **extra) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return len(queries), response


def from_cache(client: Client, url: str, **extra) -> tuple[bool, object]:
    """Whether the page came from the page cache (a page entry found), and the page."""
    found = []
    real = pagecache._cache_call

    def recording(method: str, *args):
        value = real(method, *args)
        if method == "get" and args[0].startswith("page:") and value is not None:
            found.append(args[0])
        elif method == "get_many":  # the token and the page, from a shared cache
            found.extend(key for key in value or {} if key.startswith("page:"))
        return value

    with mock.patch.object(pagecache, "_cache_call", recording):
        response = client.get(url, **extra)
    return bool(found), response


WORKER = "django.core.cache.backends.locmem.LocMemCache"


def worker_cache(name: str) -> dict:
    """One gunicorn worker's own local-memory cache."""
    return {"default": {"BACKEND": WORKER, "LOCATION": f"hostile-{name}"}}


@time_machine.travel(NOW, tick=False)
class HostileContentTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.author = make_user("writer", first_name="Pat", last_name="Writer")
        cls.post = make_post(
            "Stepping up",
            "The workforce needs support [1].",
            author=cls.author,
            published_at=london(2014, 4, 15, 9),
            tags=["workforce"],
            references={1: "Munro, E. (2011) The Munro review."},
            call_for_answers="Answers please",
        )
        make_post("Mandatory reporting", "Should it be the law?", author=cls.author,
                  published_at=london(2014, 4, 2, 9), tags=["workforce"])  # fmt: skip

    def setUp(self):
        Site.objects.get_current()  # cached for the process, as when serving

    def write_everywhere(self, text: str) -> Tag:
        """``text`` in every field a reader or a staff member fills, as the site keeps
        it; the tag it names."""
        post, user = self.post, get_user_model()
        post.title = fit(text, Post, "title")
        post.body = f"Before it.\n\n{text}\n\nAfter it [1]."
        post.call_for_answers = text
        tag_name = fit(text, Tag, "name").strip() or "empty"
        with self.captureOnCommitCallbacks(execute=True):
            save_post(
                post,
                references=[Reference(number=1, citation=text,
                                      url=fit("https://example.org/" + text, Reference, "url"))],
                tags=["workforce", tag_name],
            )  # fmt: skip
            self.author.first_name = fit(text, user, "first_name")
            self.author.last_name = fit(text, user, "last_name")
            self.author.save()
            Comment.objects.all().delete()  # each payload on its own
            Comment.objects.create(
                content_type=ContentType.objects.get_for_model(Post),
                object_pk=str(post.pk),
                site_id=settings.SITE_ID,
                user_name=fit(text, Comment, "user_name"),
                user_email="reader@example.org",
                user_url=fit("https://example.org/" + text, Comment, "user_url"),
                comment=text,
                submit_date=NOW,
            )
        return Tag.objects.get(name=tag_name)

    def pages(self, text: str, tag: Tag) -> dict[str, str]:
        """Every page and feed the cache keeps, the hostile text's search among them."""
        return {
            "home": "/",
            "year": "/2014/",
            "month": "/2014/04/",
            "day": "/2014/04/15/",
            "post": self.post.get_absolute_url(),
            "tags": "/tags/",
            "tag": f"/tags/{tag.slug}/",
            "tag feed": f"/tags/{tag.slug}/feed/",
            "workforce": "/tags/workforce/",
            "atom": "/feeds/atom/",
            "rss": "/feeds/rss/",
            "comments feed": "/feeds/comments/",
            "sitemap": "/sitemap.xml",
            "discussions": "/discussions/",
            "references": "/references/",
            "search": "/search/?q=workforce",
            "search for it": "/search/?" + urlencode({"q": text[:200]}),
            "privacy": "/privacy/",
        }

    def assertWellFormed(self, name: str, response) -> None:
        if name.endswith("feed") or name in ("atom", "rss"):
            feed = feedparser.parse(response.content)
            self.assertFalse(feed.bozo, f"{name}: {feed.get('bozo_exception')}")
            self.assertTrue(feed.entries, name)
        elif name == "sitemap":
            ET.fromstring(response.content)  # nosec B314 # our own sitemap

    def assertSameAsUncached(self, name: str, url: str, readers: list[Client]) -> None:
        """Each reader gets the uncached page byte for byte, but for their own token:
        the first from the view (the page stored), the others from the cache."""
        fresh = fresh_client().get(url)
        tokens = []
        for number, reader in enumerate(readers):
            count, response = queries_for(reader, url)
            self.assertEqual(response.status_code, fresh.status_code, name)
            if number and response.status_code == 200:
                # From a shared cache, the token comes with the page: no query at all.
                self.assertEqual(count, token_queries(), f"{name} was not served from the cache")
            self.assertEqual(without_tokens(response), without_tokens(fresh), name)
            self.assertWellFormed(name, response)
            for token in form_tokens(response):
                secret = reader.cookies[settings.CSRF_COOKIE_NAME].value
                self.assertTrue(_does_token_match(token, secret), f"{name}: not the reader's")
                tokens.append(token)
        self.assertEqual(len(tokens), len(set(tokens)), f"{name}: a token served twice")


class LookalikeContentTests(HostileContentTestCase):
    def test_text_that_imitates_the_csrf_field_comes_out_as_written(self):
        for payload in lookalikes():
            with self.subTest(payload.id):
                tag = self.write_everywhere(payload.value)
                readers = [Client(), Client()]
                for name, url in self.pages(payload.value, tag).items():
                    self.assertSameAsUncached(name, url, readers)

    @override_settings(BLOG_COMMENTS_RATE_LIMIT=1000)
    def test_a_hostile_comment_through_the_form_leaves_the_feed_and_page_whole(self):
        from ..discussion import comment_and_confirm

        for payload in lookalikes():
            if OLD_PLACEHOLDER in payload.value or len(payload.value) > 3000:
                continue  # refused by the form (control characters, length)
            with self.subTest(payload.id):
                with self.captureOnCommitCallbacks(execute=True):
                    Comment.objects.all().delete()  # each payload on its own
                # Names may carry no line break (the form refuses control characters).
                name = " ".join(payload.value.split())[:50]
                comment_and_confirm(Client(), self.post, comment=payload.value, name=name)
                readers = [Client(), Client()]
                self.assertSameAsUncached("comments feed", "/feeds/comments/", readers)
                self.assertSameAsUncached("post", self.post.get_absolute_url(), readers)

    def test_each_worker_fills_the_page_it_did_not_store(self):
        """Two workers with caches of their own (local memory), and one cache they
        share: every reader gets the uncached page with their own token, and both
        workers give it the same validator."""
        tag = self.write_everywhere(CSRF_LOOKALIKES[2].value)  # "unclosed"
        pages = self.pages(CSRF_LOOKALIKES[2].value, tag)
        for name in ("post", "comments feed", "home"):
            url, etags = pages[name], set()
            for worker in ("a", "b"):
                with override_settings(CACHES=worker_cache(worker)):
                    caches["default"].clear()
                    self.assertSameAsUncached(name, url, [Client(), Client()])
                    etags.add(Client().get(url)["ETag"])
                    caches["default"].clear()
            self.assertEqual(len(etags), 1, name)
        # One cache for both: what one worker stored (pickled, as Redis keeps it) is
        # all another needs to fill in its own reader's token.
        url = pages["post"]
        Client().get(url)
        backend = caches["default"]
        if isinstance(getattr(backend, "_cache", None), dict):  # local memory, pickled
            [entry] = [pickle.loads(backend._cache[key]) for key in page_keys()]  # nosec B301 # our own entry
            self.assertNotIn(b"pagecache-csrf-", b"".join(entry.parts))
        self.assertSameAsUncached("post", url, [Client(), Client()])


@override_settings(CACHES={"default": cache_from_url("redis://127.0.0.1:6379/15")})
class SharedRedisTests(HostileContentTestCase):
    """The production cache, shared by every worker: a page one stored, another fills."""

    def setUp(self):
        super().setUp()
        try:
            caches["default"].clear()
        except Exception as error:  # any failure to reach Redis
            if os.environ.get("CI") == "true":
                raise
            self.skipTest(f"no Redis at 127.0.0.1:6379 ({error})")
        self.addCleanup(caches["default"].clear)

    def test_a_page_stored_by_one_worker_is_filled_by_another(self):
        tag = self.write_everywhere(CSRF_LOOKALIKES[2].value)  # "unclosed"
        for name, url in self.pages(CSRF_LOOKALIKES[2].value, tag).items():
            with self.subTest(name):
                self.assertSameAsUncached(name, url, [Client(), Client()])
                self.assertTrue(from_cache(Client(), url)[0], name)


class PlaceholderTests(HostileContentTestCase):
    """The placeholder itself: made for one response, never sent, never reused."""

    def issued(self):
        """Record every placeholder the pages are given."""
        from blog.templatetags import pagecache_tags

        made: list[str] = []
        real = pagecache_tags.csrf_placeholder

        def recording(request):
            placeholder = real(request)
            # Once a response: its forms (the comment form, the footer's follow form)
            # share its placeholder.
            if placeholder is not None and placeholder not in made:
                made.append(placeholder)
            return placeholder

        patcher = mock.patch.object(pagecache_tags, "csrf_placeholder", recording)
        patcher.start()
        self.addCleanup(patcher.stop)
        return made

    def test_a_placeholder_is_never_sent_and_one_learnt_does_nothing(self):
        made = self.issued()
        url = self.post.get_absolute_url()
        responses = [Client().get(url) for _ in range(3)]
        self.assertEqual(len(made), 1)  # one page stored, then served from the cache
        for response in responses:
            self.assertNotIn(made[0].encode(), response.content)
        # Were it known, written into a comment it is only text.
        tag = self.write_everywhere(f'name="{CSRF_NAME}" value="{made[0]}" and {made[0]}')
        for name, url in self.pages(made[0], tag).items():
            self.assertSameAsUncached(name, url, [Client(), Client()])
        self.assertEqual(len(set(made)), len(made))  # each response its own

    def test_a_page_that_is_not_stored_carries_the_token_itself(self):
        made = self.issued()
        url = self.post.get_absolute_url()
        for variant in (url + "?utm_source=x", url + "?page=1", url + "?q=x"):
            reader = Client()
            response = reader.get(variant)
            tokens = form_tokens(response)
            self.assertEqual(len(tokens), 2, variant)  # the comment form, the follow form
            secret = reader.cookies[settings.CSRF_COOKIE_NAME].value
            for token in tokens:
                self.assertFalse(token.startswith("pagecache-csrf-"), variant)
                self.assertTrue(_does_token_match(token, secret), variant)
        self.assertEqual(made, [])

    def test_the_same_reader_gets_a_new_mask_each_time(self):
        # BREACH: the token on the page differs in every response, for the same secret.
        reader = Client()
        url = self.post.get_absolute_url()
        tokens = [form_tokens(reader.get(url))[0] for _ in range(3)]
        self.assertEqual(len(set(tokens)), 3)
        secret = reader.cookies[settings.CSRF_COOKIE_NAME].value
        self.assertTrue(all(_does_token_match(token, secret) for token in tokens))


# Item 7 -----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
@override_settings(BLOG_COMMENTS_PER_PAGE=2)
class CanonicalAddressTests(TestCase):
    """Two pages of posts, of a tag, of a month, of a search and of a discussion."""

    @classmethod
    def setUpTestData(cls):
        author = make_user("writer", first_name="Pat", last_name="Writer")
        posts = [
            make_post(f"Workforce {day}", "The workforce needs support.", author=author,
                      published_at=london(2014, 4, day, 9), tags=["workforce"])
            for day in range(1, 13)
        ]  # fmt: skip
        cls.post = posts[-1]
        for number in range(3):
            Comment.objects.create(
                content_type=ContentType.objects.get_for_model(Post), object_pk=str(cls.post.pk),
                site_id=settings.SITE_ID, user_name=f"Reader {number}",
                user_email="reader@example.org", comment=f"Comment {number}.", submit_date=NOW,
            )  # fmt: skip

    def setUp(self):
        Site.objects.get_current()

    def canonical_pages(self) -> list[str]:
        post = self.post.get_absolute_url()
        return [
            "/", "/?page=2", "/2014/", "/2014/04/", "/2014/04/?page=2", "/2014/04/12/",
            post, f"{post}?page=2", "/tags/", "/tags/workforce/", "/tags/workforce/?page=2",
            "/tags/workforce/feed/", "/feeds/atom/", "/feeds/rss/", "/feeds/comments/",
            "/sitemap.xml", "/discussions/", "/references/", "/search/?q=workforce",
            "/search/?q=workforce&page=2", "/privacy/",
        ]  # fmt: skip

    def warm(self) -> set[str]:
        for url in self.canonical_pages():
            self.assertEqual(Client().get(url).status_code, 200, url)
            count, _ = queries_for(Client(), url)
            self.assertEqual(count, token_queries(), f"{url} was not served from the cache")
        return page_keys()

    def variants(self, url: str) -> list[str]:
        path, _, query = url.partition("?")
        given = dict(pair.split("=") for pair in query.split("&")) if query else {}
        q = {"q": given["q"]} if "q" in given else {}
        spellings = ["02", "+2", " 2", "2 ", "2_0", "\u0662", "\uff12", "002", "1", "", "01",
                     "last", "0", "-1", "abc", "2.0", "1e1", "9" * 5000]  # fmt: skip
        made_up = [{"q": ""}, {"utm_source": "x"}, {"Page": "2"}, {"PAGE": "2"}, {"p": "2"},
                   {"page": "2", "x": ""}, {"q": "workforce", "x": "1"}, {"Q": "x"}]  # fmt: skip
        if not q:  # a search's words are a page of their own on search only
            made_up += [{"q": "x"}, *({"q": f"random {n}"} for n in range(10))]
        urls = [f"{path}?{urlencode(q | {'page': value})}" for value in spellings]
        urls += [f"{path}?{urlencode(given | extra)}" for extra in made_up]
        urls += [f"{path}?page=2&page=2", f"{path}?page=2&page=3", f"{path}?q=a&q=a"]
        return urls

    def test_made_up_addresses_add_no_entry_and_the_real_pages_stay_cached(self):
        keys = self.warm()
        for url in self.canonical_pages():
            for variant in self.variants(url):
                if variant == url:
                    continue
                cached, response = from_cache(Client(), variant)
                self.assertLess(response.status_code, 500, variant)
                self.assertFalse(cached, f"{variant} came from the cache")
                self.assertEqual(page_keys(), keys, f"{variant} was stored")
        for url in self.canonical_pages():
            self.assertEqual(queries_for(Client(), url)[0], token_queries(), url)

    def test_other_hosts_and_ports_add_no_entry(self):
        keys = self.warm()
        for host in ("testserver:8080", "testserver:1", "127.0.0.1:9999", "localhost:65535",
                     "127.0.0.1:8001", "testserver:443"):  # fmt: skip
            for url in self.canonical_pages():
                with self.subTest(host=host, url=url):
                    cached, response = from_cache(Client(), url, HTTP_HOST=host)
                    self.assertEqual(response.status_code, 200)
                    self.assertFalse(cached)
        self.assertEqual(page_keys(), keys)
        # The site's own names (SITE_DOMAIN's, ALLOWED_HOSTS') share its one entry.
        for host in ("TESTSERVER", "testserver.", "testserver:80", "127.0.0.1:8000",
                     "localhost", "127.0.0.1"):  # fmt: skip
            for url in self.canonical_pages():
                with self.subTest(host=host, url=url):
                    self.assertTrue(from_cache(Client(), url, HTTP_HOST=host)[0])
        self.assertEqual(page_keys(), keys)

    def test_other_spellings_of_a_page_number_are_sent_to_the_canonical_address(self):
        post = self.post.get_absolute_url()
        cases = {
            "/?page=02": "/?page=2",
            "/?page=%2B2": "/?page=2",
            "/?page=%202%20": "/?page=2",
            "/?page=%D9%A2": "/?page=2",  # ARABIC-INDIC DIGIT TWO
            "/2014/04/?page=002": "/2014/04/?page=2",
            "/tags/workforce/?page=02": "/tags/workforce/?page=2",
            f"{post}?page=02": f"{post}?page=2",
            "/search/?page=02&q=workforce": "/search/?page=2&q=workforce",
            "/search/?q=workforce&page=+2": "/search/?page=2&q=workforce",
        }
        keys = page_keys()
        for url, canonical in cases.items():
            with self.subTest(url):
                response = Client().get(url)
                self.assertEqual(response.status_code, 301)
                self.assertEqual(response["Location"], canonical)
                self.assertEqual(Client().get(canonical).status_code, 200)
        # Only the canonical pages were stored.
        self.assertEqual(len(page_keys() - keys), len(set(cases.values())))

    def test_the_sites_own_links_are_canonical(self):
        page = soup(Client().get("/?page=2"))
        self.assertEqual(page.select_one('.pagination a[rel="prev"]')["href"], "/")
        search = soup(Client().get("/search/?q=workforce&page=2"))
        self.assertEqual(search.select_one('.pagination a[rel="prev"]')["href"], "?q=workforce")
        first = soup(Client().get("/search/?q=workforce"))
        self.assertEqual(first.select_one('.pagination a[rel="next"]')["href"],
                         "?q=workforce&page=2")  # fmt: skip

    def test_the_first_page_and_last_are_built_afresh(self):
        # The site linked ?page=1 until now: it is served, never stored; "last" is a
        # page number only once the list is read.
        self.warm()
        for url in ("/?page=1", "/?page=", "/?page=last", "/tags/workforce/?page=last",
                    f"{self.post.get_absolute_url()}?page=1"):  # fmt: skip
            with self.subTest(url):
                for _ in range(2):  # and not the second time either
                    cached, response = from_cache(Client(), url)
                    self.assertEqual(response.status_code, 200)
                    self.assertFalse(cached)
