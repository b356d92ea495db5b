"""How people on the staff are named to readers: one function, for every byline.

A byline is the author's display name: the one set on their author profile (Writing ›
Authors), else their first and last name, as set in the admin (People › Users › the
user › Personal info). An account without either is named
settings.BLOG_BYLINE_FALLBACK ("The editors"), never by its login name: a login name
is half of what signs in to the admin, and readers have no use for it.

The profile is read through ``user.author_profile``: callers showing many bylines
fetch it with ``select_related("author__author_profile")`` (or ``"author_profile"`` on
users), so that naming an author costs no query of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist

if TYPE_CHECKING:
    from .models import Author


def profile(user: AbstractBaseUser) -> Author | None:
    """``user``'s author profile, or None: from what select_related fetched (a missing
    profile too), else one query."""
    try:
        return user.author_profile
    except ObjectDoesNotExist:
        return None


def display_name(user: AbstractBaseUser) -> str:
    """``user``'s name for readers: their profile's display name, else their full name,
    else the site's fallback."""
    author = profile(user)
    chosen = " ".join(author.display_name.split()) if author is not None else ""
    full_name = " ".join(user.get_full_name().split())  # no stray or doubled spaces
    return chosen or full_name or settings.BLOG_BYLINE_FALLBACK


def author_url(user: AbstractBaseUser) -> str:
    """The address of ``user``'s author page, or "" when they have no profile (a row
    written past the write path, not yet given one)."""
    author = profile(user)
    return author.get_absolute_url() if author is not None else ""
