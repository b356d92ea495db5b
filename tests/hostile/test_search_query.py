"""Hostile input in the search box and its query string: an answer or a 400 that says
why, never a 500, and the results and snippets shown inert."""

from __future__ import annotations

from django.urls import reverse

from ..factories import make_post
from ..html import soup, text
from . import corpus
from .base import HostileTestCase

SEARCH = reverse("blog:search")


class SearchTests(HostileTestCase):
    @classmethod
    def setUpTestData(cls):
        # Posts that carry hostile text themselves, so that results and snippets show it.
        body = "\n\n".join(f"alert {payload.value}" for payload in corpus.XSS)
        make_post("<script>alert(1)</script> alert", body, tags=["<b>alert</b>"])
        make_post("'; DROP TABLE blog_post; -- alert", "alert " * 50)

    def assertSearchAnswers(self, response) -> None:
        self.assertIn(response.status_code, (200, 400))
        self.assertInert(response)
        if response.status_code == 400:
            self.assertTrue(text(soup(response).select_one("[role=alert], .notice")))

    def test_every_payload_as_a_query(self):
        for payload in [*corpus.TEXT, *corpus.SIZES]:
            with self.subTest(payload.id):
                response = self.client.get(SEARCH, {"q": payload.value})
                self.assertSearchAnswers(response)

    def test_hostile_text_around_a_word_that_matches(self):
        for payload in [*corpus.XSS, *corpus.SQL, *corpus.CONTROL]:
            with self.subTest(payload.id):
                response = self.client.get(SEARCH, {"q": f"alert {payload.value}"[:200]})
                self.assertSearchAnswers(response)

    def test_invalid_utf8_and_nul_in_the_query_string(self):
        for payload in corpus.INVALID_UTF8:
            with self.subTest(payload.id):
                response = self.client.get(SEARCH, QUERY_STRING=f"q=alert{payload.value}")
                self.assertSearchAnswers(response)
                response = self.client.get(SEARCH, QUERY_STRING=f"q=x&page={payload.value}")
                self.assertNoServerError(response)

    def test_a_query_too_long_is_a_400_that_says_so(self):
        response = self.client.get(SEARCH, {"q": corpus.TEN_THOUSAND})
        self.assertEqual(response.status_code, 400)
        self.assertIn("200 characters at most", text(soup(response)))
