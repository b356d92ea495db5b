"""Standalone pages (About, Contact, a comments policy): written in the admin as posts
are, read at ``/<slug>/``, with no date and no discussion."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from markdownx.models import MarkdownxField

from ..markup import plain_text
from ..pageslugs import PRIVACY_PAGE_SLUG, validate_page_slug
from .base import PageSourceQuerySet

PAGE_SLUG_MAX_LENGTH = 80
EXCERPT_WORDS = 55


class PageQuerySet(PageSourceQuerySet):
    def published(self) -> PageQuerySet:
        """What readers may see."""
        return self.filter(status=Page.Status.PUBLISHED)

    def in_navigation(self) -> PageQuerySet:
        """The published pages staff put in the header, in their order."""
        return self.published().filter(in_navigation=True).order_by("navigation_order", "title")

    def visible_to(self, user) -> PageQuerySet:
        return self if user.is_staff else self.published()

    def get_by_natural_key(self, slug: str) -> Page:
        return self.get(slug=slug)


class Page(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=PAGE_SLUG_MAX_LENGTH,
        unique=True,
        help_text="The page's address: /slug/. It may not be one the site already uses "
        "(tags, search, a year…). One exception: a page with the slug “privacy” is not "
        "a page of its own; its text is shown on the privacy page, above the figures "
        "the site's settings give.",
    )
    body = MarkdownxField(blank=True, help_text="Markdown, as in posts.")
    body_html = models.TextField(editable=False, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    in_navigation = models.BooleanField(
        "in the navigation",
        default=False,
        help_text="Listed in the site's header, after its own sections.",
    )
    navigation_order = models.PositiveSmallIntegerField(
        default=0, help_text="Lower numbers come first in the header."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # An imported page's id in the old blog's export (blog.importing), as for posts.
    source_id = models.CharField(max_length=255, blank=True, default="", editable=False)
    source_digest = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["navigation_order", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_id"], condition=~models.Q(source_id=""), name="unique_page_source"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        if self.slug == PRIVACY_PAGE_SLUG:
            return reverse("blog:privacy")
        return reverse("blog:page-detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        super().clean()
        validate_page_slug(self.slug)

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def display_title(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def excerpt(self) -> str:
        return Truncator(plain_text(self.body_html)).words(EXCERPT_WORDS, truncate="…")
