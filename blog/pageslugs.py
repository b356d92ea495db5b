"""Which slugs a page may not take: pages live at ``/<slug>/``, at the top of the site,
beside the site's own addresses (``/tags/``, ``/search/``, ``/2014/``, the admin…).

The reserved words are read from the URL resolver itself, the first segment of every
route, so that a section added later is refused without anyone remembering this list;
the static and media prefixes are added from the settings (in production the web
server serves them, and no route names them). A slug made of digits alone is refused
too: the year archives take four of them, and a number is never a page's name.

One slug is reserved for a page of its own: ``privacy``. That page is not shown at
``/privacy/`` as a page of its own; its text is shown on the privacy page above the
figures the settings give (blog.views.PrivacyView).
"""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import NoReverseMatch

PRIVACY_PAGE_SLUG = "privacy"
# What a regex route's first segment is made of, when it is a plain word.
_LITERAL = re.compile(r"[\w.-]+")


def _first_segment(route: str) -> str | None:
    """The literal first segment of a route (``tags`` of ``tags/<slug>/``), or None when
    it starts with a converter or is empty (an include at the root)."""
    route = route.removeprefix("^")
    segment = route.split("/", 1)[0]
    if not segment or segment.startswith("<"):
        return None
    literal = _LITERAL.match(segment)
    return literal.group(0) if literal else None


def _segments(patterns: list) -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        segment = _first_segment(str(pattern.pattern))
        if segment is not None:
            found.add(segment.lower())
        elif isinstance(pattern, URLResolver):
            # Mounted at the root ("" → blog.urls): its own routes are top-level ones.
            found |= _segments(pattern.url_patterns)
    return found


def _prefix(url: str | None) -> str | None:
    """The first segment of STATIC_URL or MEDIA_URL, when they are on this site."""
    if not url or "://" in url or url.startswith("//"):
        return None
    return _first_segment(url.lstrip("/"))


@functools.cache
def reserved_slugs() -> frozenset[str]:
    """Every first segment of the site's own addresses."""
    words = _segments(get_resolver().url_patterns)
    words |= {p for p in (_prefix(settings.STATIC_URL), _prefix(settings.MEDIA_URL)) if p}
    return frozenset(words)


def page_slug_clash(slug: str) -> str | None:
    """Why ``slug`` cannot be a page's address, or None when it can."""
    if slug == PRIVACY_PAGE_SLUG:
        return None
    if slug.isdigit():
        return f"“{slug}” is a number: the site's year archives live at numbered addresses."
    if slug.lower() in reserved_slugs():
        return f"“/{slug}/” is already one of the site's own addresses; choose another slug."
    try:
        # A route led by a converter (a year) that this slug would match.
        address = reverse("blog:page-detail", kwargs={"slug": slug})
    except NoReverseMatch:
        return None
    if resolve(address).view_name != "blog:page-detail":
        return f"“/{slug}/” is already one of the site's own addresses; choose another slug."
    return None


def validate_page_slug(slug: str) -> None:
    """Refuse a slug the site already uses (ValidationError naming the clash)."""
    reason = page_slug_clash(slug)
    if reason is not None:
        raise ValidationError({"slug": reason}, code="reserved")
