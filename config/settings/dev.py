"""Local development: SQLite at the project root, mail printed to the console."""

import os

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = "django-insecure-development-key-never-used-in-production"  # nosec B105 # development only; prod reads its key from the environment
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
# `manage.py seed_demo`: demo data is for trying the site, never for production.
INSTALLED_APPS = [*INSTALLED_APPS, "tools.demo"]  # noqa: F405
# `PORT=8123 make run`: links in e-mails must carry the port the site is served on.
SITE_DOMAIN = f"127.0.0.1:{os.environ.get('PORT', '8000')}"

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# New comments are e-mailed to the moderators: printed to the console here.
MANAGERS = [("Editor", "editor@localhost")]
