"""Helpers for the discussion tests: post the real form, as a reader's browser would,
and the base class whose two posts every discussion test module starts from."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client, TestCase, override_settings

from blog.discussion.forms import CommentForm
from blog.models import Comment, Post

from ..factories import make_post, make_user
from ..html import soup

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/comments/confirm/[^/\s]+/)")
MUTE_LINK = re.compile(r"https?://[^/\s]+(/comments/mute/[^/\s]+/)")
BOB = {"name": "Bob", "email": "bob@example.org"}  # a second reader


def form_data(post: Post, reply_to: int = 0, **fields) -> dict:
    """What the comment form on ``post``'s page sends (security fields included)."""
    data = {key: str(value) for key, value in CommentForm(post).generate_security_data().items()}
    data.update(
        name="Ann Reader",
        email="ann@example.org",
        url="",
        comment="I agree with this.",
        reply_to=str(reply_to),
        honeypot="",
    )
    data.update({key: str(value) for key, value in fields.items()})
    return data


def post_comment(client: Client, post: Post, reply_to: int = 0, **fields):
    # E-mails sent once the transaction commits are sent here too (TestCase never
    # commits).
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/comments/post/", form_data(post, reply_to, **fields))


def get(client: Client, path: str):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.get(path)


def press(client: Client, path: str):
    """The button on the page an e-mailed link opens (confirm a comment, stop
    e-mails): only it does anything."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path)


def confirmation_path(message=None) -> str:
    message = message or mail.outbox[-1]
    return CONFIRM_LINK.search(message.body).group(1)


def mute_path(message) -> str:
    return MUTE_LINK.search(message.body).group(1)


def comment_and_confirm(client: Client, post: Post, reply_to: int = 0, **fields) -> Comment:
    """An anonymous reader comments, opens the link e-mailed to them and presses its
    button."""
    response = post_comment(client, post, reply_to, **fields)
    assert response.status_code == 302, soup(response).get_text(" ")[:2000]
    press(client, confirmation_path())
    return Comment.objects.latest("submit_date", "pk")


def row_counts() -> tuple[int, ...]:
    """Rows in every table a comment writes to (ours, and the library's two parents)."""
    from django_comments.models import Comment as BaseComment
    from django_comments_xtd.models import XtdComment

    return (BaseComment.objects.count(), XtdComment.objects.count(), Comment.objects.count())


# A comment published by its e-mailed link counts twice against the rate limit (posted,
# then confirmed): tests comment more than an address may in a minute. The limit has
# tests of its own (test_bad_input.SpamDefenceTests, test_links.FollowTimeRulesTests).
@override_settings(BLOG_COMMENTS_RATE_LIMIT=100)
class DiscussionTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post(
            "Learning Organisations",
            "Is your organisation safe to learn in?",
            call_for_answers="Does your organisation learn from its mistakes?",
        )
        cls.other_post = make_post("Pressure of Work", "Caseloads.")

    def page(self, post: Post | None = None):
        response = self.client.get((post or self.post).get_absolute_url())
        self.assertEqual(response.status_code, 200)
        return soup(response)

    def signed_in_reader(self, username: str = "reader", **fields):
        user = make_user(
            username,
            first_name="Rita",
            last_name="Reader",
            email=f"{username}@example.org",
            **fields,
        )
        self.client.force_login(user)
        return user
