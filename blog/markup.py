"""The one way Markdown becomes HTML on this site: pages, feeds and the editor preview.
(Readers' comments are plain text, rendered by blog.discussion.rendering.)

Markdown is converted by Python-Markdown and the result is always cleaned by nh3
(the Rust ``ammonia`` sanitiser), so nothing a writer types - raw HTML, ``javascript:``
or ``data:`` links, event handlers - reaches a reader's browser.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree  # nosec B405 # builds Markdown's elements, never parses XML
from collections.abc import Collection
from urllib.parse import urljoin

import markdown
import nh3
from django.utils.html import strip_tags
from markdown.inlinepatterns import InlineProcessor

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6",
    "hr", "img", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"style"},
    "th": {"style"},
}
CITATION_ID = re.compile(r"cite-\d+")


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    # Only the citation anchors we generate may carry an id: a writer's own ids
    # could clash with the page's.
    if name == "id" and not CITATION_ID.fullmatch(value):
        return None
    return value


# The one allow-list for writers' HTML: the page's cleaner below, and the feeds'.
CLEANER_OPTIONS = {
    "tags": ALLOWED_TAGS,
    "attributes": ALLOWED_ATTRIBUTES,
    "attribute_filter": _keep_attribute,
    "allowed_classes": {"a": {"cite"}},
    "filter_style_properties": {"text-align"},
    "url_schemes": {"http", "https", "mailto"},
    "link_rel": "noopener",
}
_cleaner = nh3.Cleaner(**CLEANER_OPTIONS)


# Feeds append the post's numbered references, whose numbers must match the markers.
FEED_ATTRIBUTES = {**ALLOWED_ATTRIBUTES, "li": {"value"}}
URL_ATTRIBUTES = {"href", "src"}


def absolutize(rendered: str, base_url: str) -> str:
    """Sanitised HTML with every link and image address made absolute against
    ``base_url``, for feeds: a feed reader has no page to resolve ``#ref-1`` or
    ``/media/…`` against. It goes through the same allow-lists as the post's page."""

    def rewrite(tag: str, name: str, value: str) -> str | None:
        value = _keep_attribute(tag, name, value)
        if value is not None and name in URL_ATTRIBUTES:
            return urljoin(base_url, value)
        return value

    options = {**CLEANER_OPTIONS, "attributes": FEED_ATTRIBUTES, "attribute_filter": rewrite}
    return nh3.Cleaner(**options).clean(rendered)


class CitationProcessor(InlineProcessor):
    """Turns ``[N]`` into a link to reference N, when the post has a reference N.

    It runs after Markdown's own link patterns, so ``[text][1]`` links and escaped
    ``\\[1]`` are left alone; a marker with no reference stays plain text.
    """

    PATTERN = r"\[(\d{1,3})\]"

    def __init__(self, numbers: Collection[int]) -> None:
        super().__init__(self.PATTERN)
        self.numbers = frozenset(numbers)
        self.seen: set[int] = set()

    def handleMatch(  # camelCase: Python-Markdown calls it by this name
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element | None, int | None, int | None]:
        number = int(m.group(1))
        if number not in self.numbers:
            return None, None, None
        link = etree.Element("a", {"class": "cite", "href": f"#ref-{number}"})
        # The first marker is the one the reference links back to; ids stay unique.
        if number not in self.seen:
            link.set("id", f"cite-{number}")
            self.seen.add(number)
        link.text = f"[{number}]"
        return link, m.start(0), m.end(0)


def render_markdown(text: str, citations: Collection[int] = ()) -> str:
    """Return sanitised HTML for Markdown ``text``; ``citations`` are the reference numbers
    that exist, whose ``[N]`` markers become links to ``#ref-N``."""
    md = markdown.Markdown(extensions=["nl2br", "sane_lists", "fenced_code", "tables"])
    md.inlinePatterns.register(CitationProcessor(citations), "citation", 115)
    return _cleaner.clean(md.convert(text or ""))


def plain_text(rendered: str) -> str:
    """The words of rendered HTML as plain text (entities decoded, white space folded),
    for excerpts, titles and descriptions; the templates escape it again."""
    return " ".join(html.unescape(strip_tags(rendered)).split())
