"""Helpers for the tests of following by e-mail (blog.following): send the form as a
reader's browser would, and follow the links of the e-mails it causes."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from blog.following import links
from blog.models import Follower

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/follow/confirm/[^/\s]+/)")
FOLLOW = reverse("blog:follow")
SENT = reverse("blog:follow-sent")


def follow(client: Client, email: str = "ann@example.org", *, tag: str = "",
           frequency: str = "post", **fields):  # fmt: skip
    """What any copy of the form sends (the footer's: no tag; a tag page's: its slug)."""
    data = {"email": email, "frequency": frequency, "honeypot": "", **fields}
    if tag:
        data["tag"] = tag
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(FOLLOW, data)


def confirmations() -> list:
    """The confirmation e-mails sent so far."""
    return [m for m in mail.outbox if CONFIRM_LINK.search(m.body)]


def confirm_path(message=None) -> str:
    message = message or confirmations()[-1]
    return CONFIRM_LINK.search(message.body).group(1)


def unsubscribe_path(follower: Follower) -> str:
    return reverse("blog:unfollow", args=[links.unsubscribe_token(follower)])


def press(client: Client, path: str, data: dict | None = None):
    """The button on the page an e-mailed link opens: only it does anything."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, data or {})


def follow_and_confirm(client: Client, email: str = "ann@example.org", **kwargs) -> Follower:
    response = follow(client, email, **kwargs)
    assert response.status_code == 303, response.content[:2000]
    press(client, confirm_path())
    return Follower.objects.get(pk=links.follower_for_confirm(confirm_path().split("/")[-2]).pk)
