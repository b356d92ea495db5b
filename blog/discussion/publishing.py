"""Publishing a reader's comment, one way whoever the reader is.

A signed-in reader's comment is published as it is posted (``on_comment_was_posted``);
an anonymous reader's only when they follow the link e-mailed to them
(``views.confirm``). Both go through ``publish_comment``, so that both are saved,
moderated, announced and shown the same way, and both know the same comment sent
twice by the same rule (``sent_before``).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django_comments.signals import comment_was_posted
from django_comments_xtd import views as xtd_views
from django_comments_xtd.conf import settings as xtd_settings
from django_comments_xtd.models import TmpXtdComment
from django_comments_xtd.signals import confirmation_received

from ..models import Comment, CommentQuerySet, Post
from ..pagecache import invalidate
from . import usedlinks
from .mail import notify_comment_followers, send_confirmation_request

# How long an identical comment from the same reader counts as the same one sent again.
RESENT_WITHIN = datetime.timedelta(minutes=15)


class CommentDiscarded(Exception):
    """A receiver of django-comments-xtd's confirmation_received refused the comment
    (as the library's own confirmation view allows): nothing was saved."""


def sent_before(comment: TmpXtdComment) -> Comment | None:
    """The saved comment that ``comment`` (not saved yet) is a second sending of, or
    None. It is, when a comment by the same reader on the same post is either

    - the same sending: the same submission time, to the microsecond, which only a
      confirmation link followed again (or twice at once) carries. Whatever became of
      that comment counts: removed, it must not come back; edited by a moderator, or
      made a top-level comment because the one it answered went, it is still the one;
    - or the same words sent again: the same text answering the same comment, sent
      within RESENT_WITHIN of it, and not removed. A double click, the form sent again
      after a 503 whose transaction had in fact committed as the connection died, or
      the two links an anonymous double click e-mails.
    """
    when = comment.submit_date
    if comment.parent_id:
        # A top-level comment is its own parent, in django-comments-xtd's rows: the
        # comment answered is not a copy of its answer.
        same_place = Q(parent_id=comment.parent_id) & ~Q(pk=comment.parent_id)
    else:
        same_place = Q(parent_id=F("pk"))
    same_words = Q(
        same_place,
        comment=comment.comment,
        submit_date__range=(when - RESENT_WITHIN, when + RESENT_WITHIN),
        is_removed=False,
    )
    same_sending = Q(submit_date=when)
    candidates = _by_the_same_reader(comment).filter(object_pk=comment.object_pk)
    return (
        candidates.filter(same_sending).first()
        or candidates.filter(same_words).order_by("submit_date", "pk").first()
    )


def _by_the_same_reader(comment: TmpXtdComment) -> CommentQuerySet:
    # A signed-in reader is their account, whatever its name; anyone else is the name
    # and address they gave.
    user = comment.user
    if user is not None and user.is_authenticated:
        return Comment.objects.filter(user=user)
    return Comment.objects.filter(
        user__isnull=True, user_name=comment.user_name, user_email=comment.user_email
    )


def publish_comment(
    pending: TmpXtdComment, request: HttpRequest, *, link: str | None = None
) -> Comment:
    """Save a reader's comment, accepted and moderated when it was posted (the
    moderator's ``allow`` and ``moderate``: ``pending.is_public`` says whether it waits
    for approval), and do all that follows; return it, or the comment it is a second
    sending of (``sent_before``), which is left as it is. ``pending.xtd_comment`` is
    set to the one returned, as the library's flow expects.

    1. The post's row is locked, so that the same comment sent twice at once (a link
       followed in two tabs, a double click) is published once: each looks for the
       other under the lock.
    2. A confirmation link (``link``, its key) already used raises
       usedlinks.LinkAlreadyUsed, whatever became of its comment. A second sending:
       nothing more is done.
    3. The comment is saved (blog.models.Comment places it in its thread), and the
       link it came by recorded as used (usedlinks.record), in the same transaction.
    4. confirmation_received: the moderator's ``email``, which sends the moderators'
       notice once the transaction commits. A receiver answering False discards the
       comment: nothing is saved, and CommentDiscarded is raised.
    5. The page cache's token is renewed, in the same transaction.
    6. Once saved, a comment readers see is e-mailed to the discussion's followers (a
       held one is when a moderator publishes it: moderation.notify_when_published).

    Raises MaxThreadLevelExceededException or ObjectDoesNotExist when the comment
    answered went meanwhile.
    """
    with transaction.atomic():
        list(Post.objects.select_for_update().filter(pk=pending.object_pk).values_list("pk"))
        if link is not None and (used := usedlinks.used(link)) is not None:
            raise usedlinks.LinkAlreadyUsed(used)
        earlier = sent_before(pending)
        if earlier is not None:
            pending.xtd_comment = earlier
            return earlier
        comment = Comment(**pending)
        comment.save()
        if link is not None:
            usedlinks.record(link, comment.pk)
        pending.xtd_comment = comment
        responses = confirmation_received.send(
            sender=TmpXtdComment, comment=pending, request=request
        )
        if any(response is False for _, response in responses):
            pending.xtd_comment = None
            raise CommentDiscarded
        invalidate()
    if comment.is_visible:
        notify_comment_followers(comment)
    return comment


def on_comment_was_posted(
    sender, comment: TmpXtdComment, request: HttpRequest, **kwargs
) -> None:  # fmt: skip
    """comment_was_posted: an anonymous reader's comment is e-mailed to them for
    confirmation (nothing is saved until they follow the link); a signed-in reader's
    is published at once."""
    user = comment.user
    if xtd_settings.COMMENTS_XTD_CONFIRM_EMAIL and not (user and user.is_authenticated):
        send_confirmation_request(comment, request)
        return
    publish_comment(comment, request)


def use_our_receiver() -> None:
    """Put ``on_comment_was_posted`` in the place of the library's receiver (its module
    connects it on import), which e-mails a pickle link (see .links) and saves comments
    its own way."""
    if not comment_was_posted.disconnect(xtd_views.on_comment_was_posted, sender=TmpXtdComment):
        raise RuntimeError("django-comments-xtd's comment_was_posted receiver was not found.")
    comment_was_posted.connect(
        on_comment_was_posted, sender=TmpXtdComment, dispatch_uid="blog-comment-was-posted"
    )
