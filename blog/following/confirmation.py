"""The e-mail that asks a reader to confirm a following, and the words that say what a
following is, wherever it is described (that e-mail, the pages its links open, the
admin)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from .. import outbox
from ..discussion.plaintext import one_line
from ..durations import in_words
from ..models import Follower, OutgoingMail
from ..sites import absolute_url
from .links import CONFIRM_MAX_AGE, confirm_url


def what_is_followed(follower: Follower) -> str:
    """ "every new post", "new posts tagged “Ofsted”"."""
    if follower.tag_id is None:
        return "every new post"
    return f"new posts tagged “{one_line(follower.tag.name)}”"


def how_often(follower: Follower) -> str:
    if follower.frequency == Follower.Frequency.WEEKLY:
        return "in a weekly digest"
    return "each one as it is published"


def describe(follower: Follower) -> str:
    """What the following is, in a phrase: "new posts tagged “Ofsted”, in a weekly
    digest"."""
    return f"{what_is_followed(follower)}, {how_often(follower)}"


def link_lifetime() -> str:
    return in_words(datetime.timedelta(seconds=CONFIRM_MAX_AGE))


def subject(follower: Follower) -> str:
    """In the style of the comments' e-mails (blog.discussion.mail.subject): what it
    is about, then the blog's name. On one line: a header cannot hold a line break."""
    if follower.tag_id is None:
        what = "Confirm you want new posts by e-mail"
    else:
        what = f"Confirm you want posts tagged ‘{follower.tag.name}’ by e-mail"
    return one_line(f"{what} – {settings.SITE_NAME}")


def send_confirmation(follower: Follower) -> None:
    """Queue the e-mail with the link that starts ``follower``'s following (in the
    caller's transaction: the row and its e-mail are written together, or neither)."""
    context = {
        "site_name": settings.SITE_NAME,
        "site_url": absolute_url(reverse("blog:post-index")),
        "what": what_is_followed(follower),
        "how": how_often(follower),
        "confirm_url": confirm_url(follower),
        "lifetime": link_lifetime(),
        "privacy_url": absolute_url(reverse("blog:privacy")) + "#following",
    }
    body = render_to_string("blog/email/follow_confirm.txt", context)
    outbox.send(
        EmailMessage(subject(follower), body, to=[follower.email]),
        kind=OutgoingMail.Kind.FOLLOW_CONFIRMATION,
    )
