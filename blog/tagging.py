"""How tags are typed: comma-separated, so a tag may have spaces ("mandatory reporting")."""

from collections.abc import Iterable

from django.db.models import Count, QuerySet
from django.db.models.functions import Lower
from taggit.models import Tag


def parse_tags(tagstring: str | None) -> list[str]:
    """Split on commas only; taggit's default would split "mandatory reporting" in two."""
    if not tagstring:
        return []
    names = {" ".join(part.split()) for part in tagstring.split(",")}
    return sorted(name for name in names if name)


def format_tags(tags: Iterable[Tag]) -> str:
    return ", ".join(sorted(tag.name for tag in tags))


def tag_counts() -> QuerySet[Tag]:
    """Tags used by published posts, each with ``post_count``, by name."""
    from .models import Post

    return (
        Tag.objects.filter(blog_taggedpost_items__content_object__in=Post.objects.published())
        .annotate(post_count=Count("blog_taggedpost_items"))
        .order_by(Lower("name"))
    )
