"""/robots.txt: where the sitemap is, and the sections crawlers have no business in."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.views.decorators.http import require_safe

from .sites import absolute_url

# Each a URL name inside a section to keep crawlers out of: the staff's own, which no
# reader's page links to (the admin, the editor's endpoints). Not the discussion's pages
# (a reply's page, linked from every comment) nor search results: readers' pages link
# to them, and they say "noindex" themselves, which a crawler kept out could never read
# (it would index the bare address from the links instead). Reply links carry
# rel="nofollow" (includes/comment.html).
PRIVATE_SECTIONS = ["admin:index", "editor:preview"]
# robots.txt is public: an admin moved away from its usual address (ADMIN_URL) is not
# named in it. Its pages tell crawlers themselves not to index them.
USUAL_ADMIN_URL = "admin/"


def section(name: str) -> str | None:
    """The top-level path ("/comments/") that the page named ``name`` is in; None when
    the name is not routed."""
    try:
        path = reverse(name)
    except NoReverseMatch:
        return None
    prefix = get_script_prefix()
    return prefix + path.removeprefix(prefix).split("/", 1)[0] + "/"


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    moved = settings.ADMIN_URL != USUAL_ADMIN_URL
    names = [name for name in PRIVATE_SECTIONS if not (moved and name == "admin:index")]
    disallowed = [path for path in map(section, names) if path is not None]
    context = {
        "disallowed": dict.fromkeys(disallowed),  # in order, once each
        "sitemap_url": absolute_url(reverse("sitemap")),
    }
    return render(request, "robots.txt", context, content_type="text/plain; charset=utf-8")
