"""The production settings, with the benchmark's one extra route (bench/urls.py) and
the demo data it is measured on (tools.demo's `manage.py seed_demo`)."""

from config.settings.prod import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "tools.demo"]  # noqa: F405
