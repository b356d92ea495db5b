"""Readers' comments, threaded by django-comments-xtd, and what readers see of them."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce
from django_comments.models import Comment as DjangoComment
from django_comments_xtd.models import XtdComment, XtdCommentManager

from .base import PageSourceQuerySet

if TYPE_CHECKING:
    from .posts import Post


def comments_window() -> datetime.timedelta | None:
    """How long after publication a post takes comments (None: for ever)."""
    days = settings.BLOG_COMMENTS_CLOSE_AFTER_DAYS
    return None if days is None else datetime.timedelta(days=days)


def discussion_page_query(number: int) -> str:
    """What a link to page ``number`` of a post's discussion adds to the post's address:
    the first page is the post's address itself."""
    return f"?page={number}" if number > 1 else ""


# What readers see of comments: approved (or never held) and not removed. Stated once,
# as field values, so that a query (CommentQuerySet.visible) and a comment in hand
# (Comment.is_visible) cannot disagree.
VISIBLE_VALUES = {"is_public": True, "is_removed": False}
# That, and comments on posts (by the content type's natural key: a join, never a
# separate look-up), as conditions, since they also apply to django-comments' own table
# (latest_comments_subquery).
VISIBLE_COMMENTS = Q(**VISIBLE_VALUES)


def is_visible(comment) -> bool:
    """Whether readers see a comment in hand, a row or anything with its two flags
    (the demo data's plan): VISIBLE_VALUES, for one comment."""
    return all(getattr(comment, name) == value for name, value in VISIBLE_VALUES.items())


ON_POSTS = Q(content_type__app_label="blog", content_type__model="post")


def _outer_posts_comments() -> CommentQuerySet:
    """The visible comments on the post of the enclosing query."""
    return (
        Comment.objects.visible()
        .for_posts()
        .filter(object_pk=Cast(OuterRef("pk"), models.CharField()))
    )


def latest_comments_subquery() -> models.QuerySet:
    """The visible comments on the post of the enclosing query, the latest first:
    from django-comments' own table alone, so that the latest is one step into its
    index (migration 0008). Through the Comment model, each comment would also be
    looked up in the two tables of its subclasses: for the discussions page, which
    asks this of every post, several times the work (and on PostgreSQL, a plan costly
    enough to be compiled)."""
    return DjangoComment.objects.filter(
        VISIBLE_COMMENTS, ON_POSTS, object_pk=Cast(OuterRef("pk"), models.CharField())
    ).order_by("-submit_date", "-pk")


def comment_count_subquery() -> models.QuerySet:
    """The number of visible comments on the post of the enclosing query."""
    return (
        _outer_posts_comments().order_by().values("object_pk").annotate(n=Count("pk")).values("n")
    )


class CommentQuerySet(PageSourceQuerySet):
    def visible(self) -> CommentQuerySet:
        """What readers see: approved (or never held) and not removed."""
        return self.filter(VISIBLE_COMMENTS)

    def held(self) -> CommentQuerySet:
        """Waiting for a moderator: not approved, and not removed."""
        return self.filter(is_public=False, is_removed=False)

    def for_posts(self) -> CommentQuerySet:
        return self.filter(ON_POSTS)

    def for_post(self, post: Post) -> CommentQuerySet:
        return self.for_posts().filter(object_pk=str(post.pk))

    def with_thread_ranks(self) -> CommentQuerySet:
        """Each comment with ``thread_rank``: how many threads readers see on its post
        come before its own (the post page shows threads oldest first), so which page
        of the discussion shows it (Comment.comment_page), in the same query."""
        earlier = (
            Comment.objects.visible()
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
    # Set by the moderator when the comment is held (moderation.PostModerator.moderate),
    # so that the moderators see why by the rules that held it: the post's age and the
    # listed words change after.
    hold_reasons = models.JSONField(
        "held because",
        default=list,
        blank=True,
        editable=False,
        help_text="Why the comment waited for approval when it was posted (empty: it did not).",
    )

    # As Post.source_id and Post.source_digest: an imported comment's id in the old
    # blog's export, and a digest of what the export said of it.
    source_id = models.CharField(max_length=255, blank=True, default="", editable=False)
    source_digest = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = CommentManager()

    class Meta:
        ordering = ["thread_id", "order"]
        verbose_name = "comment"
        constraints = [
            models.UniqueConstraint(
                fields=["source_id"], condition=~Q(source_id=""), name="unique_comment_source"
            )
        ]

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

    def get_absolute_url(self, anchor_pattern: str | None = None) -> str:
        # Straight to the post's page that shows the comment (django-comments' default
        # goes through a redirect view that builds the address from the Site's domain).
        # ``anchor_pattern`` as django-comments' get_comment_permalink may pass it; our
        # own anchor otherwise.
        query = discussion_page_query(self.comment_page)
        anchor = anchor_pattern % {"id": self.pk} if anchor_pattern else f"#{self.anchor}"
        return f"{self.content_object.get_absolute_url()}{query}{anchor}"

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
        """Whether readers see it (CommentQuerySet.visible, for a comment in hand)."""
        return is_visible(self)

    @property
    def anchor(self) -> str:
        """The comment's id in its post's page: every link to the comment ends in
        ``#`` and this, and nothing else spells it out."""
        return f"c{self.pk}"
