"""How tags are typed: comma-separated, so a tag may have spaces ("mandatory reporting")."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.db.models.functions import Lower
from django.utils.text import slugify
from taggit.models import Tag


def parse_tags(tagstring: str | None) -> list[str]:
    """Split on commas only; taggit's default would split "mandatory reporting" in two."""
    if not tagstring:
        return []
    names = {" ".join(part.split()) for part in tagstring.split(",")}
    return sorted(name for name in names if name)


def validate_tag_names(names: Iterable[str]) -> None:
    """A tag must fit its column and have a letter or digit to make its address from."""
    max_length = Tag._meta.get_field("name").max_length
    for name in names:
        if len(name) > max_length:
            raise ValidationError(f"“{name[:30]}…” is too long for a tag ({max_length} at most).")
        if not slugify(name, allow_unicode=True):
            raise ValidationError(f"“{name}” cannot be a tag: it needs a letter or a digit.")


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
