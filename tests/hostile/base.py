"""Hostile input (tests/hostile/corpus.py) sent everywhere the site takes input: the
comment form, search, the admin's forms, the editor's preview, and every ``next``; here
what those test modules share.

Each payload gets a clear 4xx with a message, or is kept and shown inert (no script,
event handler or dangerous URL in the page, the e-mails or the feeds); never a 500,
and never a row written for a refusal. Every subtest is named by the payload's id.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from django.test import TestCase
from django.urls import reverse

from ..discussion import row_counts
from ..html import soup, text
from .inert import feed_problems, response_problems

COMMENT_FEED = reverse("blog:feed-comments")


class HostileTestCase(TestCase):
    def assertNoServerError(self, response) -> None:
        self.assertLess(response.status_code, 500, response.content[:500])

    def assertInert(self, response) -> None:
        self.assertNoServerError(response)
        self.assertEqual(response_problems(response), [])

    def assertInertFeed(self, url: str) -> None:
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200, response.content[:500])
        self.assertEqual(feed_problems(response.content), [])

    def assertStaysOnSite(self, response, page: str) -> None:
        """A redirect a browser would follow to this site: read as browsers read it
        (backslashes as slashes, tabs and newlines ignored), against the page it came
        from."""
        self.assertEqual(response.status_code, 302)
        location = re.sub(r"[\t\n\r]", "", response["Location"]).strip().replace("\\", "/")
        target = urlsplit(urljoin(f"http://testserver{page}", location))
        self.assertEqual((target.scheme, target.netloc), ("http", "testserver"), location)

    def assertRefused(self, response, rows_before: tuple[int, ...]) -> None:
        """A 4xx page that says why, and nothing written."""
        self.assertTrue(400 <= response.status_code < 500, response.status_code)
        self.assertEqual(response_problems(response), [])
        page = soup(response)
        message = page.select_one("[role=alert]") or page.select_one(".errorlist")
        self.assertIsNotNone(message, "a refusal must say why")
        self.assertTrue(text(message))
        self.assertEqual(row_counts(), rows_before)


def batches(payloads: list, size: int):
    for start in range(0, len(payloads), size):
        yield payloads[start : start + size]
