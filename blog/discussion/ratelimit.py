"""A per-IP limit on comment posts, counted in Django's cache (local memory by
default, Redis in production, where every worker shares it).

A few lines over the cache API were preferred to django-ratelimit, which asks for a
shared cache with atomic increments (its checks flag the local-memory cache that
development and tests use) and does much more than the one counter per address per
period needed here.

When the cache fails (Redis stopped or unreachable) the limit lets the comment through
and logs a warning: failing closed would refuse every reader's comment for as long as
the cache is down, and comments keep their other defences (the honeypot, e-mail
confirmation for readers not signed in, the moderator's hold rules and blocklist).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from ..clientaddress import client_address
from ..faults import cachefaults

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    # The reader's address behind the proxies we trust (X-Forwarded-For from anyone else
    # is whatever they want it to be); requests without one share a count.
    return client_address(request) or "unknown"


def allow_comment(request: HttpRequest) -> bool:
    """Count one comment from the request's address; False once the address has posted
    more than ``BLOG_COMMENTS_RATE_LIMIT`` in the current ``BLOG_COMMENTS_RATE_PERIOD``."""
    return allow(
        request,
        "comment-rate",
        settings.BLOG_COMMENTS_RATE_LIMIT,
        settings.BLOG_COMMENTS_RATE_PERIOD,
        what="Comment rate limit",
    )


def allow(request: HttpRequest, name: str, limit: int, period: int, *, what: str) -> bool:
    """Count one ``name`` action from the request's address; False once the address has
    done more than ``limit`` in the current ``period`` (seconds). Each ``name`` has its
    own counter (comments, following by e-mail). A limit of 0 is no limit."""
    if not limit:
        return True
    window = int(time.time() // period)
    key = f"{name}:{client_ip(request)}:{window}"
    try:
        count = _count(key, period + 1, what)
    except cachefaults.CacheDown:
        logger.warning("%s not checked: the cache failed.", what)
        return True
    return count <= limit


def _count(key: str, timeout: int, what: str) -> int:
    def call(method: str, *args) -> Any:
        return cachefaults.call(method, *args, what=what, log=logger)

    call("add", key, 0, timeout)
    try:
        return call("incr", key)
    except ValueError:  # expired between add() and incr()
        call("set", key, 1, timeout)
        return 1
