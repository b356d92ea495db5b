"""An export's HTML as the site's Markdown.

INTERFACE (being built): ``convert_body(html, base_url=..., autop=...)`` returns the
body in Markdown, the numbered notes taken off its end, and the remote images it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdownify import markdownify

from .records import SourceNote


@dataclass(frozen=True)
class Converted:
    body: str  # Markdown
    notes: tuple[SourceNote, ...] = ()  # the trailing "[1] …" notes, taken off the body
    images: tuple[str, ...] = ()  # absolute URLs of the images the body shows


def convert_body(html: str, *, base_url: str = "", autop: bool = False) -> Converted:
    """``html`` as Markdown. ``autop``: the text is WordPress's, whose paragraphs are
    blank lines rather than <p> elements (its wpautop makes them at display time).
    ``base_url``: the old blog's address, against which relative links are made
    absolute."""
    return Converted(body=markdownify(html, heading_style="ATX").strip())
