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

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.sites.shortcuts import get_current_site
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django_comments.signals import comment_was_posted, comment_will_be_posted
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
from ..people import display_name
from . import links, publishing, usedlinks
from .forms import CommentForm
from .publishing import CommentDiscarded, sent_before
from .ratelimit import allow_comment
from .rendering import render_comment_text

CLOSED = "Comments are closed on this post, so yours was not posted."
BLOCKED = "Comments from this e-mail address or website are not accepted here."


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
        # Signed-in readers comment as themselves, whatever the form says; staff by the
        # name their posts are signed with, never their login name.
        name = display_name(user) if user.is_staff else user.get_full_name()
        data.update({"name": name or user.get_username(),
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
    if not moderated(comment, request):
        return refused(request, BLOCKED, status=403, post=post, text=text)
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


def moderated(comment: TmpXtdComment, request: HttpRequest) -> bool:
    """The moderator's decision on a comment about to be published (or e-mailed for
    confirmation), by the rules of this moment: False when it is refused (a
    blocklisted address or website, comments closed); otherwise ``comment.is_public``
    says whether it is held for approval."""
    comment.is_public = True
    responses = comment_will_be_posted.send(sender=TmpXtdComment, comment=comment, request=request)
    return not any(response is False for _, response in responses)


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


def expired_confirmation(request: HttpRequest, key: str, pending: TmpXtdComment) -> HttpResponse:
    """A confirmation link past its age publishes nothing. The reader gets their text
    back to post again: the link carries it for anyone holding the link to read, so
    showing it reveals nothing more, and its signature shows that this site wrote it."""
    if (answer := already_confirmed(request, key, pending)) is not None:
        return answer
    return refused(
        request,
        f"This confirmation link has expired (links work for {links.describe_max_age()}), "
        "so your comment was not published. Please post it again: your text is below.",
        status=410,
        post=Post.objects.published().filter(pk=pending.object_pk).first(),
        text=pending.comment,
    )


def already_confirmed(
    request: HttpRequest, key: str, pending: TmpXtdComment
) -> HttpResponse | None:
    """The page for a link that has published its comment, or None when it has not.

    Used: recorded by publish_comment (usedlinks); or, for a link from before the
    record was kept, the comment it carries is there (sent_before: the same sending,
    removed or not, or the same words sent again). The page links to the comment when
    readers can see it, and otherwise says nothing of whether it is still there."""
    record = usedlinks.used(key)
    if record is not None:
        return used_link(request, pending, Comment.objects.filter(pk=record.comment_pk).first())
    earlier = sent_before(pending)
    if earlier is None:
        return None
    if earlier.is_visible:
        # A second sending of a comment readers see (a double click e-mails two links):
        # on to it, as the form does.
        return redirect(earlier)
    return used_link(request, pending, None)


def used_link(
    request: HttpRequest, pending: TmpXtdComment, comment: Comment | None
) -> HttpResponse:
    """The used link's page: on to ``comment`` only while readers can see it."""
    post = Post.objects.published().filter(pk=pending.object_pk).first()
    shown = comment is not None and comment.is_visible and post is not None
    context = {"comment": comment if shown else None, "post": post}
    return render(request, "blog/comment_already_confirmed.html", context)


def confirmation_not_saved(request: HttpRequest, key: str) -> HttpResponse:
    """confirm's page when the database failed: the text the link carries."""
    try:
        pending = links.read_confirmation(key)
    except links.ExpiredLink as expired:
        pending = expired.value
    except links.BadLink:
        pending = TmpXtdComment()
    return refused(request, NOT_CONFIRMED, status=503, text=pending.comment or "")


# The link in the e-mail shows a page; only its button (a POST) publishes. Mail systems
# that open every link in a message to check it must not publish the comment on their
# own. Never cached: the page carries the reader's CSRF token.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@csrf_protect
@keeps_text_on_database_fault(confirmation_not_saved, NOT_CONFIRMED)
def confirm(request: HttpRequest, key: str) -> HttpResponse:
    """An anonymous reader's e-mailed link: a page with the comment and a button that
    publishes (or holds) it. The link publishes its comment once, by the rules of the
    moment the button is pressed (closing, the rate limit, the blocklist, the hold
    rules); followed again it says that it was used."""
    try:
        pending = links.read_confirmation(key)
    except links.ExpiredLink as expired:
        return expired_confirmation(request, key, expired.value)
    except links.BadLink:
        return refused(
            request,
            "This confirmation link is not valid: it may have been cut short when it was "
            "copied, or the post has been withdrawn. Please copy the whole link from the "
            "e-mail.",
            status=400,
        )
    if (answer := already_confirmed(request, key, pending)) is not None:
        return answer
    post = Post.objects.published().filter(pk=pending.object_pk).first()
    if post is None:
        return refused(request, "The post you commented on is no longer on the site.",
                       status=404, text=pending.comment)  # fmt: skip
    if not post.comments_open:
        return refused(request, CLOSED, status=403, post=post, text=pending.comment)
    if request.method != "POST":
        return render(request, "blog/comment_confirm.html", {"comment": pending, "key": key})
    return publish_confirmed(request, key, pending, post)


def publish_confirmed(
    request: HttpRequest, key: str, pending: TmpXtdComment, post: Post
) -> HttpResponse:
    """The button on the confirmation page: the checks of the comment form, again, by
    the rules of now, then publish_comment."""
    if not allow_comment(request):
        return refused(
            request,
            "You have posted several comments in the last minute, so this one was not "
            "published yet. Please wait a minute, then open the link in the e-mail again.",
            status=429, post=post, text=pending.comment,
        )  # fmt: skip
    if not moderated(pending, request):
        return refused(request, BLOCKED, status=403, post=post, text=pending.comment)
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
        comment = publishing.publish_comment(pending, request, link=key)
    except usedlinks.LinkAlreadyUsed as used:
        # Pressed twice at once: the other press published it.
        record = used.record
        return used_link(
            request, pending, record and Comment.objects.filter(pk=record.comment_pk).first()
        )
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


NOTHING_POSTED = "Nothing was posted."


@bounded_comment_id
def sent(request: HttpRequest) -> HttpResponse:
    """The page after posting: check your e-mail (``c`` is the library's signed
    "post" value), on to the comment (a visible one), or "awaiting approval" (a held
    one, for its signed-in author only).

    Not the library's view: with ``X-Requested-With: XMLHttpRequest`` it rendered its
    own comment template, with the author's e-mail address and its gravatar hash, for
    any id anyone typed; and it answered for held comments to anyone. Here a held or
    removed comment someone else wrote, a forged value and an id never used all get
    the same 404 page, whatever the request's headers."""
    c = request.GET.get("c", "")
    if c.isdigit():
        comment = Comment.objects.for_posts().filter(pk=parse_id(c)).first()
        if comment is not None and comment.is_visible:
            return redirect(comment)
        if comment is not None and not comment.is_removed and is_own(request, comment):
            return render(request, "django_comments_xtd/moderated.html", {"comment": comment})
        raise Http404(NOTHING_POSTED)
    target = signed_target(c)
    if target is None:
        raise Http404(NOTHING_POSTED)
    return render(request, "django_comments_xtd/posted.html", {"target": target})


def is_own(request: HttpRequest, comment: Comment) -> bool:
    user = request.user
    return user.is_authenticated and comment.user_id == user.pk


def signed_target(value: str) -> Post | None:
    """The published post named by a TmpXtdComment's signed key
    (``signing.dumps("blog.post:<pk>")``, made by the library when it redirects an
    anonymous reader here), or None."""
    try:
        label, _, pk = signing.loads(value).partition(":")
    except (signing.BadSignature, AttributeError):
        return None
    pk = parse_id(pk)
    if label != "blog.post" or pk is None:
        return None
    return Post.objects.published().filter(pk=pk).first()


def moderators_only(view: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """For the library's "approved" and "deleted" pages (``?c=<id>``), which follow a
    moderator's action: they linked to any comment, held or removed, for anyone who
    typed its id. Now they are for moderators, like the actions themselves."""
    return bounded_comment_id(
        login_required(
            permission_required("django_comments.can_moderate", raise_exception=True)(view)
        )
    )


def sent_response(request: HttpRequest, comment: Comment) -> HttpResponse:
    if comment.is_visible:
        return redirect(comment)
    return render(request, "django_comments_xtd/moderated.html", {"comment": comment})


def one_click_unsubscribe(request: HttpRequest) -> bool:
    """Whether the request is an RFC 8058 one-click unsubscription: what a mail program
    posts to the address in a follow-up e-mail's List-Unsubscribe header."""
    return request.method == "POST" and request.POST.get("List-Unsubscribe") == "One-Click"


def muting(request: HttpRequest, key: str) -> HttpResponse:
    """The mute link's page (GET: a button, unless nothing is left to stop) and its
    button (POST)."""
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
    followed = Comment.objects.for_post(post).filter(user_email=muted.user_email, followup=True)
    if request.method != "POST" and followed.exists():
        return render(request, "blog/comment_mute.html", {"post": post, "key": key})
    if request.method == "POST":
        comment_thread_muted.send(sender=Comment, comment=muted, request=request)
        followed.update(followup=False)
    return render(request, "django_comments_xtd/muted.html", {"content_object": post})


muting_from_the_page = csrf_protect(muting)


# Like the confirmation link: the page has the button, the POST stops the e-mails. A
# mail program's one-click unsubscription comes with no CSRF cookie (it is not a
# browser), so that one form is exempt; the signed key, which only the e-mail carries,
# is what authorises a mute, whoever sends it. Every other POST is CSRF-checked.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def mute(request: HttpRequest, key: str) -> HttpResponse:
    """Stop follow-up e-mails for one reader on one post (the link in each of them, and
    their List-Unsubscribe header). Following the link again says the same thing."""
    if one_click_unsubscribe(request):
        return muting(request, key)
    return muting_from_the_page(request, key)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: a comment refused for a missing or stale security
    cookie says so and keeps the text, and so does the button of a confirmation or
    mute link's page; so do the follow-by-e-mail form and its confirmation button
    (blog.following.views.csrf_refused); any other form gets Django's page."""
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
    match = request.resolver_match
    if match is not None and match.url_name in ("comments-xtd-confirm", "comments-xtd-mute"):
        # The button of an e-mailed link's page, sent without the cookie that page set.
        return refused(
            request,
            "Your browser did not send this site's security cookie with the button (it may "
            "be blocking cookies, or the page was open a long time). Open the link in the "
            "e-mail again, then press the button.",
            status=403,
            text=links.confirmation_text(match.kwargs.get("key", ""))
            if match.url_name == "comments-xtd-confirm"
            else "",
        )
    if match is not None and match.view_name in ("blog:follow", "blog:follow-confirm"):
        # The follow form, or a confirmation link's button (blog.following).
        from ..following.views import csrf_refused

        return csrf_refused(request)
    return django_csrf_failure(request, reason)
