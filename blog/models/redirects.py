"""Old addresses that keep working: a blog brought here from Blogger or WordPress
(blog.importing) leaves links to its old addresses all over the web."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from taggit.models import Tag

from .posts import Post

OLD_PATH_MAX_LENGTH = 500
ONE_TARGET = "redirect_has_one_target"

NO_TARGET = "Choose where the old address leads: a post, a tag, or another address on this site."
MANY_TARGETS = "Choose only one of a post, a tag or a new address."
NOT_LOCAL = (
    "Give an address on this site, from its first slash (/feeds/rss/): not a full URL, "
    "and not one starting with // or holding a backslash or spaces."
)
NOT_A_PATH = "Give the old address from its first slash (/2014/04/a-post.html), or paste it whole."
SAME_ADDRESS = "The new address is the old one: readers would be sent round in a circle."


def is_local_path(value: str) -> bool:
    """Whether ``value`` is a path on this site, which a browser cannot read as another
    host: one slash first ("//host" and "/\\host" name a host to browsers), no
    scheme, no backslash, space or control character anywhere."""
    return (
        value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and not any(c == "\\" or c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)
        and url_has_allowed_host_and_scheme(value, allowed_hosts=set())
    )


def old_path_as_stored(value: str) -> str:
    """An old address as the look-up meets it (blog.redirects): decoded, as Django
    decodes request.path, without the fragment (browsers never send it); a whole URL
    pasted from the old blog is cut to its path and query."""
    value = value.strip()
    if value.lower().startswith(("http://", "https://")):
        parts = urlsplit(value)
        value = parts.path or "/"
        if parts.query:
            value += f"?{parts.query}"
    value = value.split("#", 1)[0]
    return unquote(value) if "%" in value else value


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
                name=ONE_TARGET,
                condition=(
                    Q(post__isnull=False, tag__isnull=True, new_path="")
                    | Q(post__isnull=True, tag__isnull=False, new_path="")
                    | (Q(post__isnull=True, tag__isnull=True) & ~Q(new_path=""))
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.old_path} → {self.target_path()}"

    def clean(self) -> None:
        """Exactly one target, and a new address on this site: a row can never send a
        reader elsewhere (the middleware refuses one that does, too)."""
        super().clean()
        self.old_path = old_path_as_stored(self.old_path)
        if self.old_path and not self.old_path.startswith("/"):
            raise ValidationError({"old_path": NOT_A_PATH})
        self.new_path = self.new_path.strip()
        targets = [self.post_id, self.tag_id, self.new_path or None]
        chosen = sum(target is not None for target in targets)
        if chosen == 0:
            raise ValidationError(NO_TARGET)
        if chosen > 1:
            raise ValidationError(MANY_TARGETS)
        if self.new_path:
            if not is_local_path(self.new_path):
                raise ValidationError({"new_path": NOT_LOCAL})
            if self.new_path.split("#", 1)[0] == self.old_path:
                raise ValidationError({"new_path": SAME_ADDRESS})

    def get_constraints(self) -> list:
        # The database's guard of one target, left out of form validation: clean()
        # says the same in words an editor can act on.
        return [
            (model, [c for c in constraints if c.name != ONE_TARGET])
            for model, constraints in super().get_constraints()
        ]

    def target_path(self) -> str:
        """The address on this site the old one leads to."""
        if self.post_id is not None:
            return self.post.get_absolute_url()
        if self.tag_id is not None:
            return reverse("blog:tag-detail", kwargs={"slug": self.tag.slug})
        return self.new_path
