"""How a reader's comment becomes HTML: its text (plain text, never Markdown, and never
trusted), and a page's threads, kept under the page cache's version.

The template tags are loaded as ``{% load discussion %}`` (blog/templatetags/discussion.py
hands Django this module's library, which has to be found in an app's templatetags).
"""

from __future__ import annotations

import functools

import nh3
from django import template
from django.template.loader import render_to_string
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe

from ..pagecache import cached_fragment
from . import plaintext

register = template.Library()

# Readers' comments are plain text, not Markdown: only what the text pipeline below
# makes (paragraphs, line breaks, links) may come out of it.
_comment_cleaner = nh3.Cleaner(
    tags={"p", "br", "a"},
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="nofollow ugc noopener",
)
COMMENT_URL_DISPLAY = 60


# A pure function of the text, and the costliest part of showing a long discussion:
# remembered per process, so a thread is rendered once however often it is shown.
@functools.lru_cache(maxsize=4096)
def render_comment_text(text: str) -> str:
    """Return safe HTML for a reader's plain-text comment: everything escaped, blank
    lines make paragraphs, single newlines line breaks, and web addresses links that
    search engines do not credit (``rel="nofollow ugc noopener"``)."""
    # Lines holding only spaces count as blank, so they still separate paragraphs.
    text = "\n".join(line.rstrip() for line in (text or "").strip().splitlines())
    linked = urlize(text, trim_url_limit=COMMENT_URL_DISPLAY, autoescape=True)
    return _comment_cleaner.clean(linebreaks(linked, autoescape=False))


@register.filter
def mail_quoted(text: str) -> str:
    """A reader's words in a plain-text e-mail: every line quoted "> ", so none of them
    reads as one of the site's own lines (plaintext.quoted)."""
    return plaintext.quoted(text or "")


@register.filter
def mail_one_line(text: str) -> str:
    """A name or address from a reader in a plain-text e-mail, on one line."""
    return plaintext.one_line(text or "")


def count_links(rendered: str) -> int:
    """How many links rendered comment HTML holds (what moderation counts)."""
    return rendered.count("<a ")


@register.filter(is_safe=True)
def comment_text(text: str) -> str:
    """A reader's comment as HTML: escaped first, then paragraphs, line breaks and
    nofollow links (see render_comment_text)."""
    return mark_safe(render_comment_text(text))  # nosec B308 B703 # render_comment_text escapes first


@register.simple_tag(takes_context=True)
def comment_list(context: template.Context) -> str:
    """The page's threads as HTML, kept under the page cache's version: a long
    discussion is the costliest part of a post page to render, and readers the page
    cache does not serve (staff, readers with a session) are shown it too."""
    discussion = context["discussion"]
    request = context.get("request")
    can_moderate = bool(request and request.user.has_perm("django_comments.can_moderate"))
    key = (
        f"comment-list:{discussion.post.pk}:{discussion.page.number}:"
        f"{discussion.open:d}:{can_moderate:d}"
    )
    return cached_fragment(
        request,
        key,
        lambda: render_to_string(
            "includes/comment_list.html", {"discussion": discussion, "can_moderate": can_moderate}
        ),
    )
