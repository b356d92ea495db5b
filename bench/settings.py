"""The production settings, with the benchmark's one extra route (bench/urls.py) and
the demo data it is measured on (tools.demo's `manage.py seed_demo`)."""

import os

from config.settings.prod import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "tools.demo"]  # noqa: F405
# Each run's keys of its own in a shared cache (bench.data.RUN_CACHE_PREFIX): Redis's
# database 3 may hold an earlier run's token and pages, for another database.
CACHES["default"]["KEY_PREFIX"] = os.environ.get("BENCH_CACHE_PREFIX", "")  # noqa: F405
