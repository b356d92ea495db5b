"""What every template may show: the site's name and tagline, and the pages staff put
in the header's navigation."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .models import Page
from .pagecache import cached_fragment


def site(request: HttpRequest) -> dict[str, str]:
    """The blog's name and tagline for every template, from settings (no query)."""
    return {"SITE_NAME": settings.SITE_NAME, "SITE_TAGLINE": settings.SITE_TAGLINE}


def _navigation_pages() -> list[dict[str, str]]:
    # Plain values, not rows: what the cache keeps is what the header shows.
    return [
        {"title": page.title, "url": page.get_absolute_url()}
        for page in Page.objects.in_navigation().only("title", "slug")
    ]


def navigation(request: HttpRequest) -> dict[str, object]:
    """The published pages in the header, in their order: one query per change of the
    content (kept under the page cache's token), and none on a page that never shows
    the header (the admin's), since it is read only when a template iterates it."""
    return {
        "navigation_pages": SimpleLazyObject(
            lambda: cached_fragment(request, "navigation-pages", _navigation_pages)
        )
    }
