import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from blog.faults import cachefaults


@pytest.fixture(autouse=True)
def _empty_cache():
    """The comment rate limit counts in the cache: each test starts from nothing, with
    a cache that no earlier test's failure keeps unasked."""
    cachefaults.reset()
    cache.clear()
    yield
    cache.clear()
    cachefaults.reset()


@pytest.fixture(scope="session", autouse=True)
def _record_services(record_testsuite_property) -> None:
    """Name the database and cache this run really used in the JUnit file, so that CI's
    summary (.ci/summary.py) shows which leg ran on what."""
    record_testsuite_property("database", connection.vendor)
    record_testsuite_property("cache", settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1])
