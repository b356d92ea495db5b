"""The tests that start the server as `make serve` does need Debian's nginx in front of it
(`make test` installs it with apt-get, as it does Chromium)."""

from __future__ import annotations

import os

import pytest

from tools.nginx import NginxMissing, find_nginx


def require_nginx() -> str:
    """nginx's binary. Without one the test is skipped, saying why; in CI (CI=true),
    where the stack must be tested, it fails instead."""
    try:
        return find_nginx()
    except NginxMissing as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{error} CI runs these tests with the real nginx.", pytrace=False)
        pytest.skip(f"no nginx: {error}")
