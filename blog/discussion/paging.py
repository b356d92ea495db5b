"""A post's discussion as the post page shows it, a page at a time: its threads (a
top-level comment with all its replies), oldest first, settings.BLOG_COMMENTS_PER_PAGE
of them to a page. A page's comments are fetched in one query and threaded in Python,
whatever the number of comments on the post or on the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.core.paginator import InvalidPage, Page, Paginator
from django.db.models import CharField, Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce
from django.http import Http404
from django_comments_xtd.conf import settings as xtd_settings

from ..models import Comment, Post, discussion_page_query
from .forms import CommentForm


class CommentPageNotFound(Http404):
    """A page of the discussion the post does not have (?page=0, past the last, "abc")."""


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: the gap in a long run of pages
    url: str = ""
    current: bool = False


@dataclass
class Discussion:
    post: Post
    comments: QuerySet[Comment]  # this page's, fetched only when shown (see .threads)
    count: int  # the post's visible comments, on every page
    form: CommentForm | None  # None when comments are closed
    page: Page  # of the post's thread ids
    post_url: str
    open: bool = field(init=False)
    page_query: str = field(init=False)  # what links to this page add to the post's URL
    page_links: list[PageLink] = field(init=False)
    previous_url: str = field(init=False)
    next_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.open = self.form is not None
        self.page_query = discussion_page_query(self.page.number)
        self.page_links = [
            PageLink(None)
            if number == Paginator.ELLIPSIS
            else PageLink(number, self.page_url(number), number == self.page.number)
            for number in self.page.paginator.get_elided_page_range(
                self.page.number, on_each_side=2, on_ends=1
            )
        ]
        self.previous_url = (
            self.page_url(self.page.previous_page_number()) if self.page.has_previous() else ""
        )
        self.next_url = self.page_url(self.page.next_page_number()) if self.page.has_next() else ""

    @cached_property
    def threads(self) -> list[Comment]:
        """This page's top-level comments, each with ``replies``. Read only when the
        rendered list is not in the cache (rendering.comment_list)."""
        return thread(list(self.comments), xtd_settings.COMMENTS_XTD_MAX_THREAD_LEVEL)

    @cached_property
    def answers(self) -> list[Comment]:
        """Highlighted answers (on any page), each with ``link``."""
        return highlighted_answers(self.post, self.page, self.comments)

    @property
    def page_address(self) -> str:
        """This page's address, for links to its comments."""
        return self.post_url + self.page_query

    def page_url(self, number: int) -> str:
        return f"{self.post_url}{discussion_page_query(number)}#comments"


def with_thread_counts(posts: QuerySet[Post]) -> QuerySet[Post]:
    """Each post with ``comment_thread_count``, the number of threads readers see (what
    the discussion is paged by), counted in the same query."""
    threads = (
        Comment.objects.visible()
        .for_posts()
        .filter(object_pk=Cast(OuterRef("pk"), CharField()))
        .order_by()
        .values("object_pk")
        .annotate(n=Count("thread_id", distinct=True))
        .values("n")
    )
    return posts.annotate(comment_thread_count=Coalesce(Subquery(threads), 0))


def thread_pages(post: Post) -> Paginator:
    """The post's discussion in pages of thread ids. A thread is in it while any of its
    comments is visible: a reply whose top-level comment was removed keeps its
    thread's place."""
    thread_ids = (
        Comment.objects.visible()
        .for_post(post)
        .order_by("thread_id")
        .values_list("thread_id", flat=True)
        .distinct()
    )
    paginator = Paginator(thread_ids, settings.BLOG_COMMENTS_PER_PAGE)
    count = getattr(post, "comment_thread_count", None)
    if count is not None:
        # Counted by the post's own query (with_thread_counts): no query of its own.
        paginator.count = count
    return paginator


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


def highlighted_answers(
    post: Post, page: Page, comments: QuerySet[Comment] | list[Comment]
) -> list[Comment]:
    """The post's highlighted answers, each with ``link`` to its place on whichever
    page shows it: one query when the discussion has several pages, none otherwise."""
    if not post.call_for_answers:
        return []
    if page.has_other_pages():
        answers = list(
            Comment.objects.visible()
            .for_post(post)
            .filter(is_highlighted=True)
            .with_thread_ranks()
            .select_related(None)
        )
    else:
        answers = [comment for comment in comments if comment.is_highlighted]
    for answer in answers:
        number = answer.comment_page if page.has_other_pages() else page.number
        elsewhere = number != page.number
        where = post.get_absolute_url() + discussion_page_query(number) if elsewhere else ""
        answer.link = f"{where}#{answer.anchor}"
    return answers


def load_discussion(post: Post, user, page_number: str | int | None = None) -> Discussion:
    """Page ``page_number`` (the first when empty) of the post's discussion; raises
    CommentPageNotFound for a page it does not have."""
    try:
        page = thread_pages(post).page(page_number or 1)
    except InvalidPage as error:
        raise CommentPageNotFound(str(error)) from None
    comments = (
        Comment.objects.visible()
        .for_post(post)
        .filter(thread_id__in=page.object_list)  # a subquery: the page's thread ids
        .select_related(None)
        # The Staff badge goes by the comment's account, read in the same query (a
        # join); the Author badge needs only the comment's user id.
        .annotate(user_is_staff=F("user__is_staff"))
    )
    count = getattr(post, "comment_count", None)  # PostQuerySet.with_comment_counts
    if count is None:
        count = Comment.objects.visible().for_post(post).count()
    return Discussion(
        post=post,
        comments=comments,
        count=count,
        form=CommentForm(post, user=user) if post.comments_open else None,
        page=page,
        post_url=post.get_absolute_url(),
    )
