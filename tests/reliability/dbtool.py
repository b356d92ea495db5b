"""What the harness asks of the database, run in a process of its own with the
server's environment (settings, database): `python -m tests.reliability.dbtool setup`
before the load, `... dump` after it. Both print one JSON document.

A separate process because the harness may itself run inside the test suite, whose
Django is configured for the suite's own database.
"""

from __future__ import annotations

import datetime
import json
import sys
from importlib import import_module
from typing import Any

import django


def setup(readers: int, seed_threads: int) -> dict[str, Any]:
    """Signed-in readers (a user and a live session each) and a discussion to answer:
    ``seed_threads`` top-level comments on the newest post, so that its discussion has
    more than one page and a few "hot" comments that many readers answer at once."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from blog.models import Comment, Post

    posts = list(Post.objects.published().order_by("-published_at", "-pk"))
    hot = posts[0]
    user_model = get_user_model()
    # The session a sign-in would have made: the harness tests commenting, not the
    # admin's sign-in form (which only staff may use, and which django-axes guards).
    backend = (
        "django.contrib.auth.backends.ModelBackend"
        if "django.contrib.auth.backends.ModelBackend" in settings.AUTHENTICATION_BACKENDS
        else settings.AUTHENTICATION_BACKENDS[-1]
    )
    engine = import_module(settings.SESSION_ENGINE)
    sessions = []
    for n in range(readers):
        user, _ = user_model.objects.get_or_create(
            username=f"reliability-reader-{n:02d}",
            defaults={
                "email": f"reliability-reader-{n:02d}@example.org",
                "first_name": "Reader",
                "last_name": f"{n:02d}",
            },
        )
        session = engine.SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)

    post_type = ContentType.objects.get_for_model(Post)
    start = timezone.now() - datetime.timedelta(hours=1)
    seeded = []
    with transaction.atomic():
        for n in range(seed_threads):
            comment = Comment(
                content_type=post_type,
                object_pk=str(hot.pk),
                site_id=settings.SITE_ID,
                user_name=f"Seed {n:02d}",
                user_email=f"seed-{n:02d}@example.org",
                comment=f"A seeded comment, number {n}.",
                submit_date=start + datetime.timedelta(seconds=n),
                is_public=True,
            )
            comment.save()
            seeded.append({"id": comment.pk, "level": 0, "post": hot.pk})
    return {
        "posts": [{"pk": post.pk, "url": post.get_absolute_url()} for post in posts],
        "hot_post": hot.pk,
        "sessions": sessions,
        "seeded": seeded,
        "session_cookie": settings.SESSION_COOKIE_NAME,
    }


def dump() -> list[dict[str, Any]]:
    """Every comment's place in its thread and its text."""
    from blog.models import Comment

    fields = [
        "id",
        "thread_id",
        "parent_id",
        "level",
        "order",
        "object_pk",
        "comment",
        "user_email",
        "user_id",
        "is_public",
        "is_removed",
    ]
    return list(Comment.objects.order_by("pk").values(*fields))


def main(argv: list[str]) -> None:
    django.setup()
    if argv[0] == "setup":
        result = setup(int(argv[1]), int(argv[2]))
    elif argv[0] == "dump":
        result = dump()
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
