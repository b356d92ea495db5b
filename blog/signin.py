"""Staff sign-in throttling: what django-axes needs from the site.

django-axes counts failed sign-ins in the database (every worker sees the same count,
whatever the cache) and refuses a (user name, address) pair after ``AXES_FAILURE_LIMIT``
failures, for ``AXES_COOLOFF_TIME``: see the AXES_* settings in config/settings/base.py.
"""

from __future__ import annotations

from django.http import HttpRequest

from .discussion.ratelimit import client_ip as comment_client_ip


def client_ip(request: HttpRequest) -> str | None:
    """The address failures are counted against (AXES_CLIENT_IP_CALLABLE): REMOTE_ADDR,
    as for the comment rate limit. None when there is none (a request made up in code,
    such as the test client's force_login): axes keeps addresses in a
    GenericIPAddressField, an ``inet`` column on PostgreSQL, which would refuse the
    rate limit's "unknown"."""
    address = comment_client_ip(request)
    return None if address == "unknown" else address
