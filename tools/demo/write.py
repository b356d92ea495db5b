"""The write half of the demo data: a plan (tools.demo.plan) put into the database
with bulk inserts, through the post write path (blog.writing), which renders,
indexes and announces the posts once; the comments' thread columns are filled as the
library's saves would have.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import connection, models
from django.db.models import F
from django.db.models.functions import Cast
from django_comments.models import Comment as BaseComment
from django_comments.models import CommentFlag
from django_comments_xtd.models import XtdComment

from blog.discussion.bulk import NewComment, Place, insert_comments, thread_places
from blog.models import Comment, Post, Reference
from blog.writing import PostWrites, post_writes, tag_posts

from .plan import DEMO_USERNAME, SLUG_PREFIX, PlannedPost, plan

BATCH_SIZE = 1000
COMMENT_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class Counts:
    posts: int = 0
    comments: int = 0
    references: int = 0
    taggings: int = 0


class NotOnlyDemoData(Exception):
    """The database holds posts someone wrote: demo data would be mixed in with them."""


def replace_demo_data(n_posts: int, n_comments: int, seed: int, *, force: bool = False) -> Counts:
    """Replace the demo data with the plan for these arguments, all or nothing. Refuses
    (NotOnlyDemoData) when other people's posts are there, unless ``force``."""
    planned = plan(n_posts, n_comments, seed)
    with post_writes() as writes:
        if not force:
            check_only_demo_data()
        check_free_slugs(planned)
        author = demo_user()
        remove(author)
        counts = write(planned, author, writes)
    return counts


def demo_user():
    """The demo data's author: no password anyone can use, no access to the admin."""
    user, created = get_user_model().objects.get_or_create(
        username=DEMO_USERNAME,
        defaults={"first_name": "Demo", "last_name": "data", "is_staff": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def other_posts() -> models.QuerySet[Post]:
    """Posts not written by the demo user."""
    return Post.objects.exclude(author__username=DEMO_USERNAME)


def check_only_demo_data() -> None:
    count = other_posts().count()
    if count:
        example = other_posts().order_by("published_at", "pk").first()
        raise NotOnlyDemoData(
            f"The database holds {count} post{'s' if count != 1 else ''} not written by "
            f"{DEMO_USERNAME} (the oldest: “{example.display_title}”, by "
            f"{example.author.get_username()}). Demo data would be mixed in with them; "
            "run again with --force to add it alongside."
        )


def remove(author) -> None:
    """Delete the demo user's posts with their comments, references, taggings and
    search documents (tags stay).

    In single statements that send no signals: deleting through the ORM would load
    every row and, for each, send the signals that re-render, re-index and invalidate
    the page cache (tens of thousands of times); the caller invalidates once instead.
    The tables are emptied children first, as the cascade would."""
    posts = Post.objects.filter(author=author)
    post_keys = posts.order_by().annotate(key=Cast("pk", models.CharField())).values("key")
    comment_ids = BaseComment._base_manager.filter(
        content_type=ContentType.objects.get_for_model(Post), object_pk__in=post_keys
    ).values("pk")
    # Flags are rare and may have dependents of their own: the ORM's way.
    CommentFlag.objects.filter(comment__in=comment_ids).delete()
    for model in (Comment, XtdComment, BaseComment):
        _delete_in_one_statement(model._base_manager.filter(pk__in=comment_ids))
    for relation in Post._meta.related_objects:
        dependents = relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__in": posts.values("pk")}
        )
        if relation.related_model._meta.related_objects:
            dependents.delete()  # rows of their own to cascade to: the ORM's way
        else:
            _delete_in_one_statement(dependents)
    _delete_in_one_statement(posts)


def _delete_in_one_statement(queryset: models.QuerySet) -> None:
    """DELETE the queryset's rows in one statement, with no signals and no cascade."""
    model = queryset.model
    quote = connection.ops.quote_name
    ids_sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(model._meta.db_table)} "  # nosec B608 # quoted names from _meta; values are parameters
            f"WHERE {quote(model._meta.pk.column)} IN ({ids_sql})",
            params,
        )


def check_free_slugs(planned: Iterable[PlannedPost]) -> None:
    taken = set(other_posts().filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True))
    clashes = sorted(taken.intersection(p.slug for p in planned))
    if clashes:
        raise NotOnlyDemoData(
            f"Posts not written by {DEMO_USERNAME} already use the demo addresses "
            f"{', '.join(clashes[:5])}; rename them first."
        )


def write(planned: Sequence[PlannedPost], author, writes: PostWrites) -> Counts:
    """Insert the plan in bulk, in the caller's write scope, which renders, indexes and
    announces the posts when it closes."""
    posts = [
        Post(
            title=p.title,
            slug=p.slug,
            author=author,
            body=p.body,
            status=p.status,
            published_at=p.published_at,
            allow_comments=True,
            call_for_answers=p.call_for_answers,
        )
        for p in planned
    ]
    Post.objects.bulk_create(posts, batch_size=BATCH_SIZE)
    # auto_now stamped the clock; an edit date no later than publication is a fixed one.
    # (The base manager: the write path announces the whole write once.)
    Post._base_manager.filter(author=author).update(updated_at=F("published_at"))

    references = [
        Reference(post=post, number=r.number, citation=r.citation, url=r.url)
        for post, p in zip(posts, planned, strict=True)
        for r in p.references
    ]
    Reference.objects.bulk_create(references, batch_size=BATCH_SIZE)

    tag_posts({post.pk: p.tags for post, p in zip(posts, planned, strict=True)})

    writes.add_many(posts)
    comments = _write_comments(posts, planned)
    taggings = sum(len(p.tags) for p in planned)
    return Counts(len(posts), comments, len(references), taggings)


def _write_comments(posts: Sequence[Post], planned: Sequence[PlannedPost]) -> int:
    """The comments of every post: the library's base rows in bulk (whose ids come
    back), then the two tables below them with the thread columns the library would
    have computed one save at a time."""
    site = Site.objects.get_current()
    content_type = ContentType.objects.get_for_model(Post)
    total, in_batch = 0, 0
    batch: list[tuple[Post, PlannedPost]] = []
    for post, p in zip(posts, planned, strict=True):
        batch.append((post, p))
        total += len(p.comments)
        in_batch += len(p.comments)
        # In batches, so memory stays bounded whatever the number of comments.
        if in_batch >= COMMENT_BATCH_SIZE:
            _write_comment_batch(batch, site, content_type)
            batch, in_batch = [], 0
    if batch:
        _write_comment_batch(batch, site, content_type)
    return total


def _write_comment_batch(
    batch: Sequence[tuple[Post, PlannedPost]], site: Site, content_type: ContentType
) -> None:
    comments: list[NewComment] = []
    places: list[Place] = []
    for post, p in batch:
        offset = len(comments)
        places.extend(
            place.shifted(offset) for place in thread_places([c.parent for c in p.comments])
        )
        comments.extend(
            NewComment(
                post_pk=post.pk,
                user_name=c.user_name,
                user_email=c.user_email,
                comment=c.text,
                submit_date=c.submit_date,
                is_public=c.is_public,
                is_removed=c.is_removed,
                is_highlighted=c.is_highlighted,
            )
            for c in p.comments
        )
    insert_comments(comments, places, site=site, content_type=content_type)
