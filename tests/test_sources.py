"""The references index (/references/) and "Also cited in": which references are the
same work, and where else a work is cited."""

import importlib
from types import SimpleNamespace

import time_machine
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import SimpleTestCase, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blog.citations import citation_key, normalise_citation, sort_key, url_key
from blog.models import Post, Reference
from blog.sources import attach_citing_posts, attach_other_citations, group_works, published_works

from .factories import london, make_post, make_user
from .html import soup, text, texts

NOW = london(2020, 6, 1, 12)
INDEX = "/references/"


def cite(post: Post, number: int, citation: str, url: str = "") -> Reference:
    return Reference.objects.create(post=post, number=number, citation=citation, url=url)


def works(response) -> list[dict]:
    """The index as a reader sees it: each work's text, link and citing posts."""
    found = []
    for item in soup(response).select(".source"):
        link = item.select_one(".source__citation a")
        found.append(
            {
                "citation": text(item.select_one(".source__citation")),
                "url": link["href"] if link else "",
                "posts": [text(a) for a in item.select(".source__posts a")],
            }
        )
    return found


class CitationKeyTests(SimpleTestCase):
    def test_typography_case_and_spacing_do_not_matter(self):
        variants = [
            "‘Working Together to Safeguard Children’ – HM Government, 2013.",
            "'working together to safeguard children' - HM Government, 2013",
            "  'WORKING   together to safeguard children'\u00a0— HM Government,\n2013. ",
            "＇Working Together to Safeguard Children＇ − HM Government, 2013..",
        ]
        self.assertEqual(len({citation_key(v) for v in variants}), 1)
        self.assertEqual(
            normalise_citation(variants[0]),
            "'working together to safeguard children' - hm government, 2013",
        )

    def test_different_works_differ(self):
        self.assertNotEqual(
            citation_key("Munro Review, final report, 2011"),
            citation_key("Munro Review, interim report, 2010"),
        )

    def test_a_key_is_fixed_length_and_nothing_has_no_key(self):
        self.assertEqual(len(citation_key("x" * 10_000)), 64)
        self.assertEqual(citation_key(""), "")
        self.assertEqual(citation_key(" . . "), "")


class UrlKeyTests(SimpleTestCase):
    def test_the_same_address_written_differently(self):
        variants = [
            "https://www.gov.uk/government/publications/working-together",
            "http://gov.uk/government/publications/working-together/",
            "HTTPS://WWW.GOV.UK/government/publications/working-together#section-2",
            "https://gov.uk:443/government/publications/working-together",
        ]
        self.assertEqual(
            {url_key(v) for v in variants}, {"gov.uk/government/publications/working-together"}
        )

    def test_path_query_and_other_hosts_still_count(self):
        self.assertNotEqual(
            url_key("https://example.org/Report"), url_key("https://example.org/report")
        )
        self.assertEqual(url_key("https://example.org/report?id=2"), "example.org/report?id=2")
        self.assertNotEqual(url_key("https://example.org/"), url_key("https://example.com/"))
        self.assertEqual(url_key("https://example.org:8080/a/"), "example.org:8080/a")
        self.assertEqual(url_key("https://www.example.org/"), "example.org")
        self.assertEqual(url_key("ftp://Files.example.org/a/"), "ftp://files.example.org/a")

    def test_no_url_has_no_key(self):
        self.assertEqual(url_key(""), "")
        self.assertEqual(url_key("   "), "")


class SortKeyTests(SimpleTestCase):
    def test_case_accents_and_leading_punctuation_are_ignored(self):
        citations = ["zebra", "“Working Together”", "Éire report", "apple", "(Munro) review"]
        self.assertEqual(
            sorted(citations, key=sort_key),
            ["apple", "Éire report", "(Munro) review", "“Working Together”", "zebra"],
        )


class GroupWorksTests(SimpleTestCase):
    def ref(self, name: str, citation: str = "", url: str = "") -> SimpleNamespace:
        return SimpleNamespace(name=name, citation_key=citation, url_key=url)

    def names(self, groups) -> list[list[str]]:
        return [[r.name for r in group] for group in groups]

    def test_grouping_is_transitive_over_both_keys(self):
        refs = [
            self.ref("a", "text-1"),
            self.ref("b", "text-2", "url-1"),
            self.ref("c", "text-1", "url-2"),
            self.ref("d", "text-3", "url-1"),
            self.ref("e", "text-4", "url-3"),
        ]
        # a~c by text, c~? no; b~d by URL; then f joins c (URL) and d (text): all one.
        refs.append(self.ref("f", "text-3", "url-2"))
        self.assertEqual(self.names(group_works(refs)), [["a", "b", "c", "d", "f"], ["e"]])

    def test_empty_keys_join_nothing(self):
        refs = [self.ref("a", "", ""), self.ref("b", "", ""), self.ref("c", "t", "")]
        self.assertEqual(self.names(group_works(refs)), [["a"], ["b"], ["c"]])


@time_machine.travel(NOW, tick=False)
class ReferenceIndexTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        author = make_user()
        cls.first = make_post("First", author=author, published_at=london(2020, 1, 1, 12))
        cls.second = make_post("Second", author=author, published_at=london(2020, 2, 1, 12))
        cls.third = make_post("Third", author=author, published_at=london(2020, 3, 1, 12))
        cls.draft = make_post(
            "Draft", author=author, status=Post.Status.DRAFT, published_at=london(2020, 4, 1)
        )
        cls.scheduled = make_post("Scheduled", author=author, published_at=london(2020, 7, 1))
        # One work in three spellings of its text.
        cite(cls.first, 1, "“Working Together to Safeguard Children”, 2013.")
        cite(cls.second, 1, '"working together to  safeguard children", 2013')
        cite(cls.third, 1, "“WORKING TOGETHER TO SAFEGUARD CHILDREN”, 2013")
        # One work at three spellings of its address, with different texts.
        cite(cls.first, 2, "The Munro Review (final)", "http://www.education.gov.uk/munro/")
        cite(cls.second, 2, "Munro, E. (2011) The Munro Review", "https://education.gov.uk/munro")
        # Transitive: same text as the first's [3], same URL as the third's [3].
        cite(cls.first, 3, "Laming report, 2009", "")
        cite(cls.second, 3, "Laming report, 2009.", "https://example.org/laming")
        cite(cls.third, 3, "The Protection of Children in England", "https://example.org/laming/")
        # Different works stay apart.
        cite(cls.third, 2, "'Another work entirely'")
        cite(cls.third, 4, "apple pie and social work")
        # Unpublished posts' references are never shown, and join nothing together.
        cite(cls.draft, 1, "A draft's secret source")
        cite(cls.draft, 2, "Laming report, 2009", "https://example.org/other")
        cite(cls.scheduled, 1, "A scheduled post's source")
        cite(cls.scheduled, 2, "apple pie and social work")
        cite(cls.first, 4, "Bridged only by drafts", "https://example.org/other")

    def test_each_work_is_listed_once_in_order_with_its_citing_posts(self):
        self.assertEqual(
            works(self.client.get(INDEX)),
            [
                {"citation": "'Another work entirely'", "url": "", "posts": ["Third"]},
                {"citation": "apple pie and social work", "url": "", "posts": ["Third"]},
                {
                    "citation": "Bridged only by drafts",
                    "url": "https://example.org/other",
                    "posts": ["First"],
                },
                {
                    "citation": "Laming report, 2009",
                    "url": "https://example.org/laming",
                    "posts": ["First", "Second", "Third"],
                },
                {
                    "citation": "The Munro Review (final)",
                    "url": "http://www.education.gov.uk/munro/",
                    "posts": ["First", "Second"],
                },
                {
                    "citation": "“Working Together to Safeguard Children”, 2013.",
                    "url": "",
                    "posts": ["First", "Second", "Third"],
                },
            ],
        )

    def test_links_dates_and_frame(self):
        page = soup(self.client.get(INDEX))
        munro = page.select(".source")[4]
        self.assertEqual(munro.select_one(".source__citation a")["rel"], ["noopener"])
        first = munro.select_one(".source__posts li")
        self.assertEqual(first.a["href"], self.first.get_absolute_url())
        self.assertEqual(first.time["datetime"], "2020-01-01T12:00:00+00:00")
        self.assertEqual(text(first.time), "1 January 2020")
        self.assertEqual(texts(page, "h1"), ["References"])
        current = page.select_one('.site-nav a[aria-current="page"]')
        self.assertEqual(
            (current["href"], text(current)), (reverse("blog:references"), "References")
        )

    def test_unpublished_posts_are_nowhere(self):
        response = self.client.get(INDEX)
        for hidden in ("secret", "scheduled", "Draft", "Scheduled"):
            self.assertNotContains(response, hidden)

    def test_two_queries_however_many_works(self):
        def page_queries() -> int:
            cache.clear()  # built afresh, not from the page cache
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get(INDEX).status_code, 200)
            return len(queries)

        def own_queries() -> tuple[int, int]:
            # The published references; the posts citing the page's works.
            with CaptureQueriesContext(connection) as listing:
                listed = published_works()
            with CaptureQueriesContext(connection) as citing:
                attach_citing_posts(listed[:50])
            return len(listing), len(citing)

        self.client.get(INDEX)  # the frame's own look-ups, cached from then on
        small = page_queries()
        self.assertEqual(own_queries(), (1, 1))
        author = make_user()
        for i in range(60):
            post = make_post(f"More {i}", author=author, published_at=london(2019, 1, 1 + i % 28))
            cite(post, 1, f"Work {i}", f"https://example.org/{i}")
            cite(post, 2, "apple pie and social work")
        self.assertEqual(own_queries(), (1, 1))
        self.assertEqual(page_queries(), small)


class ReferenceIndexPaginationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        post = make_post("Many", references={n: f"Work {n:03}" for n in range(1, 53)})
        make_post("Also", references={1: "work 001."})
        cls.post = post

    def test_fifty_works_a_page(self):
        first = soup(self.client.get(INDEX))
        self.assertEqual(len(first.select(".source")), 50)
        self.assertEqual(texts(first, ".source__citation")[:2], ["Work 001", "Work 002"])
        self.assertEqual(texts(first.select(".source")[0], ".source__posts a"), ["Many", "Also"])
        self.assertEqual(text(first.select_one(".pagination [aria-current]")), "Page 1 of 2")
        self.assertEqual(first.select_one(".pagination a[rel=next]")["href"], "?page=2")
        second = soup(self.client.get(INDEX + "?page=2"))
        self.assertEqual(texts(second, ".source__citation"), ["Work 051", "Work 052"])
        self.assertEqual(self.client.get(INDEX + "?page=3").status_code, 404)

    def test_an_empty_index_says_so(self):
        Reference.objects.all().delete()
        response = self.client.get(INDEX)
        self.assertContains(response, "No post cites a reference yet.")


@time_machine.travel(NOW, tick=False)
class AlsoCitedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        author = make_user()
        cls.post = make_post(
            "The post", "Citing [1], [2] and [3].", author=author, published_at=london(2020, 5, 1)
        )
        cls.older = make_post("Older", author=author, published_at=london(2019, 5, 1))
        cls.newer = make_post("Newer", author=author, published_at=london(2020, 5, 20))
        cls.via_url = make_post("Via URL", author=author, published_at=london(2020, 1, 1))
        cls.draft = make_post(
            "Draft", author=author, status=Post.Status.DRAFT, published_at=london(2020, 1, 1)
        )
        cite(cls.post, 1, "Working Together, 2013")
        cite(cls.post, 2, "A work cited nowhere else")
        cite(cls.post, 3, "Munro review", "https://example.org/munro")
        cite(cls.newer, 1, "‘Working together’, 2013")  # not the same text: quotes
        cite(cls.newer, 2, "WORKING TOGETHER, 2013.", "https://example.org/wt")
        cite(cls.older, 1, "working together, 2013")
        cite(cls.older, 2, "Working Together, 2013")  # the same post twice: listed once
        cite(cls.via_url, 1, "HM Government guidance", "http://www.example.org/wt/")
        cite(cls.draft, 1, "Working Together, 2013")
        cite(cls.draft, 2, "Munro review", "https://example.org/munro")
        cls.post.refresh_from_db()

    def items(self) -> dict[str, list[str]]:
        page = soup(self.client.get(self.post.get_absolute_url()))
        return {
            item["id"]: [a["href"] for a in item.select(".also-cited a")]
            for item in page.select("#references li")
        }

    def test_other_published_posts_citing_the_same_work_are_linked_oldest_first(self):
        urls = [p.get_absolute_url() for p in (self.older, self.via_url, self.newer)]
        self.assertEqual(self.items(), {"ref-1": urls, "ref-2": [], "ref-3": []})
        page = soup(self.client.get(self.post.get_absolute_url()))
        self.assertEqual(
            page.select_one("#ref-1 .also-cited").get_text(), "Also cited in: Older, Via URL, Newer"
        )

    def test_a_work_cited_everywhere_names_five_posts_and_counts_the_rest(self):
        author = make_user()
        for i in range(7):
            other = make_post(f"Another {i}", author=author, published_at=london(2013, 1, 1 + i))
            cite(other, 1, "Munro review")
        page = soup(self.client.get(self.post.get_absolute_url()))
        also = page.select_one("#ref-3 .also-cited")
        self.assertEqual(len(also.select("a")), 6)
        self.assertTrue(also.get_text().endswith("Another 4 and 2 more posts"), also.get_text())
        self.assertEqual(also.select("a")[-1]["href"], reverse("blog:references"))

    def test_the_reference_keeps_its_anchors(self):
        page = soup(self.client.get(self.post.get_absolute_url()))
        self.assertEqual(page.select_one("#cite-1")["href"], "#ref-1")
        self.assertEqual(page.select_one("#ref-1 .backlink")["href"], "#cite-1")

    def test_one_query_for_all_the_references(self):
        references = list(self.post.references.all())
        with self.assertNumQueries(1):
            attach_other_citations(self.post, references)
        self.assertEqual([len(r.also_cited_in) for r in references], [3, 0, 0])

    def test_a_staff_preview_of_a_draft_shows_where_else_its_works_are_cited(self):
        references = list(self.draft.references.all())
        attach_other_citations(self.draft, references)
        self.assertEqual(
            [[p.title for p in r.also_cited_in] for r in references],
            [["Older", "Via URL", "The post", "Newer"], ["The post"]],
        )


class KeysAreAlwaysFilledTests(TestCase):
    def test_a_save_fills_and_refreshes_the_keys(self):
        post = make_post()
        reference = cite(post, 1, "“A Report”.", "http://www.example.org/a/")
        reference.refresh_from_db()
        self.assertEqual(
            (reference.citation_key, reference.url_key),
            (citation_key('"a report"'), "example.org/a"),
        )
        reference.url = ""
        reference.save()
        reference.refresh_from_db()
        self.assertEqual(reference.url_key, "")

    def test_bulk_create_fills_the_keys(self):
        post = make_post()
        Reference.objects.bulk_create([Reference(post=post, number=1, citation="A Report")])
        self.assertEqual(Reference.objects.get().citation_key, citation_key("a report"))

    def test_the_fixture_loaded_raw_gets_its_keys_and_every_reference_is_listed(self):
        call_command("loaddata", "april_2014", verbosity=0)
        references = Reference.objects.select_related("post")
        self.assertEqual(len(references), 3)
        for reference in references:
            self.assertEqual(reference.citation_key, citation_key(reference.citation))
            self.assertEqual(reference.url_key, "")
        listed = works(self.client.get(INDEX))
        self.assertEqual(
            sorted((work["citation"], tuple(work["posts"])) for work in listed),
            sorted((r.citation, (r.post.title,)) for r in references),
        )

    def test_the_migration_keys_the_references_already_there(self):
        post = make_post()
        cite(post, 1, "A Report.", "https://www.example.org/a")
        Reference.objects.update(citation_key="", url_key="")
        migration = importlib.import_module("blog.migrations.0004_reference_keys")
        migration.fill_keys(apps, None)
        self.assertEqual(
            list(Reference.objects.values_list("citation_key", "url_key")),
            [(citation_key("a report"), "example.org/a")],
        )
