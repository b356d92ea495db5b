"""How people on the staff are named to readers: one function, for every byline.

A byline is the author's display name: their first and last name, as set in the admin
(People › Users › the user › Personal info). An account without either is named
settings.BLOG_BYLINE_FALLBACK ("The editors"), never by its login name: a login name
is half of what signs in to the admin, and readers have no use for it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser


def display_name(user: AbstractBaseUser) -> str:
    """``user``'s name for readers: their full name, else the site's fallback."""
    full_name = " ".join(user.get_full_name().split())  # no stray or doubled spaces
    return full_name or settings.BLOG_BYLINE_FALLBACK
