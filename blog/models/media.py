"""Uploaded images: each stored once (its location and camera data stripped), in
renditions of several widths and formats made when it is uploaded (blog.media), and
where the posts and pages use it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Image(models.Model):
    file = models.ImageField(upload_to="images/%Y/%m/", width_field="width", height_field="height")
    # The uploaded bytes' SHA-256: the same file uploaded twice is stored once.
    digest = models.CharField(max_length=64, unique=True, editable=False)
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    format = models.CharField(max_length=10, editable=False)
    size = models.PositiveIntegerField("bytes", editable=False, default=0)
    alt_text = models.CharField(
        "alternative text",
        max_length=300,
        blank=True,
        help_text="What the image shows, for readers who cannot see it.",
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Where the image is used: kept by the write path (blog.writing) from the bodies.
    posts = models.ManyToManyField("Post", blank=True, editable=False, related_name="images")
    pages = models.ManyToManyField("Page", blank=True, editable=False, related_name="images")

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return self.alt_text or self.file.name.rsplit("/", 1)[-1]


class Rendition(models.Model):
    """One width of an image in one format, made at upload."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="renditions")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    file = models.FileField(upload_to="images/renditions/%Y/%m/", max_length=200)

    class Meta:
        ordering = ["image", "format", "width"]
        constraints = [
            models.UniqueConstraint(fields=["image", "format", "width"], name="unique_rendition")
        ]

    def __str__(self) -> str:
        return f"{self.image} at {self.width}px ({self.format})"
