from __future__ import annotations

import datetime
from itertools import groupby

from django import template
from django.utils.safestring import mark_safe

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
