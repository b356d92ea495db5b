"""/robots.txt: where the sitemap is, and the sections crawlers have no business in."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.views.decorators.http import require_safe

from .sites import absolute_url

# Each a URL name inside a section to keep crawlers out of: the admin, the comment
# machinery (forms, confirmation and e-mail links), the editor's endpoints, and search
# results (endless, thin pages of what is already listed elsewhere).
PRIVATE_SECTIONS = ["admin:index", "comments-post-comment", "editor:preview", "blog:search"]


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
    disallowed = [path for path in map(section, PRIVATE_SECTIONS) if path is not None]
    context = {
        "disallowed": dict.fromkeys(disallowed),  # in order, once each
        "sitemap_url": absolute_url(reverse("sitemap")),
    }
    return render(request, "robots.txt", context, content_type="text/plain; charset=utf-8")
