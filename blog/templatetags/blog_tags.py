from __future__ import annotations

import datetime
import json
from itertools import groupby

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import mark_safe

from .. import metadata
from ..markup import render_comment_text
from ..models import Post
from ..sites import absolute_url
from ..tagging import tag_counts

register = template.Library()


@register.inclusion_tag("includes/archive_tree.html")
def archive_tree() -> dict:
    """The "Blog archive" sidebar: years, each with its months and their counts."""
    months = Post.objects.published().month_counts()
    years: list[tuple[int, int, list[tuple[datetime.date, int]]]] = []
    for year, rows in groupby(months, key=lambda row: row[0].year):
        rows = list(rows)
        years.append((year, sum(count for _, count in rows), rows))
    return {"years": years}


@register.inclusion_tag("includes/tag_cloud.html")
def tag_cloud() -> dict:
    return {"tags": tag_counts()}


@register.filter(is_safe=True)
def comment_text(text: str) -> str:
    """A reader's comment as HTML: escaped first, then paragraphs, line breaks and
    nofollow links (see markup.render_comment_text)."""
    return mark_safe(render_comment_text(text))


@register.filter
def absolute(path: str) -> str:
    """A site path as a full address, for e-mails."""
    return absolute_url(path)


# As django.utils.html.json_script escapes: "</script>" or "<!--" in a title cannot end
# or change the script element, and the JSON still decodes to the same text.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter(is_safe=True)
def ld_json(data: dict) -> str:
    """``data`` as JSON to place inside <script type="application/ld+json">."""
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder).translate(_JSON_SCRIPT_ESCAPES))


@register.filter
def blog_posting(post: Post) -> dict:
    return metadata.blog_posting(post)


@register.simple_tag
def website_data() -> dict:
    return metadata.website()


@register.filter
def last_modified(post: Post) -> datetime.datetime:
    return metadata.last_modified(post)


@register.simple_tag(takes_context=True)
def canonical_url(context: template.Context) -> str:
    """This page's canonical address (see metadata.canonical_url); empty without a
    request."""
    request = context.get("request")
    if request is None:
        return ""
    return metadata.canonical_url(request, context.get("page_obj"))
