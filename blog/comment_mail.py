"""The e-mails readers get about comments: the request to confirm one, and follow-ups.

django-comments-xtd sends both with a signed pickle in the link (see blog.links for
why we do not). These are its senders with our links instead: the same steps, the
same subjects, templates and context. ``use_our_links`` (from ``BlogConfig.ready``)
puts our receiver in the place of the library's.
"""

from __future__ import annotations

from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest
from django.template import loader
from django.urls import reverse
from django.utils.translation import gettext
from django_comments.signals import comment_was_posted
from django_comments_xtd import views as xtd_views
from django_comments_xtd.conf import settings as xtd_settings
from django_comments_xtd.models import TmpXtdComment
from django_comments_xtd.signals import confirmation_received
from django_comments_xtd.utils import send_mail

from . import links
from .models import Comment


def on_comment_was_posted(
    sender, comment: TmpXtdComment, request: HttpRequest, **kwargs
) -> None:  # fmt: skip
    """comment_was_posted: an anonymous reader's comment is e-mailed to them for
    confirmation; a signed-in reader's is saved at once (and its followers told)."""
    user = comment.user
    if xtd_settings.COMMENTS_XTD_CONFIRM_EMAIL and not (user and user.is_authenticated):
        # The library's sender takes the key as bytes, as its own signer returns it.
        key = links.confirmation_token(comment).encode("ascii")
        xtd_views.send_email_confirmation_request(comment, key, get_current_site(request))
        return
    duplicate = Comment.objects.filter(
        user_name=comment.user_name,
        user_email=comment.user_email,
        followup=comment.followup,
        submit_date=comment.submit_date,
    ).exists()
    if duplicate:
        return
    saved = Comment(**comment)
    saved.save()
    comment.xtd_comment = saved
    confirmation_received.send(sender=TmpXtdComment, comment=comment, request=request)
    if comment.is_public:
        notify_comment_followers(saved)


def notify_comment_followers(comment: Comment) -> None:
    """E-mail everyone following ``comment``'s discussion (its author aside) that it
    has been published, each with a link to stop these e-mails."""
    followers = (
        Comment.objects.filter(
            content_type=comment.content_type_id,
            object_pk=comment.object_pk,
            is_public=True,
            # A comment a moderator removed follows nothing: its author may still
            # follow through another of theirs.
            is_removed=False,
            followup=True,
        )
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
        context = {
            "user_name": name,
            "comment": comment,
            "content_object": comment.content_object,
            "mute_url": reverse("comments-xtd-mute", args=[links.mute_token(pk)]),
            "site": comment.site,
        }
        send_mail(
            gettext("new comment posted"),
            text_template.render(context),
            xtd_settings.COMMENTS_XTD_FROM_EMAIL,
            [email],
            html=html_template.render(context) if html_template else None,
        )


def use_our_links() -> None:
    """Put ``on_comment_was_posted`` in the place of the library's receiver, which
    would e-mail a pickle link (its module connects it on import)."""
    if not comment_was_posted.disconnect(xtd_views.on_comment_was_posted, sender=TmpXtdComment):
        raise RuntimeError("django-comments-xtd's comment_was_posted receiver was not found.")
    comment_was_posted.connect(
        on_comment_was_posted, sender=TmpXtdComment, dispatch_uid="blog-comment-was-posted"
    )
