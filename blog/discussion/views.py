"""Posting, confirming, replying to and muting comments.

This is django-comments-xtd's flow (its form, signals, moderator, confirmation and
follow-up e-mails) with two differences: every refusal is a page that says what
happened, with the reader's text kept where they can fix it; and nothing is written
unless the comment is accepted (the library's own view saves a reply before finding
that its parent does not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib.sites.shortcuts import get_current_site
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from django_comments.signals import comment_was_posted, comment_will_be_posted
from django_comments_xtd import views as xtd_views
from django_comments_xtd.conf import settings as xtd_settings
from django_comments_xtd.models import (
    MaxThreadLevelExceededException,
    TmpXtdComment,
    max_thread_level_for_content_type,
)
from django_comments_xtd.signals import comment_thread_muted

from ..clientaddress import client_address
from ..converters import parse_id
from ..faults.dbfaults import NOT_CONFIRMED, NOT_SAVED, keeps_text_on_database_fault
from ..models import Comment, Post
from . import links, publishing
from .forms import CommentForm
from .publishing import CommentDiscarded, sent_before
from .ratelimit import allow_comment
from .rendering import render_comment_text

CLOSED = "Comments are closed on this post, so yours was not posted."


def refused(
    request: HttpRequest,
    message: str,
    *,
    status: int,
    post: Post | None = None,
    text: str = "",
) -> HttpResponse:
    """A page saying why a comment was not taken, with the reader's text to copy."""
    context = {"message": message, "post": post, "text": text}
    return render(request, "blog/comment_refused.html", context, status=status)


def form_page(
    request: HttpRequest,
    post: Post,
    form: CommentForm,
    *,
    status: int,
    problems: list[str] = (),
) -> HttpResponse:
    """The form again, with the reader's text, what went wrong, and fresh security
    fields (so that a form that expired, or failed its check, can simply be sent again)."""
    preview = None
    if status == 200:
        preview = render_comment_text(form.cleaned_data["comment"])
    else:
        problems = [*problems, *form.problems()]
        form = renewed(form, post, request)
    context = {"post": post, "form": form, "problems": problems, "preview": preview}
    return render(request, "blog/comment_form_page.html", context, status=status)


def renewed(form: CommentForm, post: Post, request: HttpRequest) -> CommentForm:
    data = form.data.copy()
    data.update(form.generate_security_data())
    data["honeypot"] = ""
    if "reply_to" in form.errors:
        data["reply_to"] = "0"
    fresh = CommentForm(post, data=data, user=request.user)
    fresh.is_valid()  # so that the fields' own errors show beside them
    return fresh


def target_post(data) -> Post | None:
    """The published post a comment form was made for, or None."""
    pk = parse_id(data.get("object_pk"))
    if data.get("content_type") != "blog.post" or pk is None:
        return None
    return Post.objects.published().filter(pk=pk).first()


def comment_not_saved(request: HttpRequest) -> HttpResponse:
    """post_comment's page when the database failed: the form again, with the text."""
    post = target_post(request.POST)
    if post is None:
        return refused(request, NOT_SAVED, status=503, text=request.POST.get("comment", ""))
    form = CommentForm(post, data=request.POST, user=request.user)
    return form_page(request, post, form, status=503, problems=[NOT_SAVED])


@csrf_protect
@require_POST
@keeps_text_on_database_fault(comment_not_saved, NOT_SAVED)
def post_comment(request: HttpRequest) -> HttpResponse:
    data = request.POST.copy()
    user = request.user
    if user.is_authenticated:
        # Signed-in readers comment as themselves, whatever the form says.
        data.update({"name": user.get_full_name() or user.get_username(),
                     "email": user.email, "url": ""})  # fmt: skip
    post = target_post(data)
    text = data.get("comment", "")
    if post is None:
        return refused(
            request,
            "This comment form does not belong to a post on this site (the post may have "
            "been withdrawn), so the comment was not posted.",
            status=400,
            text=text,
        )
    if not post.comments_open:
        return refused(request, CLOSED, status=403, post=post, text=text)

    form = CommentForm(post, data=data, user=user)
    if not form.is_valid():
        return form_page(request, post, form, status=400)
    if "preview" in data:
        return form_page(request, post, form, status=200)
    comment = form.get_comment_object(site_id=get_current_site(request).pk)
    comment.ip_address = client_address(request)
    if user.is_authenticated:
        comment.user = user
        # Sent again: not a new comment, and not counted against the rate limit.
        # (Readers who are not signed in save nothing here: their confirmation link is
        # what publishes, and it asks the same.)
        if (earlier := sent_before(comment)) is not None:
            return redirect(f"{reverse('comments-xtd-sent')}?{urlencode({'c': earlier.pk})}")
    if not allow_comment(request):
        return form_page(
            request, post, form, status=429,
            problems=["You have posted several comments in the last minute. "
                      "Please wait a minute, then send this one again."],
        )  # fmt: skip
    # The moderator decides here: refuse (blocklisted), or hold for approval.
    responses = comment_will_be_posted.send(sender=TmpXtdComment, comment=comment, request=request)
    if any(response is False for _, response in responses):
        return refused(
            request,
            "Comments from this e-mail address or website are not accepted here.",
            status=403, post=post, text=text,
        )  # fmt: skip
    try:
        with transaction.atomic():
            # Signed-in: published now (publishing.publish_comment). Anonymous: only a
            # confirmation e-mail is sent.
            comment_was_posted.send(sender=TmpXtdComment, comment=comment, request=request)
    except (MaxThreadLevelExceededException, ObjectDoesNotExist):
        # The comment being answered went while the reader was writing.
        form.add_error("reply_to", "The comment you are answering has just been removed.")
        return form_page(request, post, form, status=409)
    except CommentDiscarded:
        return discarded(request)
    return redirect(f"{reverse('comments-xtd-sent')}?{urlencode({'c': comment._get_pk_val()})}")


def reply(request: HttpRequest, cid: int) -> HttpResponse:
    """The page to answer one comment: what works without JavaScript."""
    parent = Comment.objects.visible().for_posts().filter(pk=cid).first()
    post = parent and Post.objects.published().filter(pk=parent.object_pk).first()
    if post is None:
        raise Http404("No such comment.")
    if not post.comments_open:
        return refused(request, "Comments are closed on this post.", status=403, post=post)
    if parent.level >= max_thread_level_for_content_type(parent.content_type):
        return refused(
            request,
            "Replies cannot nest any deeper than this comment. You can answer an earlier "
            "comment in the thread, or write a new comment.",
            status=403,
            post=post,
        )
    form = CommentForm(post, comment=parent, user=request.user)
    context = {"post": post, "parent": parent, "form": form}
    return render(request, "blog/comment_reply.html", context)


def expired_confirmation(request: HttpRequest, pending: TmpXtdComment) -> HttpResponse:
    """A confirmation link past its age publishes nothing, but still leads to the
    comment it published in time. The reader gets their text back to post again: the
    link carries it for anyone holding the link to read, so showing it reveals nothing
    more, and its signature shows that this site wrote it."""
    existing = sent_before(pending)
    if existing is not None:
        return sent_response(request, existing)
    return refused(
        request,
        f"This confirmation link has expired (links work for {links.describe_max_age()}), "
        "so your comment was not published. Please post it again: your text is below.",
        status=410,
        post=Post.objects.published().filter(pk=pending.object_pk).first(),
        text=pending.comment,
    )


def confirmation_not_saved(request: HttpRequest, key: str) -> HttpResponse:
    """confirm's page when the database failed: the text the link carries."""
    try:
        pending = links.read_confirmation(key)
    except links.ExpiredLink as expired:
        pending = expired.value
    except links.BadLink:
        pending = TmpXtdComment()
    return refused(request, NOT_CONFIRMED, status=503, text=pending.comment or "")


@keeps_text_on_database_fault(confirmation_not_saved, NOT_CONFIRMED)
def confirm(request: HttpRequest, key: str) -> HttpResponse:
    """Publish (or hold) an anonymous reader's comment when they follow the e-mailed
    link. Following it again leads to the comment."""
    try:
        pending = links.read_confirmation(key)
    except links.ExpiredLink as expired:
        return expired_confirmation(request, expired.value)
    except links.BadLink:
        return refused(
            request,
            "This confirmation link is not valid: it may have been cut short when it was "
            "copied, or the post has been withdrawn. Please copy the whole link from the "
            "e-mail.",
            status=400,
        )
    existing = sent_before(pending)
    if existing is not None:
        return sent_response(request, existing)
    post = Post.objects.published().filter(pk=pending.object_pk).first()
    if post is None:
        return refused(request, "The post you commented on is no longer on the site.",
                       status=404, text=pending.comment)  # fmt: skip
    if not post.comments_open:
        return refused(request, CLOSED, status=403, post=post, text=pending.comment)
    if pending.parent_id and not (
        Comment.objects.visible()
        .for_post(post)
        .filter(pk=pending.parent_id, level__lt=xtd_settings.COMMENTS_XTD_MAX_THREAD_LEVEL)
        .exists()
    ):
        # The comment answered was removed meanwhile: keep the reader's words, as a
        # comment of their own.
        pending.parent_id = 0
    try:
        comment = publishing.publish_comment(pending, request)
    except CommentDiscarded:
        return discarded(request)
    except (MaxThreadLevelExceededException, ObjectDoesNotExist):
        return refused(request, "The comment you answered was removed.", status=409,
                       post=post, text=pending.comment)  # fmt: skip
    return sent_response(request, comment)


def discarded(request: HttpRequest) -> HttpResponse:
    """A receiver of confirmation_received refused the comment (publishing.publish_comment):
    the library's page for it."""
    return render(request, "django_comments_xtd/discarded.html", status=403)


def bounded_comment_id(view: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """For the library's "done" pages, which look up ``?c=<id>`` and fail with a 500
    (an OverflowError on SQLite) when the number is too large for the database."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        c = request.GET.get("c", "")
        if c.isdigit() and parse_id(c) is None:
            raise Http404("No such comment.")
        return view(request)

    return wrapper


@bounded_comment_id
def sent(request: HttpRequest) -> HttpResponse:
    """The library's page after posting (check your e-mail, awaiting approval, or on to
    the comment). An address typed by hand, with no or a forged ``c``, is a 404 page
    rather than the library's bare 400."""
    c = request.GET.get("c", "")
    if not c.isdigit():
        try:
            signing.loads(c)
        except signing.BadSignature:
            raise Http404("Nothing was posted.") from None
    return xtd_views.sent(request)


def sent_response(request: HttpRequest, comment: Comment) -> HttpResponse:
    if comment.is_visible:
        return redirect(comment)
    return render(request, "django_comments_xtd/moderated.html", {"comment": comment})


def mute(request: HttpRequest, key: str) -> HttpResponse:
    """Stop follow-up e-mails for one reader on one post (the link in each of them).
    Following the link again says the same thing."""
    try:
        muted = Comment.objects.filter(pk=links.read_mute(key)).first()
    except links.ExpiredLink as expired:
        # Each follow-up e-mail has a fresh link, so the next one will stop them.
        muted = Comment.objects.filter(pk=expired.value).first()
        return refused(
            request,
            f"This link to stop e-mails has expired (links work for "
            f"{links.describe_max_age()}). The next e-mail about this discussion will "
            "have a new one.",
            status=410,
            post=muted and Post.objects.published().filter(pk=muted.object_pk).first(),
        )
    except links.BadLink:
        return refused(
            request,
            "This link to stop e-mails is not valid: it may have been cut short when it "
            "was copied. Please copy the whole link from the e-mail.",
            status=400,
        )
    # The comment the link names gives the post and the address to stop.
    post = muted and Post.objects.filter(pk=muted.object_pk).first()
    if post is None:
        raise Http404("The comment this link was sent for, or its post, has gone.")
    comment_thread_muted.send(sender=Comment, comment=muted, request=request)
    Comment.objects.for_post(post).filter(user_email=muted.user_email, followup=True).update(
        followup=False
    )
    return render(request, "django_comments_xtd/muted.html", {"content_object": post})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: a comment refused for a missing or stale security
    cookie says so and keeps the text; any other form gets Django's page."""
    if request.path == reverse("comments-post-comment"):
        return refused(
            request,
            "Your browser did not send this site's security cookie with the comment (it "
            "may be blocking cookies, or the page was open a long time). Copy your text, "
            "reload the post and send it again.",
            status=403,
            post=target_post(request.POST),
            text=request.POST.get("comment", ""),
        )
    return django_csrf_failure(request, reason)
