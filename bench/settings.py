"""The production settings, with the benchmark's one extra route (bench/urls.py)."""

from config.settings.prod import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
