"""Small builders for test data; real rows in the real (test) database."""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone

from blog.models import Post, Reference

_counter = itertools.count(1)


def make_user(username: str | None = None, **fields):
    username = username or f"user{next(_counter)}"
    password = fields.pop("password", "a-long-test-password")
    user = get_user_model().objects.create_user(username=username, password=password, **fields)
    return user


def make_staff(username: str | None = None, **fields):
    return make_user(username, is_staff=True, is_superuser=True, **fields)


def make_post(
    title: str = "A post",
    body: str = "Some text.",
    *,
    author=None,
    published_at: datetime.datetime | None = None,
    status: str = Post.Status.PUBLISHED,
    tags: list[str] = (),
    references: dict[int, str] | None = None,
    **fields,
) -> Post:
    post = Post.objects.create(
        title=title,
        body=body,
        author=author or make_user(),
        published_at=published_at or timezone.now() - datetime.timedelta(hours=1),
        status=status,
        **fields,
    )
    if tags:
        post.tags.add(*tags)
    for number, citation in (references or {}).items():
        Reference.objects.create(post=post, number=number, citation=citation)
    post.refresh_from_db()
    return post


def london(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=timezone.get_default_timezone())
