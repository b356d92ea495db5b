"""The cache is a help, never a requirement: a call to it that fails is logged and
answered as a miss by its callers (the page cache, the comment rate limit).

After a failure the cache is left alone for ``BLOG_CACHE_RETRY_SECONDS``, in this
process. A stopped Redis would otherwise be asked, and fail, several times in every
request, each failure logged with its traceback (4,250 warnings in one `make
reliability` run's 75 seconds without Redis; 28 with this); one that hangs would cost
its timeout at every call. One warning is logged per failure, then one per retry that
fails.

Not django-redis's IGNORE_EXCEPTIONS: it covers its own Redis backend only (not the
local-memory default, nor Django's RedisCache used here), asks a stopped Redis again at
every call, logs in its own logger rather than the caller's, and answers a failure as a
miss, where the rate limit has to know that it could not count.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache


class CacheDown(Exception):
    """The cache failed just now, or did a moment ago and is being left alone."""


_failed_at: float | None = None


def call(method: str, *args: Any, what: str, log: logging.Logger) -> Any:
    """``cache.<method>(*args)``, or CacheDown. A failure is logged to ``log`` as
    "<what> <method> failed…", in the caller's own logger, where its operators look."""
    global _failed_at
    if _failed_at is not None and time.monotonic() < _failed_at + retry_seconds():
        raise CacheDown
    try:
        return getattr(cache, method)(*args)
    except ValueError:
        raise  # incr() of a key that has expired: the cache answered
    except Exception as error:  # each backend raises its own errors
        _failed_at = time.monotonic()
        log.warning(
            "%s %s failed; serving from the database, and asking the cache again in %s s.",
            what, method, retry_seconds(), exc_info=True,
        )  # fmt: skip
        raise CacheDown from error


def retry_seconds() -> float:
    return settings.BLOG_CACHE_RETRY_SECONDS  # read at each call: tests change it


def reset() -> None:
    """Ask the cache again at once (tests, after a failure they caused)."""
    global _failed_at
    _failed_at = None
