"""Staff sign-in throttling: what django-axes needs from the site.

django-axes counts failed sign-ins in the database (every worker sees the same count,
whatever the cache) and pauses a (user name, address) pair after its failure limit, for
``AXES_COOLOFF_TIME``: see the AXES_* settings in config/settings/base.py.

The pause is per pair, so that failures from elsewhere never count against the real
user at their own address: nobody can lock the staff out from afar (behind a proxy too,
since the address is the reader's, blog.clientaddress). A guessing run spread over many
addresses is slowed per account instead: once the account has failed more than
``BLOG_SIGNIN_ACCOUNT_ALARM`` times from other addresses within the cool-off, each
address is allowed ``BLOG_SIGNIN_FAILURE_LIMIT_UNDER_ATTACK`` failures rather than
``BLOG_SIGNIN_FAILURE_LIMIT``. No address is paused but for failures of its own; the
run only shortens every address's allowance while it lasts (so a user with two recent
typos at their address is paused there when the alarm goes up). A cap per account,
whoever tries, would slow the run more, and is exactly what would let anyone lock the
staff out.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.db.models.functions import Least
from django.http import HttpRequest
from django.utils import timezone

from .clientaddress import client_address


def client_ip(request: HttpRequest) -> str | None:
    """The address failures are counted against (AXES_CLIENT_IP_CALLABLE): the reader's,
    as for the comment rate limit. None when there is none (a request made up in code,
    such as the test client's force_login)."""
    return client_address(request)


def failure_limit(request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
    """AXES_FAILURE_LIMIT: failures a (user name, address) pair may make before its pause;
    fewer while the account is being guessed at from elsewhere."""
    username = get_client_username(request, credentials)
    if username and failures_from_elsewhere(username, client_ip(request)) >= (
        settings.BLOG_SIGNIN_ACCOUNT_ALARM
    ):
        return settings.BLOG_SIGNIN_FAILURE_LIMIT_UNDER_ATTACK
    return settings.BLOG_SIGNIN_FAILURE_LIMIT


def failures_from_elsewhere(username: str, address: str | None) -> int:
    """Recent failures at ``username`` from addresses other than ``address``. Each address
    counts up to its own limit only: one address hammering on while paused is already
    stopped, and must not be what shortens everyone else's allowance."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
    if address is not None:
        attempts = attempts.exclude(ip_address=address)
    capped = Least("failures_since_start", settings.BLOG_SIGNIN_FAILURE_LIMIT)
    return attempts.aggregate(total=Sum(capped))["total"] or 0
