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
from collections.abc import Collection, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

import markdown
import nh3
from django.utils.html import strip_tags
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6",
    "hr", "img", "li", "ol", "p", "picture", "pre", "source", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "aria-label"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height", "srcset", "sizes", "loading", "decoding"},
    "source": {"type", "srcset", "sizes"},
    "ol": {"start"},
    "td": {"style"},
    "th": {"style"},
}
CITATION_ID = re.compile(r"cite-\d+")
CITATION_LABEL = re.compile(r"Reference \d+")
# A marker as CitationProcessor writes it, inside its <sup> (or bare, as posts rendered
# before the markers were superscript still hold it), with the space before it
# ("England [2]." reads "England."): left out of plain text.
CITATION_MARKER = re.compile(r"\s*(?:<sup>)?<a\b[^>]*\bclass=\"cite\"[^>]*>\[\d+\]</a>(?:</sup>)?")
# A marker with no reference, left as text ("in England [2]."): after a space, before a
# space or punctuation (so "list[1]" in code stays).
UNLINKED_MARKER = re.compile(r"(?:^|\s+)\[\d{1,3}\](?=[\s.,;:!?)]|$)")
# An <img> as nh3 writes it: attributes in double quotes, whose values have their own
# double quotes escaped (but not ">", so [^>]* would not do).
IMG_TAG = re.compile(r'<img((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*/?>')
ATTRIBUTE = re.compile(r'([\w:-]+)(?:="([^"]*)")?')
# Attributes whose values are a fixed set of words.
KEYWORDS = {
    "loading": {"lazy", "eager"},
    "decoding": {"async", "sync", "auto"},
    "type": {"image/webp", "image/jpeg", "image/png"},
}
# The column a post's body is set in: .content's max-width, var(--measure) = 32em of
# the body's type, at most 1.1875rem (static/css/site.css), is 38rem; below about 42rem
# of viewport the column is the screen less its gutters.
IMAGE_SIZES = "(max-width: 42rem) 100vw, 38rem"


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    # Only the citation markers we generate may carry an id or an accessible name: a
    # writer's own ids could clash with the page's, and a label could make a link say
    # something other than what it shows.
    if name == "id" and not CITATION_ID.fullmatch(value):
        return None
    if name == "aria-label" and not CITATION_LABEL.fullmatch(value):
        return None
    if name in KEYWORDS and value not in KEYWORDS[name]:
        return None
    # A srcset names addresses nh3 does not check: only files of our own media.
    if name == "srcset" and not all(
        url.startswith(media_prefix()) for url, _ in srcset_candidates(value)
    ):
        return None
    return value


def media_prefix() -> str:
    """The address stored files are served under ("/media/")."""
    from django.core.files.storage import default_storage

    return default_storage.url("")


def srcset_candidates(value: str) -> list[tuple[str, str]]:
    """A srcset's (address, descriptor) pairs."""
    pairs = []
    for candidate in value.split(","):
        url, _, descriptor = candidate.strip().partition(" ")
        if url:
            pairs.append((url, descriptor.strip()))
    return pairs


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
        if value is not None and name == "srcset":
            return ", ".join(
                f"{urljoin(base_url, url)} {descriptor}".strip()
                for url, descriptor in srcset_candidates(value)
            )
        return value

    options = {**CLEANER_OPTIONS, "attributes": FEED_ATTRIBUTES, "attribute_filter": rewrite}
    return nh3.Cleaner(**options).clean(rendered)


class CitationProcessor(InlineProcessor):
    """Turns ``[N]`` into a superscript link to reference N, when the post has a
    reference N: ``<sup><a class="cite" href="#ref-N" aria-label="Reference N">[N]</a></sup>``.
    The brackets stay in the text, so a text browser or a feed reader without styles
    still shows a marker, not a number run into the word before it; the label is what a
    screen reader says.

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
        marker = etree.Element("sup")
        link = etree.SubElement(marker, "a", {"class": "cite", "href": f"#ref-{number}"})
        # The first marker is the one the reference links back to; ids stay unique.
        if number not in self.seen:
            link.set("id", f"cite-{number}")
            self.seen.add(number)
        link.set("aria-label", f"Reference {number}")
        # Atomic: no other inline pattern reads the marker's text again (without it,
        # Python-Markdown never finishes placing a link nested in another element).
        link.text = AtomicString(f"[{number}]")
        return marker, m.start(0), m.end(0)


def render_markdown(
    text: str, citations: Collection[int] = (), images: Mapping[str, Any] | None = None
) -> str:
    """Return sanitised HTML for Markdown ``text``; ``citations`` are the reference numbers
    that exist, whose ``[N]`` markers become links to ``#ref-N``; ``images`` are the
    uploaded images the text may show, by address (blog.media.images_in), whose
    renditions its ``<img>`` are given."""
    md = markdown.Markdown(extensions=["nl2br", "sane_lists", "fenced_code", "tables"])
    md.inlinePatterns.register(CitationProcessor(citations), "citation", 115)
    cleaned = _cleaner.clean(md.convert(text or ""))
    if not images:
        return cleaned
    # After the sanitiser: what is added is built from our own rows, escaped here.
    return IMG_TAG.sub(lambda match: _responsive(match, images), cleaned)


def img_attributes(tag: re.Match[str]) -> dict[str, str]:
    """The attributes of an <img> that IMG_TAG found, their values unescaped."""
    return {name: html.unescape(value or "") for name, value in ATTRIBUTE.findall(tag[1])}


def images_of(rendered: str) -> Iterator[dict[str, str]]:
    """Each <img> of HTML as nh3 writes it (a rendered body), as its attributes."""
    return (img_attributes(tag) for tag in IMG_TAG.finditer(rendered))


def _responsive(match: re.Match[str], images: Mapping[str, Any]) -> str:
    """An uploaded image's <img> as a <picture>: WebP for the browsers that take it,
    the original format for the rest, each in every width made (blog.media), with the
    widest's size so that the page keeps its place before it loads."""
    attributes = img_attributes(match)
    image = images.get(attributes.get("src", ""))
    if image is None:
        return match.group(0)
    renditions: dict[str, list[Any]] = {}
    for rendition in sorted(image.renditions.all(), key=lambda r: r.width):
        renditions.setdefault(rendition.format, []).append(rendition)
    own = renditions.get(image.format)
    if not own:
        return match.group(0)
    widest = own[-1]

    def srcset(items: list[Any]) -> str:
        return ", ".join(f"{r.file.url} {r.width}w" for r in items)

    alt = attributes.get("alt") or image.alt_text
    img = {
        "src": widest.file.url,
        "alt": alt,
        "title": attributes.get("title"),
        "width": widest.width,
        "height": widest.height,
        "srcset": srcset(own),
        "sizes": IMAGE_SIZES,
        "loading": "lazy",
        "decoding": "async",
    }
    parts = ["<picture>"]
    for fmt, items in renditions.items():
        if fmt != image.format:
            parts.append(
                f'<source type="image/{fmt.lower()}" srcset="{html.escape(srcset(items))}" '
                f'sizes="{IMAGE_SIZES}">'
            )
    shown = " ".join(f'{name}="{html.escape(str(v))}"' for name, v in img.items() if v is not None)
    parts.append(f"<img {shown}></picture>")
    return "".join(parts)


def plain_text(rendered: str) -> str:
    """The words of rendered HTML as plain text (entities decoded, white space folded),
    for excerpts, titles, descriptions and search; the templates escape it again.
    Citation markers are left out: away from the references they lead to, a bare
    "[1] [2]" is noise in an excerpt, a description or an untitled post's opening words."""
    text = html.unescape(strip_tags(CITATION_MARKER.sub("", rendered)))
    return " ".join(UNLINKED_MARKER.sub("", text).split())
