"""How a citation and a URL are compared: the normalised forms that tell two references
to the same work apart from two different works (blog.sources groups them). Pure
functions of text, used by the Reference model to fill its keys."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit

QUOTES = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "‹": "'", "›": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    }
)  # fmt: skip
# Hyphens, figure dash, en and em dashes, horizontal bar, minus sign (after NFKC, which
# already folds the small and full-width forms into these).
DASHES = re.compile("[\u2010-\u2015\u2212]")
LEADING_PUNCTUATION = re.compile(r"^\W+")
WEB_SCHEMES = {"http", "https"}
DEFAULT_PORTS = {"80", "443"}


def normalise_citation(citation: str) -> str:
    """The citation as compared: Unicode NFKC, case-folded, straight quotes, one kind
    of dash, white space folded, no trailing full stops."""
    text = unicodedata.normalize("NFKC", citation).casefold().translate(QUOTES)
    text = " ".join(DASHES.sub("-", text).split())
    return text.rstrip(". ")


def citation_key(citation: str) -> str:
    """A fixed-length key for the normalised citation ("" when there is nothing to
    compare). A digest, not the text itself: a citation has no length limit, and a
    database index (PostgreSQL's B-tree) has one."""
    text = normalise_citation(citation)
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


def url_key(url: str) -> str:
    """The URL as compared: http and https alike, host in lower case without "www.",
    default port, fragment and trailing slash dropped. The path and query keep their
    case (servers may tell them apart)."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unbalanced bracket or a port that is not a number
        return url
    host = (parts.hostname or "").removeprefix("www.")
    if port is not None and str(port) not in DEFAULT_PORTS:
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    scheme = parts.scheme.lower()
    prefix = "" if scheme in WEB_SCHEMES else f"{scheme}://"
    return f"{prefix}{host}{path}{query}"


def sort_key(citation: str) -> tuple[str, str]:
    """How the index orders works: by their text, ignoring case, accents and leading
    quotes or punctuation ("‘Working Together…’" files under W)."""
    text = normalise_citation(citation)
    letters = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return LEADING_PUNCTUATION.sub("", letters), text
