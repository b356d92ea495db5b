"""Who may comment, which comments wait for a moderator, and who is told.

django-comments-xtd calls the moderator twice: ``allow``/``moderate`` when a comment
is posted (before any confirmation e-mail), and ``email`` once the comment is saved
(after confirmation for anonymous readers, at once for signed-in ones).
"""

from __future__ import annotations

import datetime
import re
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_comments_xtd.models import BlackListedDomain
from django_comments_xtd.moderation import SpamModerator

from .. import outbox
from ..models import Comment, OutgoingMail, Post
from ..sites import absolute_url
from .hosts import BadHost, host_of_email, host_of_url, normalise_host
from .mail import notify_comment_followers, subject
from .plaintext import one_line, quoted
from .rendering import count_links, render_comment_text


def hold_reasons(text: str, post: Post) -> list[str]:
    """Why a comment with ``text`` on ``post`` must wait for a moderator (empty: it
    need not). The rules are settings, read each time."""
    reasons = []
    max_links = settings.BLOG_COMMENTS_MAX_LINKS
    if count_links(render_comment_text(text)) > max_links:
        reasons.append(f"it has more than {max_links} links")
    words = held_words(text)
    if words:
        reasons.append("it contains " + ", ".join(f"“{word}”" for word in words))
    days = settings.BLOG_COMMENTS_MODERATE_AFTER_DAYS
    if days is not None and timezone.now() - post.published_at >= datetime.timedelta(days=days):
        reasons.append(f"the post is more than {days} days old")
    return reasons


def held_words(text: str) -> list[str]:
    words = settings.BLOG_COMMENTS_HOLD_WORDS
    if not words:
        return []
    pattern = r"\b(" + "|".join(re.escape(word) for word in words) + r")\b"
    return sorted({m.lower() for m in re.findall(pattern, text, flags=re.IGNORECASE)})


# Blocklist entries already written as hosts are compared (hosts.py).
NORMAL_ENTRY = r"^[a-z0-9-]+(\.[a-z0-9-]+)*$"


def is_blocklisted(email: str, url: str) -> bool:
    """Whether the commenter's e-mail or website is on a blocklisted domain (a domain
    blocks its subdomains too). The list is kept in the admin. Hosts are compared as
    hosts.normalise_host writes them, so that no other spelling of a domain passes;
    one that cannot be normalised is refused."""
    hosts = []
    try:
        if email:
            hosts.append(host_of_email(email))
        if url:
            hosts.append(host_of_url(url))
    except BadHost:
        return True
    candidates = set()
    for host in hosts:
        labels = host.split(".")
        candidates.update(".".join(labels[i:]) for i in range(len(labels)))
    if not candidates:
        return False
    entries = BlackListedDomain.objects
    if entries.filter(domain__in=candidates).exists():
        return True
    # Entries written otherwise (before the admin normalised them, or by other means).
    for entry in entries.exclude(domain__regex=NORMAL_ENTRY).values_list("domain", flat=True):
        try:
            if normalise_host(entry.strip().lstrip("*.")) in candidates:
                return True
        except BadHost:
            continue
    return False


class PostModerator(SpamModerator):
    """The moderation of comments on posts (registered in ``BlogConfig.ready``)."""

    def allow(self, comment, content_object: Post, request: HttpRequest) -> bool:
        return content_object.comments_open and not is_blocklisted(
            comment.user_email or "", comment.user_url or ""
        )

    def moderate(self, comment, content_object: Post, request: HttpRequest) -> bool:
        # Staff's own comments are not held. The commenter, not whoever sent the
        # request: a confirmation link may be followed by anyone it reaches.
        user = comment.user
        held = user is None or not user.is_staff
        reasons = hold_reasons(comment.comment, content_object) if held else []
        # Kept with the comment when it is saved (publishing.publish_comment saves the
        # moderated comment in the same request, an anonymous reader's at confirmation):
        # the moderators see why it waits by the rules that held it, not by today's.
        comment.hold_reasons = reasons
        return bool(reasons)

    def email(self, comment, content_object: Post, request: HttpRequest) -> None:
        # ``comment`` is the library's unsaved stand-in; the saved row rides on it.
        saved = getattr(comment, "xtd_comment", None)
        if saved is not None:
            transaction.on_commit(partial(notify_managers, saved.pk))


def notify_managers(comment_pk: int) -> None:
    """E-mail the moderators (settings.MANAGERS) about a new comment, with links to
    approve or remove it: the site's lines first, then the reader's, quoted."""
    recipients = [address for _, address in settings.MANAGERS]
    comment = Comment.objects.filter(pk=comment_pk).first()
    if not recipients or comment is None:
        return
    post = comment.content_object
    held = not comment.is_public
    context = {
        "comment": comment,
        "post": post,
        "held": held,
        "reasons": reasons_held(comment) if held else [],
        "comment_url": absolute_url(comment.get_absolute_url()),
        "admin_url": absolute_url(reverse("admin:blog_comment_change", args=[comment.pk])),
        "approve_url": absolute_url(reverse("comments-approve", args=[comment.pk])),
        "remove_url": absolute_url(reverse("comments-delete", args=[comment.pk])),
        "queue_url": absolute_url(reverse("admin:blog_comment_changelist") + "?moderation=held"),
        "username": one_line(comment.user.get_username()) if comment.user else "",
        # Everything the reader wrote, after the site's own lines, each line quoted:
        # nothing of theirs can read as one of the links above (plaintext.py).
        "as_written": quoted(
            f"Name: {one_line(comment.user_name)}\n"
            f"Website: {one_line(comment.user_url) or '(none)'}\n\n"
            f"{comment.comment}"
        ),
    }
    state = "awaiting approval" if held else "published"
    body = render_to_string("blog/email/new_comment.txt", context)
    outbox.send(
        EmailMessage(subject(f"New comment ({state}) on", post), body, to=recipients),
        kind=OutgoingMail.Kind.MODERATOR_NOTICE,
    )


def reasons_held(comment: Comment) -> list[str]:
    """Why ``comment`` waits for a moderator: the reasons kept when it was held; for a
    comment held before they were kept, the rules of now (which may differ)."""
    return comment.hold_reasons or hold_reasons(comment.comment, comment.content_object)


def remember_visibility(sender, instance: Comment, raw: bool = False, **kwargs) -> None:
    """pre_save: note whether readers could see the comment before this save."""
    instance._was_visible = (
        None
        if raw or instance.pk is None
        else Comment.objects.visible().filter(pk=instance.pk).exists()
    )


def notify_when_published(sender, instance: Comment, created: bool, raw: bool = False,
                          **kwargs) -> None:  # fmt: skip
    """post_save: a held comment that a moderator publishes (admin action, change form
    or the approve page) sends the follow-up e-mails its publication would have sent."""
    if raw or created or getattr(instance, "_was_visible", None) is not False:
        return
    if instance.is_visible:
        transaction.on_commit(partial(notify_comment_followers, instance))
