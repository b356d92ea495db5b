"""The e-mails readers get about comments: the request to confirm one, and follow-ups.

django-comments-xtd sends both with a signed pickle in the link (see .links for why we
do not). These are its senders with our links instead: the same steps, templates and
context; follow-ups also carry List-Unsubscribe headers. Both are queued in the outbox
(blog.outbox) and sent by the worker, not in the reader's request. The subjects are ours
(``subject``): the library's ("comment confirmation request", "new comment posted")
name neither the blog nor the post, so a reader cannot tell what the e-mail is about.
What decides which is sent, and when, is .publishing.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest
from django.template import loader
from django.urls import reverse
from django_comments_xtd.conf import settings as xtd_settings
from django_comments_xtd.models import TmpXtdComment

from .. import outbox
from ..models import Comment, OutgoingMail, Post
from ..sites import absolute_url
from . import links
from .plaintext import one_line


def subject(what: str, post: Post) -> str:
    """An e-mail's subject: what it is about, the post by its title (an untitled post
    by its opening words, as readers see it listed), and the blog's name, e.g.
    "Confirm your comment on ‘Learning Organisations’ – Child Protection Social Work".
    On one line: a header cannot hold a line break."""
    return one_line(f"{what} ‘{post.display_title}’ – {settings.SITE_NAME}")


def send_confirmation_request(comment: TmpXtdComment, request: HttpRequest) -> None:
    """E-mail an anonymous reader the link that publishes ``comment``, not yet saved.
    As django-comments-xtd's send_email_confirmation_request, with our link and subject."""
    context = {
        "comment": comment,
        "confirmation_url": reverse(
            "comments-xtd-confirm", args=[links.confirmation_token(comment)]
        ),
        "contact": xtd_settings.COMMENTS_XTD_CONTACT_EMAIL,
        "site": get_current_site(request),
    }
    text = loader.render_to_string("django_comments_xtd/email_confirmation_request.txt", context)
    html = (
        loader.render_to_string("django_comments_xtd/email_confirmation_request.html", context)
        if xtd_settings.COMMENTS_XTD_SEND_HTML_EMAIL
        else None
    )
    message = EmailMultiAlternatives(
        subject("Confirm your comment on", comment.content_object),
        text,
        xtd_settings.COMMENTS_XTD_FROM_EMAIL,
        [comment.user_email],
    )
    if html:
        message.attach_alternative(html, "text/html")
    outbox.send(message, kind=OutgoingMail.Kind.COMMENT_CONFIRMATION)


def notify_comment_followers(comment: Comment) -> None:
    """E-mail everyone following ``comment``'s discussion (its author aside) that it
    has been published, each with a link to stop these e-mails."""
    followers = (
        # A comment readers do not see follows nothing (one a moderator removed, say):
        # its author may still follow through another of theirs.
        Comment.objects.visible()
        .filter(content_type=comment.content_type_id, object_pk=comment.object_pk, followup=True)
        .exclude(user_email=comment.user_email)
        .order_by("pk")
        .values_list("user_email", "user_name", "pk")
    )
    # One e-mail an address, named and muted by its latest comment that asked for them.
    latest = {email: (name, pk) for email, name, pk in followers}
    if not latest:
        return
    text_template = loader.get_template("django_comments_xtd/email_followup_comment.txt")
    html_template = (
        loader.get_template("django_comments_xtd/email_followup_comment.html")
        if xtd_settings.COMMENTS_XTD_SEND_HTML_EMAIL
        else None
    )
    messages = []
    for email, (name, pk) in latest.items():
        mute_url = reverse("comments-xtd-mute", args=[links.mute_token(pk)])
        context = {
            "user_name": name,
            "comment": comment,
            "content_object": comment.content_object,
            "mute_url": mute_url,
            "site": comment.site,
        }
        message = EmailMultiAlternatives(
            subject("New comment on", comment.content_object),
            text_template.render(context),
            xtd_settings.COMMENTS_XTD_FROM_EMAIL,
            [email],
            headers=outbox.unsubscribe_headers(absolute_url(mute_url)),
        )
        if html_template:
            message.attach_alternative(html_template.render(context), "text/html")
        messages.append(message)
    # Sent by the worker (blog.outbox): a discussion with many followers costs the
    # reader whose comment it is one insert, whatever the mail server is doing.
    outbox.send_many(messages, kind=OutgoingMail.Kind.COMMENT_FOLLOWUP)
