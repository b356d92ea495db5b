"""Old addresses that keep working: a blog brought here from Blogger or WordPress
(blog.importing) leaves links to its old addresses all over the web."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from taggit.models import Tag

from .posts import Post

OLD_PATH_MAX_LENGTH = 500


class Redirect(models.Model):
    """An old address and where it now leads, answered with a 301 (blog.redirects).

    The target is the post or the tag itself where there is one, so that the redirect
    follows a post whose address changes later; any other address on the site (a feed,
    the home page) is kept as its path."""

    old_path = models.CharField(
        "old address",
        max_length=OLD_PATH_MAX_LENGTH,
        unique=True,
        help_text="The path on the old blog, from its first slash, with the query only where "
        "it names the item: /2014/04/pressure-of-work.html, /?p=12, /tag/ofsted/.",
    )
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="redirects"
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    new_path = models.CharField(
        "new address",
        max_length=OLD_PATH_MAX_LENGTH,
        blank=True,
        help_text="Any other address on this site, from its first slash (left blank when a "
        "post or a tag is chosen).",
    )
    # Which importer made it ("blogger", "wordpress"); blank for one staff added.
    source = models.CharField(max_length=20, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["old_path"]
        verbose_name = "old address"
        verbose_name_plural = "old addresses"
        constraints = [
            models.CheckConstraint(
                name="redirect_has_one_target",
                condition=(
                    Q(post__isnull=False, tag__isnull=True, new_path="")
                    | Q(post__isnull=True, tag__isnull=False, new_path="")
                    | (Q(post__isnull=True, tag__isnull=True) & ~Q(new_path=""))
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.old_path} → {self.target_path()}"

    def target_path(self) -> str:
        """The address on this site the old one leads to."""
        if self.post_id is not None:
            return self.post.get_absolute_url()
        if self.tag_id is not None:
            return reverse("blog:tag-detail", kwargs={"slug": self.tag.slug})
        return self.new_path
