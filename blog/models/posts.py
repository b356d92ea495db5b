"""Posts, their tags and their numbered references."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, F, Q, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator, slugify
from markdownx.models import MarkdownxField
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from ..citations import citation_key, url_key
from ..markup import plain_text, render_markdown
from ..people import author_url, display_name
from .base import PageSourceQuerySet, free_slug
from .comments import comment_count_subquery, comments_window, latest_comments_subquery

OPENING_WORDS = 6
EXCERPT_WORDS = 55
SLUG_MAX_LENGTH = 120
MAX_REFERENCE_NUMBER = 999
WORDS_PER_MINUTE = 200
RELATED_POSTS = 3
# The discussions page: the latest comment first, posts still waiting for one after.
DISCUSSED_ORDER = (F("last_comment_at").desc(nulls_last=True), "-published_at", "-pk")


class PostQuerySet(PageSourceQuerySet):
    def published(self) -> PostQuerySet:
        """What readers may see: published, and due. Evaluated per request, so a
        scheduled post appears on time without a restart."""
        return self.filter(status=Post.Status.PUBLISHED, published_at__lte=timezone.now())

    def drafts(self) -> PostQuerySet:
        return self.filter(status=Post.Status.DRAFT)

    def scheduled(self) -> PostQuerySet:
        """Published, with a time still to come: readers see them from that time."""
        return self.filter(status=Post.Status.PUBLISHED, published_at__gt=timezone.now())

    def month_counts(self) -> list[tuple[datetime.date, int]]:
        """(first day of month, number of posts), newest month first, on the site's
        calendar."""
        rows = (
            self.order_by()
            .annotate(month=TruncMonth("published_at"))
            .values("month")
            .annotate(count=Count("id"))
            .order_by("-month")
        )
        return [(timezone.localtime(row["month"]).date(), row["count"]) for row in rows]

    def with_comment_counts(self) -> PostQuerySet:
        """Each post with ``comment_count``, its published comments, counted in the
        same query."""
        return self.annotate(comment_count=Coalesce(Subquery(comment_count_subquery()), 0))

    def with_discussion(self) -> PostQuerySet:
        """Each post with its comment count and its latest published comment's date,
        author and text (for the discussions page), in the same query."""
        latest = latest_comments_subquery()
        return self.with_comment_counts().annotate(
            last_comment_at=Subquery(latest.values("submit_date")[:1]),
            last_comment_by=Subquery(latest.values("user_name")[:1]),
            last_comment_text=Subquery(latest.values("comment")[:1]),
        )

    def discussed(self) -> PostQuerySet:
        """Posts readers have commented on, the most recently commented first, then the
        posts that call for answers and have none yet, the newest first; each with
        ``last_comment_at``. For every post this reads whether it has a comment and the
        latest one's date, a step into an index each (the latest: migration 0008), where
        counting each post's comments would read them all. The rest of the summary:
        with_discussion(), for the posts shown."""
        latest = latest_comments_subquery()
        return (
            self.annotate(last_comment_at=Subquery(latest.values("submit_date")[:1]))
            .filter(Exists(latest) | ~Q(call_for_answers=""))
            .order_by(*DISCUSSED_ORDER)
        )

    def visible_to(self, user) -> PostQuerySet:
        return self if user.is_staff else self.published()

    def get_by_natural_key(self, slug: str) -> Post:
        return self.get(slug=slug)


class TaggedPostManager(models.Manager):
    def get_by_natural_key(self, post_slug: str, tag_name: str) -> TaggedPost:
        return self.get(content_object__slug=post_slug, tag__name=tag_name)


class TaggedPost(TaggedItemBase):
    """Taggit's through model, with a real foreign key to the post."""

    content_object = models.ForeignKey("Post", on_delete=models.CASCADE)

    objects = TaggedPostManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="unique_post_tag")
        ]

    def natural_key(self) -> tuple[str, str]:
        return (self.content_object.slug, self.tag.name)

    natural_key.dependencies = ["blog.post", "taggit.tag"]


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(
        max_length=200, blank=True, help_text="May be left blank: the post is then untitled."
    )
    slug = models.SlugField(
        max_length=SLUG_MAX_LENGTH,
        unique=True,
        blank=True,
        help_text="Part of the address. Left blank, it is made from the title "
        "(or the opening words of an untitled post).",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts"
    )
    body = MarkdownxField(help_text="Markdown. Write [1], [2]… to cite the references below.")
    body_html = models.TextField(editable=False, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(
        default=timezone.now,
        db_index=True,
        help_text="Readers see a published post from this moment on.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    allow_comments = models.BooleanField(default=True)
    call_for_answers = models.TextField(
        blank=True,
        help_text="The question this post puts to its readers, answered in its discussion.",
    )
    tags = TaggableManager(through=TaggedPost, blank=True)
    # Where an imported post came from (blog.importing): its id in the old blog's export
    # ("blogger:…", "wordpress:…"), by which a second import finds it, and a digest of
    # what the export said of it, by which a second import knows whether that changed.
    source_id = models.CharField(max_length=255, blank=True, default="", editable=False)
    source_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    # Deleting a post deletes its discussion (comments point at it by a generic key).
    comments = GenericRelation("Comment", object_id_field="object_pk")

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        get_latest_by = "published_at"
        indexes = [models.Index(fields=["status", "published_at"], name="post_visible_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["source_id"], condition=~Q(source_id=""), name="unique_post_source"
            )
        ]
        permissions = [("import_posts", "Can import a blog from Blogger or WordPress")]

    def __str__(self) -> str:
        return self.display_title

    def save(self, *args, **kwargs) -> None:
        # The body is rendered once its references are saved too (blog.writing).
        if not self.slug:
            self.slug = self._unique_slug()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        day = self.published_on
        return reverse(
            "blog:post-detail",
            kwargs={"year": day.year, "month": day.month, "day": day.day, "slug": self.slug},
        )

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def display_title(self) -> str:
        """The title, or for an untitled post its opening words - never an invented one."""
        return self.title or self.opening_words

    @property
    def opening_words(self) -> str:
        """The body's first words ("I’m not really surprised to hear…"), without the
        punctuation that happens to follow the last of them."""
        words = plain_text(self.body_html or render_markdown(self.body)).split()
        opening = " ".join(words[:OPENING_WORDS]).rstrip(",;:.–—- ")
        return opening + "…" if len(words) > OPENING_WORDS else opening

    @property
    def excerpt(self) -> str:
        """The post's opening, as plain text, for lists and descriptions."""
        return Truncator(plain_text(self.body_html)).words(EXCERPT_WORDS, truncate="…")

    @property
    def word_count(self) -> int:
        """The words of the rendered body (references and comments not included)."""
        return count_words(self.body_html)

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.word_count)

    def related_posts(self) -> list[Post]:
        """Up to three other published posts sharing the most tags with this one, the
        newest first among equals: one query (none for an untagged post). Uses the
        post's prefetched tags when there are some."""
        tag_ids = [tag.pk for tag in self.tags.all()]
        if not tag_ids:
            return []
        return list(
            Post.objects.published()
            .exclude(pk=self.pk)
            .filter(tags__in=tag_ids)
            .annotate(shared_tags=Count("pk"))
            .order_by("-shared_tags", "-published_at", "-pk")[:RELATED_POSTS]
        )

    @property
    def author_name(self) -> str:
        return display_name(self.author)

    @property
    def author_url(self) -> str:
        """The author's page (a path), "" if they have none yet."""
        return author_url(self.author)

    @property
    def published_on(self) -> datetime.date:
        """The publication day on the site's calendar (Europe/London), as in the URL."""
        return timezone.localtime(self.published_at).date()

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    @property
    def comments_open(self) -> bool:
        """Whether readers may comment: the post allows it, is public, and is not older
        than ``BLOG_COMMENTS_CLOSE_AFTER_DAYS`` (when that is set)."""
        if not (self.allow_comments and self.is_public):
            return False
        window = comments_window()
        return window is None or timezone.now() - self.published_at < window

    def slug_base(self, wanted: str = "") -> str:
        """What the post's slug is made from: ``wanted`` (an imported post's old
        address), else its title, else its opening words, cut to leave room for a
        "-2" that tells it from another post's."""
        for source in (wanted, self.title or self.opening_words):
            base = slugify(source)[: SLUG_MAX_LENGTH - 4].strip("-")
            if base:
                return base
        return "post"

    def _unique_slug(self) -> str:
        others = Post.objects.exclude(pk=self.pk)
        return free_slug(self.slug_base(), lambda slug: others.filter(slug=slug).exists())

    def references_with_backlinks(self) -> list[Reference]:
        """The references, each marked with whether the body cites it (and so whether
        it can link back to its marker)."""
        return mark_cited(list(self.references.all()), self.body_html)

    def get_previous_post(self) -> Post | None:
        return self._neighbour(older=True)

    def get_next_post(self) -> Post | None:
        return self._neighbour(older=False)

    def _neighbour(self, *, older: bool) -> Post | None:
        """The published post just before or after this one; posts published at the
        same moment are ordered by id."""
        op, sign = ("lt", "-") if older else ("gt", "")
        return (
            Post.objects.published()
            # Implied by the condition below, but an OR is no range for an index: without
            # it, the search walks from the newest (or oldest) post to this one.
            .filter(**{f"published_at__{op}e": self.published_at})
            .filter(
                Q(**{f"published_at__{op}": self.published_at})
                | Q(published_at=self.published_at, **{f"pk__{op}": self.pk})
            )
            .order_by(f"{sign}published_at", f"{sign}pk")
            .first()
        )


def count_words(body_html: str) -> int:
    """The words of a rendered body, as readers are told its length."""
    return len(plain_text(body_html).split())


def mark_cited(references: list[Reference], body_html: str) -> list[Reference]:
    """The references, each marked with whether ``body_html`` cites it (its first marker
    carries the anchor a reference links back to)."""
    for reference in references:
        reference.is_cited = f'id="{reference.cite_anchor}"' in body_html
    return references


def reading_minutes(words: int) -> int:
    """Minutes to read ``words`` at 200 words a minute, rounded up; at least one."""
    return max(1, -(-words // WORDS_PER_MINUTE))


class ReferenceManager(models.Manager):
    def get_by_natural_key(self, post_slug: str, number: int) -> Reference:
        return self.get(post__slug=post_slug, number=number)

    def bulk_create(self, objs, *args, **kwargs) -> list[Reference]:
        # bulk_create sends no pre_save: fill the same-work keys as a save would.
        objs = list(objs)
        for reference in objs:
            reference.fill_keys()
        return super().bulk_create(objs, *args, **kwargs)


class Reference(models.Model):
    """A post's numbered citation, linked from the ``[N]`` markers in its body."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="references")
    number = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_REFERENCE_NUMBER)]
    )
    citation = models.TextField()
    url = models.URLField("URL", max_length=500, blank=True)
    # Which references cite the same work (blog.sources): normalised forms of the
    # citation and the URL, filled on every save (fixtures included) by a pre_save
    # receiver, and indexed so that finding a work's other citations is a look-up.
    citation_key = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    url_key = models.CharField(max_length=500, blank=True, editable=False, db_index=True)

    objects = ReferenceManager()

    class Meta:
        ordering = ["post", "number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="unique_reference_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="reference_number_positive"),
        ]

    def __str__(self) -> str:
        return f"[{self.number}] {Truncator(self.citation).words(10)}"

    def save(self, *args, **kwargs) -> None:
        self.fill_keys()
        super().save(*args, **kwargs)

    def natural_key(self) -> tuple[str, int]:
        return (*self.post.natural_key(), self.number)

    natural_key.dependencies = ["blog.post"]

    def fill_keys(self) -> None:
        """The normalised citation and URL that tell which references cite one work."""
        self.citation_key = citation_key(self.citation)
        self.url_key = url_key(self.url)

    @property
    def anchor(self) -> str:
        return f"ref-{self.number}"

    @property
    def cite_anchor(self) -> str:
        return f"cite-{self.number}"
