"""A per-IP limit on comment posts, counted in Django's cache (local memory by
default, Redis in production, where every worker shares it).

A few lines over the cache API were preferred to django-ratelimit, which asks for a
shared cache with atomic increments (its checks flag the local-memory cache that
development and tests use) and does much more than the one counter per address per
period needed here.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be unless a
    # trusted proxy sets it, and this site is served without one.
    return request.META.get("REMOTE_ADDR") or "unknown"


def allow_comment(request: HttpRequest) -> bool:
    """Count one comment from the request's address; False once the address has posted
    more than ``BLOG_COMMENTS_RATE_LIMIT`` in the current ``BLOG_COMMENTS_RATE_PERIOD``."""
    limit = settings.BLOG_COMMENTS_RATE_LIMIT
    if not limit:
        return True
    period = settings.BLOG_COMMENTS_RATE_PERIOD
    window = int(time.time() // period)
    key = f"comment-rate:{client_ip(request)}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=period + 1)
        count = 1
    return count <= limit
