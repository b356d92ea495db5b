"""A comment's HTML as the plain text the site keeps (it escapes comments, and shows
their line breaks): paragraphs and <br> as line breaks, entities as their characters,
a link as its text followed by its address in brackets when the two differ, every
other tag dropped with its text kept (a script's or a style's text dropped too).

Blogger's comment form allowed <b>, <i> and <a> and wrote line breaks as <br>.
WordPress keeps a comment as typed: its newlines are the line breaks (its wpautop makes
them <br> and <p> when it shows one), so there they are kept (``newlines=True``). The
parser is the standard library's, which never fetches or runs anything.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements that end a line, and those that end a paragraph (a blank line after).
_LINE_BREAKS = frozenset({"br", "li", "tr", "dt", "dd"})
_PARAGRAPHS = frozenset(
    {"p", "div", "blockquote", "pre", "ul", "ol", "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_DROPPED = frozenset({"script", "style", "template", "noscript"})
_SHOWN_SCHEMES = ("http://", "https://", "mailto:")


# A <br /> at a line's end, in text whose newlines are breaks: the same break, once.
_BR_AT_LINE_END = re.compile(r"<br\s*/?>[ \t]*\n", re.IGNORECASE)


class _TextParser(HTMLParser):
    def __init__(self, *, newlines: bool) -> None:
        super().__init__(convert_charrefs=True)
        # HTML's own whitespace rule: a run of spaces and line ends is one space; with
        # ``newlines``, a run of spaces, the line ends kept.
        self._spaces = re.compile(r"[^\S\n]+" if newlines else r"\s+")
        self.parts: list[str] = []
        self._dropping = 0
        # The links open now: (href, where their text starts in parts).
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropping += 1
        elif tag == "br" or tag in _LINE_BREAKS:
            self.parts.append("\n")
        elif tag in _PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self._links.append((href, len(self.parts)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            text = "".join(self.parts[start:]).strip()
            if href.lower().startswith(_SHOWN_SCHEMES) and _bare(href) != _bare(text):
                self.parts.append(f" ({href})" if text else href)

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(self._spaces.sub(" ", data))


def _bare(address: str) -> str:
    """An address as readers would compare it: no scheme, no "www.", no final slash."""
    address = re.sub(r"^(https?://|mailto:)", "", address.strip(), flags=re.IGNORECASE)
    return address.removeprefix("www.").rstrip("/").lower()


def comment_text(html: str, *, newlines: bool = False) -> str:
    """``html`` (a comment's) as plain text; ``newlines``: its newlines are line breaks."""
    if newlines:
        html = _BR_AT_LINE_END.sub("\n", html.replace("\r\n", "\n"))
    parser = _TextParser(newlines=newlines)
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
