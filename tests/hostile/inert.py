"""What "inert" means for a page, a fragment or a feed: nothing in it a browser or a
feed reader would run. Each check returns the problems it found (empty: inert), so a
failing test names the element."""

from __future__ import annotations

import html
import json
import re
import warnings
import xml.etree.ElementTree as ET

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

# Elements that run code, load other documents, or restyle/redirect the page.
FORBIDDEN_ELEMENTS = {
    "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "base",
    "style", "template", "noscript", "xmp", "plaintext", "portal",
}  # fmt: skip
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "poster", "data", "srcdoc",
    "background", "lowsrc", "dynsrc", "ping", "srcset",
}  # fmt: skip
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")
# What a browser's URL parser ignores (WHATWG URL): C0 controls and spaces at either
# end, and tabs and newlines anywhere ("java\tscript:" is javascript:).
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


def dangerous_url(value: str) -> bool:
    compact = _TAB_OR_NEWLINE.sub("", value.strip("".join(map(chr, range(0x21))))).lower()
    return compact.startswith(BAD_SCHEMES)


# Inline SVG icons (the admin's) are the site's own on a whole page; in a fragment of
# what someone wrote, SVG and MathML are how sanitisers get bypassed.
PAGE_ELEMENTS = {"svg", "math"}


def _site_script(element) -> bool:
    """The site's own scripts: a file from the site itself (static files, the admin's
    translations), or JSON-LD that is JSON and cannot close its element early."""
    if element.get("src"):
        src = element["src"]
        return src.startswith("/") and not src.startswith(("//", "/\\")) and not (
            element.string or ""
        ).strip()
    if element.get("type") == "application/ld+json":
        content = element.string or ""
        try:
            json.loads(content)
        except ValueError:
            return False
        return "<" not in content
    return False


def html_problems(markup: str, *, page: bool = False) -> list[str]:
    """Live markup in ``markup``: a script (beyond the site's own, on a whole page), an
    element that embeds or restyles, an event handler, a dangerous URL, CSS that can run
    code, a refresh or a foreign ``<base>``."""
    problems = []
    with warnings.catch_warnings():
        # A fragment may be nothing but a hostile address (a title "javascript:…");
        # parsing it as markup is the point, which bs4 would warn about.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        tree = BeautifulSoup(markup, "html.parser")
    for element in tree.find_all(True):
        name = element.name.lower()
        if name == "script" and not (page and _site_script(element)):
            problems.append(f"script element: {str(element)[:120]}")
        if name in FORBIDDEN_ELEMENTS and not (page and name in PAGE_ELEMENTS):
            problems.append(f"{name} element: {str(element)[:120]}")
        if name == "meta" and element.get("http-equiv", "").lower() == "refresh":
            problems.append(f"meta refresh: {element}")
        for attribute, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            attribute = attribute.lower()
            if attribute.startswith("on"):
                problems.append(f"event handler {attribute}= on <{name}>")
            if attribute in URL_ATTRIBUTES and dangerous_url(value):
                problems.append(f"{attribute}={value[:80]!r} on <{name}>")
            if attribute == "style" and re.search(
                r"expression|url\s*\(|javascript|@import|behavior", value, re.I
            ):
                problems.append(f"style={value[:80]!r} on <{name}>")
    if not page:
        # The same, read from the raw string, in case the parser and a browser disagree
        # (escaped text - "&lt;script" - is not a tag and does not match).
        problems += raw_problems(markup)
    return problems


# A start tag in the raw string, quoted attribute values kept whole.
_RAW_TAG = re.compile(r"""<([a-z][^\s/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>?""", re.I)
_QUOTED = re.compile(r""""[^"]*"|'[^']*'""")
_RAW_URL = re.compile(
    r"""(?:^|[\s/"'])(?:href|src|action|formaction)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
    re.I,
)
_RAW_FORBIDDEN = {"script", *FORBIDDEN_ELEMENTS}


def raw_problems(markup: str) -> list[str]:
    """The checks of html_problems, on the raw string with a regular expression."""
    problems = []
    for tag in _RAW_TAG.finditer(markup):
        name, attributes = tag.group(1).lower(), tag.group(2)
        if name in _RAW_FORBIDDEN:
            problems.append(f"raw <{name}>")
        if re.search(r"(?:^|[\s/])on[a-z]+\s*=", _QUOTED.sub('""', attributes), re.I):
            problems.append(f"raw event handler in {tag.group(0)[:80]!r}")
        for url in _RAW_URL.finditer(attributes):
            value = html.unescape(next(v for v in url.groups() if v is not None))
            if dangerous_url(value):
                problems.append(f"raw dangerous URL in {tag.group(0)[:80]!r}")
    return problems


def response_problems(response) -> list[str]:
    return html_problems(response.content.decode("utf-8", "replace"), page=True)


ATOM = "{http://www.w3.org/2005/Atom}"
# Elements whose text feed readers render as HTML.
_HTML_FIELDS_ATOM = ("content", "summary")
_HTML_FIELDS_RSS = ("description", "title")


def feed_problems(xml: bytes) -> list[str]:
    """A feed must be well-formed XML, and the HTML inside it inert. Atom titles are
    declared text (readers show them as typed); RSS titles and descriptions are read as
    HTML, so they are checked as HTML."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as error:
        return [f"feed is not well-formed XML: {error}"]
    problems = []
    if root.tag == f"{ATOM}feed":
        for entry in root.iter(f"{ATOM}entry"):
            for field in _HTML_FIELDS_ATOM:
                for node in entry.iter(f"{ATOM}{field}"):
                    if node.get("type", "text") == "html":
                        problems += [f"atom {field}: {p}" for p in html_problems(node.text or "")]
            for link in entry.iter(f"{ATOM}link"):
                if dangerous_url(link.get("href", "")):
                    problems.append(f"atom link {link.get('href')!r}")
    else:
        for item in root.iter("item"):
            for field in _HTML_FIELDS_RSS:
                for node in item.iter(field):
                    problems += [f"rss {field}: {p}" for p in html_problems(node.text or "")]
            for link in item.iter("link"):
                if dangerous_url(link.text or ""):
                    problems.append(f"rss link {link.text!r}")
    return problems
