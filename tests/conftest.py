import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """The comment rate limit counts in the cache: each test starts from nothing."""
    cache.clear()
    yield
    cache.clear()
