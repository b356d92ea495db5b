"""How a member of staff appears to readers as an author: a display name, a short
biography and a photo, with a page of their own at ``/authors/<slug>/``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

BIO_MAX_LENGTH = 1500


class AuthorQuerySet(models.QuerySet):
    def get_by_natural_key(self, slug: str) -> Author:
        return self.get(slug=slug)


class Author(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="author_profile"
    )
    slug = models.SlugField(
        max_length=80, unique=True, help_text="The author page's address: /authors/slug/."
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
        from ..people import display_name

        return display_name(self.user)
