from __future__ import annotations

import datetime
import json
from itertools import groupby

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from .. import metadata
from ..models import Post
from ..pagecache import cached_fragment
from ..sites import absolute_url
from ..tagging import tag_counts

register = template.Library()


def _archive_years() -> list[tuple[int, int, list[tuple[datetime.date, int]]]]:
    months = Post.objects.published().month_counts()
    years = []
    for year, rows in groupby(months, key=lambda row: row[0].year):
        rows = list(rows)
        years.append((year, sum(count for _, count in rows), rows))
    return years


# The sidebar reads every published post, and its archive grows by a dozen links a
# year: kept as HTML under the page cache's version (blog.pagecache), so it is built
# once per change, not once per page.


def _cached_template(context: template.Context, name: str, template_name: str, compute) -> str:
    return cached_fragment(
        context.get("request"), name, lambda: render_to_string(template_name, compute())
    )


@register.simple_tag(takes_context=True)
def archive_tree(context: template.Context) -> str:
    """The "Blog archive" sidebar: years, each with its months and their counts."""
    return _cached_template(
        context, "archive-tree", "includes/archive_tree.html", lambda: {"years": _archive_years()}
    )


@register.simple_tag(takes_context=True)
def tag_cloud(context: template.Context) -> str:
    return _cached_template(
        context, "tag-cloud", "includes/tag_cloud.html", lambda: {"tags": tag_counts()}
    )


@register.filter
def machine_time(value: datetime.datetime | datetime.date | None) -> str:
    """A moment for ``<time datetime>``: ISO 8601 to the second, in the site's time zone.
    Django's "c" format prints microseconds, which HTML's grammar refuses."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(timespec="seconds")
    return value.isoformat() if value else ""


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
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder).translate(_JSON_SCRIPT_ESCAPES))  # nosec B308 B703 # JSON with <, >, & escaped


@register.filter
def blog_posting(post: Post) -> dict:
    return metadata.blog_posting(post)


@register.filter
def web_page(page) -> dict:
    return metadata.web_page(page)


@register.filter
def post_image(post: Post) -> str:
    return metadata.post_image(post)


@register.filter
def post_image_size(post: Post) -> dict[str, str]:
    return metadata.post_image_size(post)


@register.simple_tag
def default_image() -> str:
    return metadata.default_image()


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
