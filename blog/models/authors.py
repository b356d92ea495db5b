"""How a member of staff appears to readers as an author: a display name, a short
biography and a photo, with a page of their own at ``/authors/<slug>/``."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.text import slugify

from .base import free_slug

BIO_MAX_LENGTH = 1500
SLUG_MAX_LENGTH = 80
# Room left after a base for the "-2", "-3"… that tells two namesakes apart.
SLUG_BASE_LENGTH = SLUG_MAX_LENGTH - 6
SLUG_FALLBACK = "author"


def slug_base(name: str) -> str:
    """What an author's slug is made from: the name readers see, never the login name
    (which is half of what signs in to the admin)."""
    return slugify(name)[:SLUG_BASE_LENGTH].strip("-") or SLUG_FALLBACK


def unique_slugs(bases: Iterable[str], taken: set[str]) -> list[str]:
    """A free slug for each base, in order: the base itself, else base-2, base-3…
    ``taken`` is updated with the slugs given."""
    slugs = []
    for base in bases:
        slug = free_slug(base, taken.__contains__)
        taken.add(slug)
        slugs.append(slug)
    return slugs


def taken_slugs(bases: Iterable[str], queryset: models.QuerySet) -> set[str]:
    """The slugs in ``queryset`` that one of ``bases`` could clash with: one query."""
    starts = Q()
    for base in set(bases):
        starts |= Q(slug__startswith=base)
    return set(queryset.filter(starts).values_list("slug", flat=True))


class AuthorQuerySet(models.QuerySet):
    def get_by_natural_key(self, slug: str) -> Author:
        return self.get(slug=slug)

    def ensure_for(self, user_ids: Iterable[int]) -> list[Author]:
        """Make a profile for each of these users that has none, with a unique slug from
        their byline: a look-up, and when some lack one, two statements more for any
        number. Returns the profiles made."""
        user_ids = set(user_ids)
        if not user_ids:
            return []
        missing = list(
            get_user_model()
            .objects.filter(pk__in=user_ids, author_profile__isnull=True)
            .order_by("pk")
        )
        if not missing:
            return []
        # Their byline as it is without a profile (people.display_name would look for it).
        bases = [
            slug_base(user.get_full_name() or settings.BLOG_BYLINE_FALLBACK) for user in missing
        ]
        slugs = unique_slugs(bases, taken_slugs(bases, self.model.objects.all()))
        return self.bulk_create(
            [Author(user=user, slug=slug) for user, slug in zip(missing, slugs, strict=True)]
        )


class Author(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="author_profile"
    )
    slug = models.SlugField(
        max_length=SLUG_MAX_LENGTH,
        unique=True,
        help_text="The author page's address: /authors/slug/.",
    )
    display_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="The name on bylines. Left blank: the account's first and last name.",
    )
    bio = models.TextField(
        "biography",
        max_length=BIO_MAX_LENGTH,
        blank=True,
        help_text="A few sentences, shown on the author's page. Plain text; a blank line "
        "starts a new paragraph.",
    )
    photo = models.ForeignKey(
        "Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="author_photos",
        help_text="Optional: a square picture looks best.",
    )

    objects = AuthorQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "slug"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("blog:author-detail", kwargs={"slug": self.slug})

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def name(self) -> str:
        """The byline: the display name when set (no need to read the account)."""
        from ..people import display_name

        return " ".join(self.display_name.split()) or display_name(self.user)
