"""An author profile (and so an author page) for every account that has written a post,
with a unique slug from the name readers see in its byline, never its login name.
Kept self-contained: the slug rules here are those of blog.models.authors when it was
written."""

from django.conf import settings
from django.db import migrations
from django.utils.text import slugify

SLUG_BASE_LENGTH = 74


def create_profiles(apps, schema_editor) -> None:
    Author = apps.get_model("blog", "Author")
    Post = apps.get_model("blog", "Post")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    writers = User.objects.filter(
        pk__in=Post.objects.values("author"), author_profile__isnull=True
    ).order_by("pk")
    taken = set(Author.objects.values_list("slug", flat=True))
    profiles = []
    for user in writers:
        name = f"{user.first_name} {user.last_name}".strip() or settings.BLOG_BYLINE_FALLBACK
        base = slugify(name)[:SLUG_BASE_LENGTH].strip("-") or "author"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        profiles.append(Author(user=user, slug=slug))
    Author.objects.bulk_create(profiles, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0014_cms"),
    ]

    operations = [
        migrations.RunPython(create_profiles, migrations.RunPython.noop),
    ]
