"""A post's discussion as the post page shows it: its published comments fetched in
one query and threaded in Python, whatever their number."""

from __future__ import annotations

from dataclasses import dataclass, field

from django_comments_xtd.conf import settings as xtd_settings

from .forms import CommentForm
from .models import Comment, Post


@dataclass
class Discussion:
    threads: list[Comment]  # top-level comments, each with ``replies`` (recursively)
    count: int
    answers: list[Comment]  # highlighted answers to the post's call for answers
    form: CommentForm | None  # None when comments are closed
    open: bool = field(init=False)

    def __post_init__(self) -> None:
        self.open = self.form is not None


def thread(comments: list[Comment], max_level: int) -> list[Comment]:
    """Nest ``comments`` (ordered by thread and position, as the library stores them)
    under their parents; return the top-level ones. Each gets ``replies`` and
    ``can_reply`` (whether it is above the deepest level)."""
    by_pk: dict[int, Comment] = {}
    roots: list[Comment] = []
    for comment in comments:
        comment.replies = []
        comment.can_reply = comment.level < max_level
        by_pk[comment.pk] = comment
        parent = by_pk.get(comment.parent_id) if comment.parent_id != comment.pk else None
        (parent.replies if parent else roots).append(comment)
    return roots


def load_discussion(post: Post, user) -> Discussion:
    comments = list(Comment.objects.published().for_post(post).select_related(None))
    return Discussion(
        threads=thread(comments, xtd_settings.COMMENTS_XTD_MAX_THREAD_LEVEL),
        count=len(comments),
        answers=[c for c in comments if c.is_highlighted] if post.call_for_answers else [],
        form=CommentForm(post, user=user) if post.comments_open else None,
    )
