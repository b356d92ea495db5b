"""The test suite: SQLite by default (DATABASE_URL may point it at PostgreSQL)."""

import os

from .base import *  # noqa: F403

SECRET_KEY = "test-secret-key-not-for-production"  # nosec B105 # tests only
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# `manage.py seed_demo`, for the tests that need data at scale.
INSTALLED_APPS = [*INSTALLED_APPS, "tools.demo"]  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run where they are enqueued, so that mail.outbox holds the e-mail a request
# asked for; the tests of the worker itself choose the database backend
# (tests/mail). A TASKS_URL in the environment wins (the RQ test).
if "TASKS_URL" not in os.environ:
    TASKS, RQ_QUEUES = tasks_from_url("immediate://")  # noqa: F405

# The manifest needs collectstatic; tests render templates without it.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# No collectstatic before tests: WhiteNoise finds files as runserver would.
WHITENOISE_AUTOREFRESH = True

MANAGERS = [("Moderator", "moderator@example.org")]

# No request purges IP addresses unless a test asks (tests/test_privacy.py): a purge is
# a query, due at a process's first request, which query counts cannot expect.
BLOG_COMMENT_IP_RETENTION_DAYS = None
# Nor unconfirmed followers (blog.following), for the same reason.
BLOG_FORGET_UNCONFIRMED_FOLLOWERS = False
