"""What the page cache costs a request in queries, whichever cache the run has."""

from __future__ import annotations

from blog import pagecache


def token_queries() -> int:
    """The page cache's content token: one primary-key read from the database, or none
    when a cache every process shares (Redis: the PostgreSQL leg) keeps it beside the
    pages (blog.pagecache.token_in_cache)."""
    return 0 if pagecache.token_in_cache() else 1
