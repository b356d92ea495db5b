"""The e-mails readers get about comments: the request to confirm one, and follow-ups.

django-comments-xtd sends both with a signed pickle in the link (see .links for why we
do not). These are its senders with our links instead: the same steps, the same
subjects, templates and context; follow-ups also carry List-Unsubscribe headers. What
decides which is sent, and when, is .publishing.
"""

from __future__ import annotations

from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest
from django.template import loader
from django.urls import reverse
from django.utils.translation import gettext
from django_comments_xtd import views as xtd_views
from django_comments_xtd.conf import settings as xtd_settings
from django_comments_xtd.models import TmpXtdComment

from ..models import Comment
from ..sites import absolute_url
from . import links


def send_confirmation_request(comment: TmpXtdComment, request: HttpRequest) -> None:
    """E-mail an anonymous reader the link that publishes ``comment``, not yet saved."""
    # The library's sender takes the key as bytes, as its own signer returns it.
    key = links.confirmation_token(comment).encode("ascii")
    xtd_views.send_email_confirmation_request(comment, key, get_current_site(request))


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
            gettext("new comment posted"),
            text_template.render(context),
            xtd_settings.COMMENTS_XTD_FROM_EMAIL,
            [email],
            headers=unsubscribe_headers(mute_url),
        )
        if html_template:
            message.attach_alternative(html_template.render(context), "text/html")
        # As the library's sender, with COMMENTS_XTD_THREADED_EMAILS off (settings): in
        # the request, so that a failure is seen. Its sender takes no headers.
        message.send()


def unsubscribe_headers(mute_path: str) -> dict[str, str]:
    """The headers that let a mail program offer its own "unsubscribe" button
    (RFC 2369), which posts ``List-Unsubscribe=One-Click`` to the mute address without
    opening a page (RFC 8058; views.mute accepts it)."""
    return {
        "List-Unsubscribe": f"<{absolute_url(mute_path)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
