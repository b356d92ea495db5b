"""Full-text search: stemming, ranking, snippets, hostile queries, and an index that
follows every change. Each test runs on the database of the run: SQLite (FTS5) by
default, PostgreSQL's full-text search with DATABASE_URL=postgres://…"""

import datetime
import io

import pytest
import time_machine
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from blog.models import Post, Reference, SearchDocument
from blog.search import (
    MAX_QUERY_LENGTH,
    PostgresEngine,
    QueryTooLong,
    Results,
    SQLiteEngine,
    engine,
    highlight,
    parse_query,
)

from .factories import london, make_post, make_user
from .html import soup, text, texts

SEARCH = reverse("blog:search")


def found(query: str) -> list[str]:
    """The titles a search finds, best first (every page), read as the search page reads
    them (blog.views.SearchView)."""
    results = Results(parse_query(query))
    return [post.display_title for post in results[0 : results.count()]]


class ParseQueryTests(TestCase):
    def test_words_and_quoted_phrases(self):
        query = parse_query('Ofsted  "mandatory reporting" workforce')
        assert query.phrases == (("ofsted",), ("mandatory", "reporting"), ("workforce",))

    def test_words_joined_by_punctuation_stay_together(self):
        assert parse_query("child-protection Ofsted’s").phrases == (
            ("child", "protection"),
            ("ofsted", "s"),
        )

    def test_the_engines_syntax_is_only_separators(self):
        query = parse_query('title:Ofsted NEAR(a b) "open * ^ -x AND OR NOT ()')
        assert query.phrases == (
            ("title", "ofsted"),
            ("near", "a"),
            ("b",),
            ("open",),
            ("x",),
            ("and",),
            ("or",),
            ("not",),
        )

    def test_punctuation_nul_and_underscores_make_no_words(self):
        assert not parse_query('"" *** \x00 ___ -- ()')
        assert not parse_query("")

    def test_repeated_phrases_count_once(self):
        assert parse_query("ofsted OFSTED Ofsted").phrases == (("ofsted",),)

    def test_length_limit(self):
        assert parse_query("a" * MAX_QUERY_LENGTH)
        with pytest.raises(QueryTooLong):
            parse_query("a" * (MAX_QUERY_LENGTH + 1))

    def test_highlight_escapes_everything_but_the_marks(self):
        html = highlight("<script>alert(1)</script> \x02Ofsted\x03 & \x02open")
        assert html == (
            "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Ofsted</mark> &amp; <mark>open</mark>"
        )

    def test_the_engine_follows_the_database(self):
        expected = PostgresEngine if connection.vendor == "postgresql" else SQLiteEngine
        assert isinstance(engine(), expected)


class AprilEntriesTests(TestCase):
    """The April 2014 entries, as the fixture loads them."""

    @classmethod
    def setUpTestData(cls):
        call_command("loaddata", "april_2014", verbosity=0)

    def test_the_fixture_is_indexed_as_it_loads(self):
        assert SearchDocument.objects.count() == Post.objects.count() == 7

    def test_stemming_finds_other_forms_of_a_word(self):
        # The Ofsted post speaks of "inspection reports", never of "inspections".
        ofsted = "Ofsted – and the TIWPIR problem"
        assert "inspections" not in Post.objects.get(title=ofsted).body
        assert ofsted in found("inspections")
        assert ofsted in found("INSPECTED")

    def test_a_phrase_matches_only_in_order(self):
        assert found('"mandatory reporting"') == ["Mandatory Reporting - the wrong approach"]
        assert found('"reporting mandatory"') == []

    def test_references_and_tags_are_searched(self):
        # Peter Senge is named in "Learning Organisations"' reference [1].
        assert "Learning Organisations" in found("professor Senge")
        tagged = set(Post.objects.filter(tags__name="workforce").values_list("title", flat=True))
        assert tagged and tagged <= set(found("workforce"))

    def test_accents_are_folded(self):
        assert "Is it any wonder that child protection social work in England is not a " \
            "developing profession?" in found("naive")

    def test_an_untitled_post_is_found_by_its_words(self):
        assert found("outsourcing") == ["I’m not really surprised to hear…"]

    def test_the_search_page(self):
        response = self.client.get(SEARCH, {"q": "inspections"})
        assert response.status_code == 200
        page = soup(response)
        assert texts(page, ".search-result__title") == ["Ofsted – and the TIWPIR problem"]
        assert text(page.select_one(".search-summary")) == (
            "1 post found for “inspections”."
        )
        snippet = page.select_one(".search-result__snippet")
        assert [text(mark) for mark in snippet.select("mark")] == ["inspection"]
        assert page.select_one("#search-q")["value"] == "inspections"
        assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"

    def test_every_page_has_the_search_form(self):
        for path in ("/", "/2014/04/", "/tags/", "/discussions/"):
            form = soup(self.client.get(path)).select_one("form.site-search")
            assert form["action"] == SEARCH and form["role"] == "search", path
            assert form.select_one("input[name=q]")["type"] == "search"

    def test_no_query_shows_the_form_alone(self):
        for params in ({}, {"q": ""}, {"q": "   "}):
            response = self.client.get(SEARCH, params)
            assert response.status_code == 200
            page = soup(response)
            assert page.select_one("form.search-form #search-q")
            assert not page.select(".search-results, .search-summary, .notice")

    def test_hostile_queries_are_answered_not_failed(self):
        queries = [
            '"',
            '"unbalanced',
            "NEAR(ofsted workforce, 2)",
            "title:ofsted",
            "ofsted*",
            "^ofsted",
            "-ofsted",
            "ofsted AND NOT workforce OR (",
            "'; DROP TABLE blog_post; --",
            "%_%",
            "\x00ofsted",
            "ofsted\x02\x03",
            "‮ofsted",
            "🙂 ofsted",
            "a" * MAX_QUERY_LENGTH,
        ]
        for query in queries:
            with self.subTest(query=query):
                response = self.client.get(SEARCH, {"q": query})
                assert response.status_code == 200
                assert b"Traceback" not in response.content
        assert Post.objects.count() == 7

    def test_punctuation_alone_says_what_to_do(self):
        response = self.client.get(SEARCH, {"q": '*** "" ()'})
        assert response.status_code == 200
        assert "Type a word to search for" in text(soup(response).select_one(".notice"))

    def test_a_query_over_the_limit_is_refused_with_a_message(self):
        response = self.client.get(SEARCH, {"q": "ofsted " * 40})
        assert response.status_code == 400
        page = soup(response)
        assert text(page.select_one("#search-error")) == (
            f"Search for {MAX_QUERY_LENGTH} characters at most."
        )
        assert page.select_one("#search-q")["aria-invalid"] == "true"
        assert not page.select(".search-results")

    def test_nothing_found(self):
        page = soup(self.client.get(SEARCH, {"q": "zebra"}))
        assert text(page.select_one(".search-summary")) == "0 posts found for “zebra”."
        assert not page.select(".search-result")


class RankingTests(TestCase):
    """A small corpus whose order both engines agree on: a match in the title beats one
    in the tags, which beats the body, which beats the references; equal matches go
    newest first."""

    @classmethod
    def setUpTestData(cls):
        author = make_user()
        hour = datetime.timedelta(hours=1)
        now = timezone.now()
        cls.body_old = make_post("Body, older", "Some notes on supervision practice.",
                                 author=author, published_at=now - 9 * hour)
        cls.references = make_post("References", "Nothing here.", author=author,
                                   published_at=now - 8 * hour,
                                   references={1: "A study of supervision, 2010."})
        cls.body_new = make_post("Body, newer", "More notes on supervision practice.",
                                 author=author, published_at=now - 7 * hour)
        cls.tagged = make_post("Tagged", "Nothing here either.", author=author,
                               published_at=now - 6 * hour, tags=["supervision"])
        cls.titled = make_post("Supervision matters", "A post about something else.",
                               author=author, published_at=now - 5 * hour)
        make_post("Unrelated", "Caseloads.", author=author, published_at=now - 4 * hour)

    def test_title_then_tags_then_body_then_references(self):
        assert found("supervision") == [
            "Supervision matters",
            "Tagged",
            "Body, newer",
            "Body, older",
            "References",
        ]

    def test_all_the_words_must_match(self):
        assert found("supervision practice") == ["Body, newer", "Body, older"]
        assert found("supervision caseloads") == []


class VisibilityTests(TestCase):
    def test_drafts_and_scheduled_posts_are_not_found_until_due(self):
        with time_machine.travel(london(2024, 5, 1, 9), tick=False):
            make_post("Supervision draft", status=Post.Status.DRAFT)
            make_post("Supervision scheduled", published_at=london(2024, 5, 2, 9))
            make_post("Supervision published")
            assert found("supervision") == ["Supervision published"]
        with time_machine.travel(london(2024, 5, 2, 9, 1), tick=False):
            assert found("supervision") == ["Supervision scheduled", "Supervision published"]


class IndexFollowsChangesTests(TestCase):
    """Every save and delete of what a post's search text is made of shows in the very
    next search."""

    def setUp(self):
        self.post = make_post("Caseloads", "Social workers carry too many cases.",
                              tags=["workforce"], references={1: "Munro review, 2011."})

    def assert_integrity(self):
        if connection.vendor == "sqlite":
            # FTS5 checks its index against the document table it reads from.
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO blog_search_fts(blog_search_fts, rank) "
                    "VALUES ('integrity-check', 1)"
                )

    def test_editing_the_post(self):
        self.post.title = "Supervision"
        self.post.body = "Reflective practice needs time."
        self.post.save()
        assert found("reflective") == ["Supervision"]
        assert found("caseloads") == found("cases") == []
        self.assert_integrity()

    def test_tags_added_removed_renamed_and_deleted(self):
        self.post.tags.add("mandatory reporting")
        assert found('"mandatory reporting"') == ["Caseloads"]
        self.post.tags.remove("mandatory reporting")
        assert found('"mandatory reporting"') == []
        tag = Tag.objects.get(name="workforce")
        tag.name = "staffing"
        tag.save()
        assert found("staffing") == ["Caseloads"]
        assert found("workforce") == []
        tag.delete()
        assert found("staffing") == []
        self.post.tags.set(["Ofsted"])
        assert found("ofsted") == ["Caseloads"]
        self.post.tags.clear()
        assert found("ofsted") == []
        self.assert_integrity()

    def test_references_added_changed_and_deleted(self):
        reference = Reference.objects.create(post=self.post, number=2, citation="Laming, 2009.")
        assert found("laming") == ["Caseloads"]
        reference.citation = "Laming report"
        reference.save()
        assert found("report") == ["Caseloads"]
        reference.delete()
        assert found("laming") == []
        assert found("munro") == ["Caseloads"]
        self.assert_integrity()

    def test_unpublishing_and_deleting(self):
        Post.objects.filter(pk=self.post.pk).update(status=Post.Status.DRAFT)
        assert found("caseloads") == []
        self.post.delete()
        assert not SearchDocument.objects.exists()
        assert found("caseloads") == []
        self.assert_integrity()

    def test_rebuild_indexes_what_bulk_inserts_bring(self):
        author = make_user()
        Post.objects.bulk_create(
            Post(title=f"Bulk {n}", slug=f"bulk-{n}", body="Supervision.",
                 body_html="<p>Supervision.</p>", author=author,
                 status=Post.Status.PUBLISHED, published_at=timezone.now())
            for n in range(3)
        )
        assert found("bulk") == []
        call_command("rebuild_search_index", stdout=io.StringIO())
        assert SearchDocument.objects.count() == 4
        assert sorted(found("bulk")) == ["Bulk 0", "Bulk 1", "Bulk 2"]
        assert found("munro") == ["Caseloads"]
        self.assert_integrity()


class PagingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        author = make_user()
        for n in range(23):
            make_post(f"Supervision {n:02}", "Text.", author=author, tags=["workforce"],
                      published_at=timezone.now() - datetime.timedelta(hours=n + 1))

    def test_pages_keep_the_query_and_the_order(self):
        first = soup(self.client.get(SEARCH, {"q": "supervision"}))
        titles = texts(first, ".search-result__title")
        assert titles == [f"Supervision {n:02}" for n in range(10)]
        assert text(first.select_one(".search-summary")) == (
            "23 posts found for “supervision”, page 1 of 3."
        )
        older = first.select_one(".pagination a[rel=next]")["href"]
        assert older == "?q=supervision&page=2"
        third = soup(self.client.get(SEARCH + "?q=supervision&page=3"))
        assert texts(third, ".search-result__title") == [f"Supervision {n}" for n in range(20, 23)]
        assert third.select_one(".search-results")["start"] == "21"

    def test_a_page_past_the_end_is_not_found(self):
        assert self.client.get(SEARCH, {"q": "supervision", "page": 4}).status_code == 404
        assert self.client.get(SEARCH, {"q": "supervision", "page": "x"}).status_code == 404

    def test_the_page_runs_a_fixed_number_of_queries(self):
        def queries(q: str) -> int:
            cache.clear()  # built afresh, not from the page cache
            with CaptureQueriesContext(connection) as context:
                assert self.client.get(SEARCH, {"q": q}).status_code == 200
            return len(context)

        Site.objects.get_current()  # cached for good on a running site
        # The page cache's version; sidebar 2; the header's pages; count, ranked ids,
        # the posts, their tags, snippets: 5; the matching standalone pages: 1 (none).
        assert queries("supervision") == queries("supervision 00") == 10
        # The version, the sidebar, the header's pages, the count and the pages.
        assert queries("zebra") == 6


class SnippetTests(TestCase):
    def test_a_snippet_is_escaped_with_only_the_matches_marked(self):
        make_post(
            "Code",
            "Never trust `<img src=x onerror=alert(1)>` in supervision notes & so on.",
        )
        response = self.client.get(SEARCH, {"q": "supervision"})
        snippet = soup(response).select_one(".search-result__snippet")
        assert snippet.select("img") == []
        assert [text(mark) for mark in snippet.select("mark")] == ["supervision"]
        assert "<img src=x onerror=alert(1)>" in text(snippet)
        raw = response.content.decode()
        assert "&lt;img src=x onerror=alert(1)&gt;" in raw and "<img src=x" not in raw

    def test_a_long_body_is_cut_around_the_match(self):
        words = " ".join(f"word{n}" for n in range(400))
        make_post("Long", f"{words} supervision {words}")
        snippet = text(soup(self.client.get(SEARCH, {"q": "supervision"})).select_one(
            ".search-result__snippet"
        ))
        assert "supervision" in snippet
        assert len(snippet.split()) < 60


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
class PostgresIndexTests(TestCase):
    def test_the_search_uses_the_gin_index(self):
        # The query's vector is the index's expression, so the index can answer it.
        make_post("Supervision", "Text.")
        matching = PostgresEngine().documents(parse_query("supervision"))
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = matching.explain()
        assert "Bitmap Index Scan on blog_search_vector_idx" in plan
