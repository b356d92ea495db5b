"""The admin's first page, the desk: what needs an editor's attention, each with its
link. A fixed number of queries whatever the number of posts and comments."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, TypeVar

from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from .models import Comment, OutgoingMail, Post

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite

# How many of each the desk lists; the count says how many there are in all.
DESK_ROWS = 5
# The failed e-mail the desk counts: of the last week (the list keeps them all).
FAILED_SHOWN_FOR = datetime.timedelta(days=7)

M = TypeVar("M", bound=Model)


def first_and_count(queryset: QuerySet[M], n: int = DESK_ROWS) -> tuple[list[M], int]:
    """The first ``n`` rows and how many there are: one query when there are no more
    than ``n``, two otherwise."""
    rows = list(queryset[: n + 1])
    if len(rows) <= n:
        return rows, len(rows)
    return rows[:n], queryset.count()


def desk_context(request: HttpRequest, site: AdminSite) -> dict:
    """The desk's panels the user may see: comments awaiting approval and the latest
    published ones (with the comments' admin), drafts and scheduled posts (with the
    posts' admin). A panel a user has no permission for is left out."""
    context: dict = {}
    comments_admin = site._registry.get(Comment)
    if comments_admin is not None and comments_admin.has_view_or_change_permission(request):
        changelist = reverse("admin:blog_comment_changelist", current_app=site.name)
        comments = Comment.objects.for_posts().prefetch_related("content_object")
        held, held_count = first_and_count(comments.held().order_by("submit_date", "pk"))
        context["desk_comments"] = {
            "held": held,
            "held_count": held_count,
            "queue_url": f"{changelist}?moderation=held",
            "changelist_url": f"{changelist}?moderation=all",
            # Ranked in the same query: each links to its page of the discussion.
            "latest": list(
                comments.visible().with_thread_ranks().order_by("-submit_date", "-pk")[:DESK_ROWS]
            ),
        }
    posts_admin = site._registry.get(Post)
    if posts_admin is not None and posts_admin.has_view_or_change_permission(request):
        changelist = reverse("admin:blog_post_changelist", current_app=site.name)
        posts = Post.objects.select_related("author__author_profile")
        drafts, draft_count = first_and_count(posts.drafts().order_by("-updated_at", "-pk"))
        scheduled, scheduled_count = first_and_count(
            posts.scheduled().order_by("published_at", "pk")
        )
        context["desk_posts"] = {
            "drafts": drafts,
            "draft_count": draft_count,
            "drafts_url": f"{changelist}?visibility=draft",
            "scheduled": scheduled,
            "scheduled_count": scheduled_count,
            "scheduled_url": f"{changelist}?visibility=scheduled",
            "add_url": (
                reverse("admin:blog_post_add", current_app=site.name)
                if posts_admin.has_add_permission(request)
                else ""
            ),
        }
    mail_admin = site._registry.get(OutgoingMail)
    if mail_admin is not None and mail_admin.has_view_or_change_permission(request):
        context["desk_mail"] = mail_counts(site)
    return context


def mail_counts(site: AdminSite) -> dict:
    """E-mail waiting, failed in the last week and stuck (being sent for too long), in
    one query that reads only the rows not sent (the index on status)."""
    from .admin_mail import STUCK_AFTER

    now = timezone.now()
    Status = OutgoingMail.Status
    counts = OutgoingMail.objects.filter(
        status__in=[Status.QUEUED, Status.SENDING, Status.FAILED]
    ).aggregate(
        waiting=Count("pk", filter=Q(status=Status.QUEUED)),
        failed=Count("pk", filter=Q(status=Status.FAILED, created_at__gte=now - FAILED_SHOWN_FOR)),
        stuck=Count("pk", filter=Q(status=Status.SENDING, claimed_at__lt=now - STUCK_AFTER)),
    )
    changelist = reverse("admin:blog_outgoingmail_changelist", current_app=site.name)
    return {
        **counts,
        "waiting_url": f"{changelist}?status={Status.QUEUED}",
        "failed_url": f"{changelist}?status={Status.FAILED}",
        "stuck_url": f"{changelist}?stuck=yes",
        "changelist_url": changelist,
        "mailings_url": reverse("admin:blog_mailing_changelist", current_app=site.name),
    }
