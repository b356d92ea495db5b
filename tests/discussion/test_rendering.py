"""Readers' comments as HTML (blog.discussion.rendering): plain text, escaped, with
paragraphs, line breaks and links."""

import re

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from blog.discussion.rendering import count_links, render_comment_text

from ..html import soup
from ..test_markup import XSS_PAYLOADS
from . import DiscussionTestCase, comment_and_confirm


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_comment_text_is_always_escaped(payload):
    tree = BeautifulSoup(render_comment_text(payload), "html.parser")
    for element in tree.find_all(True):
        assert element.name in {"p", "br", "a"}, element
        assert set(element.attrs) <= {"href", "rel"}, element
        assert element.get("href", "https:").startswith(("https:", "http:", "mailto:"))
    # Nothing the reader wrote is dropped: it is all there, as text.
    assert tree.get_text().split() == payload.split()


def test_comment_paragraphs_and_line_breaks():
    assert render_comment_text("One\nline two\n\n \n\nTwo") == (
        "<p>One<br>line two</p>\n\n<p>Two</p>"
    )


def test_comment_links_are_nofollow_ugc_noopener_and_the_rest_escaped():
    html = render_comment_text('See https://example.org/a?b=1&c=2 & <b>"this"</b>')
    assert html == (
        '<p>See <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
        'https://example.org/a?b=1&amp;c=2</a> &amp; &lt;b&gt;"this"&lt;/b&gt;</p>'
    )


def test_comment_long_urls_are_shortened_for_display_only():
    url = "https://example.org/" + "x" * 100
    html = render_comment_text(url)
    assert f'href="{url}"' in html and "…</a>" in html


def test_count_links():
    assert count_links(render_comment_text("a https://a.example www.b.example c@d.example")) == 3
    assert count_links(render_comment_text("no links here")) == 0


# HTML's valid global date and time string: seconds with at most three decimals.
HTML_DATETIME = re.compile(r"\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:?\d\d))?")


class TimeElementTests(DiscussionTestCase):
    def test_every_datetime_attribute_is_one_html_accepts(self):
        # A comment stored now has microseconds, which Django's "c" format prints whole
        # and the Nu HTML Checker refuses.
        comment = comment_and_confirm(self.client, self.post, comment="Timed.")
        self.assertTrue(comment.submit_date.microsecond)
        pages = [self.post.get_absolute_url(), reverse("blog:discussions"),
                 reverse("comments-xtd-reply", args=[comment.pk])]  # fmt: skip
        for path in pages:
            with self.subTest(path):
                times = soup(self.client.get(path)).find_all("time")
                self.assertTrue(times)
                for element in times:
                    self.assertRegex(
                        element["datetime"], rf"^{HTML_DATETIME.pattern}$|^\d{{4}}-\d\d-\d\d$"
                    )
