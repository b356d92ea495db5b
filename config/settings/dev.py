"""Local development: SQLite at the project root, mail printed to the console."""

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = "django-insecure-development-key-never-used-in-production"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
