from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, router, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator, slugify
from django_comments.models import Comment as DjangoComment
from django_comments_xtd.models import XtdComment, XtdCommentManager
from markdownx.models import MarkdownxField
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from .markup import plain_text, render_markdown

OPENING_WORDS = 6
EXCERPT_WORDS = 55
SLUG_MAX_LENGTH = 120
MAX_REFERENCE_NUMBER = 999
WORDS_PER_MINUTE = 200
RELATED_POSTS = 3
# The discussions page: the latest comment first, posts still waiting for one after.
DISCUSSED_ORDER = (F("last_comment_at").desc(nulls_last=True), "-published_at", "-pk")


class PageSourceQuerySet(models.QuerySet):
    """Rows readers' pages show. Bulk updates send no signals, so this one starts a new
    page-cache version itself (blog.pagecache), in the same transaction."""

    def update(self, **kwargs) -> int:
        from .pagecache import invalidate  # blog.pagecache reads these models

        with transaction.atomic(using=self.db):
            count = super().update(**kwargs)
            if count:
                invalidate()
        return count


class PostQuerySet(PageSourceQuerySet):
    def published(self) -> PostQuerySet:
        """What readers may see: published, and due. Evaluated per request, so a
        scheduled post appears on time without a restart."""
        return self.filter(status=Post.Status.PUBLISHED, published_at__lte=timezone.now())

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
        return self.annotate(comment_count=Coalesce(Subquery(_comment_count()), 0))

    def with_discussion(self) -> PostQuerySet:
        """Each post with its comment count and its latest published comment's date,
        author and text (for the discussions page), in the same query."""
        latest = _outer_posts_latest_comments()
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
        latest = _outer_posts_latest_comments()
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
    # Deleting a post deletes its discussion (comments point at it by a generic key).
    comments = GenericRelation("Comment", object_id_field="object_pk")

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        get_latest_by = "published_at"
        indexes = [models.Index(fields=["status", "published_at"], name="post_visible_idx")]

    def __str__(self) -> str:
        return self.display_title

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = self._unique_slug()
        self.body_html = self._render_body()
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
        return len(plain_text(self.body_html).split())

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
        return self.author.get_full_name() or self.author.get_username()

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

    def reference_numbers(self) -> list[int]:
        if self.pk is None:
            return []
        return list(self.references.values_list("number", flat=True))

    def refresh_body_html(self) -> None:
        """Re-render after the post's references change (their numbers decide which
        markers become links)."""
        self.body_html = self._render_body()
        Post.objects.filter(pk=self.pk).update(body_html=self.body_html)

    def _render_body(self) -> str:
        return render_markdown(self.body, self.reference_numbers())

    def _unique_slug(self) -> str:
        source = self.title or self.opening_words
        base = slugify(source)[: SLUG_MAX_LENGTH - 4].strip("-") or "post"
        slug, n = base, 2
        while Post.objects.filter(slug=slug).exclude(pk=self.pk).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug

    def references_with_backlinks(self) -> list[Reference]:
        """The references, each marked with whether the body cites it (and so whether
        it can link back to its marker)."""
        references = list(self.references.all())
        for reference in references:
            reference.is_cited = f'id="{reference.cite_anchor}"' in self.body_html
        return references

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


def comments_window() -> datetime.timedelta | None:
    """How long after publication a post takes comments (None: for ever)."""
    days = settings.BLOG_COMMENTS_CLOSE_AFTER_DAYS
    return None if days is None else datetime.timedelta(days=days)


def discussion_page_query(number: int) -> str:
    """What a link to page ``number`` of a post's discussion adds to the post's address:
    the first page is the post's address itself."""
    return f"?page={number}" if number > 1 else ""


def reading_minutes(words: int) -> int:
    """Minutes to read ``words`` at 200 words a minute, rounded up; at least one."""
    return max(1, -(-words // WORDS_PER_MINUTE))


class ReferenceManager(models.Manager):
    def get_by_natural_key(self, post_slug: str, number: int) -> Reference:
        return self.get(post__slug=post_slug, number=number)

    def bulk_create(self, objs, *args, **kwargs) -> list[Reference]:
        # bulk_create sends no pre_save: fill the same-work keys as a save would.
        from .sources import fill_keys  # blog.sources reads these models

        objs = list(objs)
        for reference in objs:
            fill_keys(reference)
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

    def natural_key(self) -> tuple[str, int]:
        return (*self.post.natural_key(), self.number)

    natural_key.dependencies = ["blog.post"]

    @property
    def anchor(self) -> str:
        return f"ref-{self.number}"

    @property
    def cite_anchor(self) -> str:
        return f"cite-{self.number}"


class SearchDocument(models.Model):
    """A post's searchable text, one row per post, kept in step with the post, its tags
    and its references by ``blog.search``. The full-text index is built over this
    table: an FTS5 table on SQLite, a GIN index on PostgreSQL (migration 0005)."""

    post = models.OneToOneField(
        Post, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    title = models.TextField(blank=True)
    tags = models.TextField(blank=True)
    body = models.TextField(blank=True)
    citations = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Search text of post {self.post_id}"


# What readers see of comments (CommentQuerySet.published), and comments on posts (by
# the content type's natural key: a join, never a separate look-up); as conditions, as
# they also apply to django-comments' own table (_outer_posts_latest_comments).
PUBLISHED_COMMENTS = Q(is_public=True, is_removed=False)
ON_POSTS = Q(content_type__app_label="blog", content_type__model="post")


def _outer_posts_comments() -> CommentQuerySet:
    """The published comments on the post of the enclosing query."""
    return (
        Comment.objects.published()
        .for_posts()
        .filter(object_pk=Cast(OuterRef("pk"), models.CharField()))
    )


def _outer_posts_latest_comments() -> models.QuerySet:
    """The published comments on the post of the enclosing query, the latest first:
    from django-comments' own table alone, so that the latest is one step into its
    index (migration 0008). Through the Comment model, each comment would also be
    looked up in the two tables of its subclasses: for the discussions page, which
    asks this of every post, several times the work (and on PostgreSQL, a plan costly
    enough to be compiled)."""
    return DjangoComment.objects.filter(
        PUBLISHED_COMMENTS, ON_POSTS, object_pk=Cast(OuterRef("pk"), models.CharField())
    ).order_by("-submit_date", "-pk")


def _comment_count() -> models.QuerySet:
    """The number of published comments on the post of the enclosing query."""
    return (
        _outer_posts_comments().order_by().values("object_pk").annotate(n=Count("pk")).values("n")
    )


class CommentQuerySet(PageSourceQuerySet):
    def published(self) -> CommentQuerySet:
        """What readers see: approved (or never held) and not removed."""
        return self.filter(PUBLISHED_COMMENTS)

    def for_posts(self) -> CommentQuerySet:
        return self.filter(ON_POSTS)

    def for_post(self, post: Post) -> CommentQuerySet:
        return self.for_posts().filter(object_pk=str(post.pk))

    def with_thread_ranks(self) -> CommentQuerySet:
        """Each comment with ``thread_rank``: how many threads readers see on its post
        come before its own (the post page shows threads oldest first), so which page
        of the discussion shows it (Comment.comment_page), in the same query."""
        earlier = (
            Comment.objects.published()
            .filter(
                content_type=OuterRef("content_type"),
                object_pk=OuterRef("object_pk"),
                thread_id__lt=OuterRef("thread_id"),
            )
            .order_by()
            .values("object_pk")
            .annotate(n=Count("thread_id", distinct=True))
            .values("n")
        )
        return self.annotate(thread_rank=Coalesce(Subquery(earlier), 0))


class CommentManager(XtdCommentManager.from_queryset(CommentQuerySet)):
    pass


class Comment(XtdComment):
    """A reader's comment on a post, threaded by django-comments-xtd."""

    # Explicit, because the default link's reverse accessor ("comment") would clash
    # with the inherited ``comment`` text field.
    xtdcomment_ptr = models.OneToOneField(
        XtdComment,
        on_delete=models.CASCADE,
        parent_link=True,
        primary_key=True,
        related_name="blog_comment",
    )
    is_highlighted = models.BooleanField(
        "highlighted answer",
        default=False,
        help_text="Shown with the post's call for answers, linked to its place in the thread.",
    )

    objects = CommentManager()

    class Meta:
        ordering = ["thread_id", "order"]
        verbose_name = "comment"

    def save(self, *args, **kwargs) -> None:
        # django-comments-xtd places a reply (its ``order``, shifting the comments after
        # it) from rows it reads in Python: two replies placed at once would read the
        # same rows and take the same place. So a save that can move comments in a
        # thread locks the thread's top-level comment first, and the whole
        # read-compute-write is one transaction: replies to one thread are placed one
        # at a time, threads independently. SQLite has no row locks; production's
        # IMMEDIATE transactions serialise every write there.
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            if self.pk is None and self.parent_id:
                # A new reply: its thread is its parent's.
                thread = XtdComment.norel_objects.filter(pk=self.parent_id).values("thread_id")
                lock = XtdComment.norel_objects.filter(pk=Subquery(thread))
            elif self.pk is not None and self.thread_id:
                # Publishing or removing one changes its ancestors' reply counts.
                lock = XtdComment.norel_objects.filter(pk=self.thread_id)
            else:
                lock = None  # a new top-level comment starts a thread of its own
            if lock is not None:
                list(lock.using(using).select_for_update().values_list("pk", flat=True))
            super().save(*args, **kwargs)

    def get_absolute_url(self, anchor_pattern: str = "#c%(id)s") -> str:
        # Straight to the post's page that shows the comment (django-comments' default
        # goes through a redirect view that builds the address from the Site's domain).
        # ``anchor_pattern`` as django-comments' get_comment_permalink passes it.
        query = discussion_page_query(self.comment_page)
        return f"{self.content_object.get_absolute_url()}{query}{anchor_pattern % {'id': self.pk}}"

    @property
    def comment_page(self) -> int:
        """The page of the post's discussion that shows this comment: from
        ``thread_rank`` when the query annotated it (CommentQuerySet.with_thread_ranks,
        for lists), else one query."""
        rank = getattr(self, "thread_rank", None)
        if rank is None:
            # The annotation's query even for one comment: with the thread id a literal,
            # SQLite may prefer a range scan of every comment's thread id to the index
            # of the post's comments.
            ranks = Comment.objects.filter(pk=self.pk).with_thread_ranks()
            rank = ranks.values_list("thread_rank", flat=True).first() or 0
        return rank // settings.BLOG_COMMENTS_PER_PAGE + 1

    @property
    def is_visible(self) -> bool:
        return self.is_public and not self.is_removed

    @property
    def anchor(self) -> str:
        """The comment's id in its post's page."""
        return f"c{self.pk}"


class ContentVersion(models.Model):
    """One row: a random token that changes, in the same transaction, with anything a
    reader's page shows (blog.pagecache). Cached pages are stored under it, so a change
    makes every one of them unreachable at once, in every process, without a purge. A
    token rather than a counter: a database restored or rolled back to an earlier state
    can then never meet pages cached from a later one."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()
    # When the published pages next change with no write to announce it (a scheduled
    # post's publication), in seconds since the epoch: read on every request.
    next_change_at = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Content version {self.token}"
