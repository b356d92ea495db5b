"""Small builders for test data; real rows in the real (test) database."""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone

from blog.models import Post, Reference
from blog.writing import save_post

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
    post = Post(
        title=title,
        body=body,
        author=author or make_user(),
        published_at=published_at or timezone.now() - datetime.timedelta(hours=1),
        status=status,
        **fields,
    )
    save_post(
        post,
        references=[Reference(number=n, citation=c) for n, c in (references or {}).items()],
        tags=tags,
    )
    post.refresh_from_db()
    return post


def london(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=timezone.get_default_timezone())


def admin_post_form(
    author,
    *,
    references: tuple[tuple[int, str, str], ...] = ((1, "A source", "https://example.org/source"),),
    **fields: str,
) -> dict[str, str]:
    """What the admin's Add post page sends: the post's fields, then its references'
    inline formset, then ``fields`` over either."""
    data = {
        "title": "A post",
        "body": "Text [1].",
        "tags": "safe",
        "status": "published",
        "published_at_0": "20/04/2014",
        "published_at_1": "09:30:00",
        "author": str(author.pk),
        "slug": "",
        "allow_comments": "on",
        "call_for_answers": "",
        "references-TOTAL_FORMS": str(len(references)),
        "references-INITIAL_FORMS": "0",
        "references-MIN_NUM_FORMS": "0",
        "references-MAX_NUM_FORMS": "1000",
    }
    for i, (number, citation, url) in enumerate(references):
        data.update({f"references-{i}-number": str(number),
                     f"references-{i}-citation": citation, f"references-{i}-url": url})  # fmt: skip
    data.update(fields)
    return data
