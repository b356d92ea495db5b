"""``{% load following %}``: the "Follow by e-mail" form, for the footer of every page
and for a tag's page (blog.following)."""

from __future__ import annotations

from django import template
from taggit.models import Tag

from ..following.forms import FollowForm

register = template.Library()


@register.inclusion_tag("includes/follow_form.html", takes_context=True)
def follow_form(context: template.Context, place: str = "footer", tag: Tag | None = None) -> dict:
    """An empty form to follow every new post, or ``tag``'s. No query: the tag is the
    page's own, and the footer's form has none. ``place`` keeps the ids of two copies on
    one page apart (a tag's page has its own and the footer's)."""
    form = FollowForm(place=f"{place}-follow", initial={"tag": tag.slug} if tag else None)
    return {
        "form": form,
        "tag": tag,
        "heading": True,
        "labelled_by": f"{form.place}-heading",
        # For {% reader_csrf_token %}: a page the page cache may store gets its
        # placeholder (blog.pagecache), any other the reader's token.
        "request": context.get("request"),
    }
