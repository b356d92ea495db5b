"""Production: every secret comes from the environment, and start-up stops without one.

Read with os.environ, not django-environ: it stops at the first missing variable with no
hint of its value (here every missing one is named, with an example), takes an empty
value as set, and reads any unknown boolean as false, so that a typo in DJANGO_SECURE
would turn HTTPS off (here only "0" does).
"""

import ipaddress
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

REQUIRED = {
    "DJANGO_SECRET_KEY": "a long random string, e.g. from "  # nosec B105 # help text naming the variable
    "python -c 'import secrets; print(secrets.token_urlsafe(50))'",
    "DJANGO_ALLOWED_HOSTS": "comma-separated host names the site answers to, e.g. blog.example.org",
    "DATABASE_URL": "the database, e.g. postgres://user:password@127.0.0.1:5432/blog",
}
_missing = [name for name in REQUIRED if not os.environ.get(name, "").strip()]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables:\n"
        + "\n".join(f"  {name}: {REQUIRED[name]}" for name in _missing)
    )

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = [h.strip() for h in os.environ["DJANGO_ALLOWED_HOSTS"].split(",") if h.strip()]
# Connections are kept for a minute; one that died meanwhile (the database restarted, a
# session killed) is found by a health check before a request uses it, and replaced.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several server processes share the file: WAL lets readers go on while one writes,
    # IMMEDIATE takes the write lock when a transaction starts (no deadlocked upgrade),
    # and a writer waits up to 20 s for the lock rather than failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

SITE_DOMAIN = os.environ.get("DJANGO_SITE_DOMAIN", ALLOWED_HOSTS[0])
# Where collectstatic writes and WhiteNoise reads (a benchmark or a test uses its own).
STATIC_ROOT = os.environ.get("DJANGO_STATIC_ROOT") or STATIC_ROOT  # noqa: F405
# Where uploaded images are stored, and nginx serves them from (tools/nginx.py).
MEDIA_ROOT = os.environ.get("DJANGO_MEDIA_ROOT") or MEDIA_ROOT  # noqa: F405

# HTTPS by default; DJANGO_SECURE=0 for a loopback run behind no TLS proxy.
_secure = os.environ.get("DJANGO_SECURE", "1") != "0"
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SECURE_SSL_REDIRECT = _secure
SITE_SCHEME = "https" if _secure else "http"
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 30 if _secure else 0
# HSTS also covers the site host's own subdomains, and carries the preload directive,
# unless DJANGO_HSTS_INCLUDE_SUBDOMAINS=0 or DJANGO_HSTS_PRELOAD=0. The directive alone
# binds nothing: joining the browsers' preload list is a separate submission by the
# domain's owner (hstspreload.org, which also wants a max-age of a year). Setting either
# to 0 is the decision the deployment check asks for, so its warning is silenced then.
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("DJANGO_HSTS_INCLUDE_SUBDOMAINS", "1") != "0"
SECURE_HSTS_PRELOAD = os.environ.get("DJANGO_HSTS_PRELOAD", "1") != "0"
SILENCED_SYSTEM_CHECKS = [
    check
    for check, on in [
        ("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS),
        ("security.W021", SECURE_HSTS_PRELOAD),
    ]
    if not on
]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The proxies in front whose X-Forwarded-For names the reader (blog/clientaddress.py):
# comma-separated addresses or networks, or "unix" for nginx on gunicorn's Unix socket,
# as `make serve` runs it. Unset, the connection's own address is the reader's.
BLOG_TRUSTED_PROXIES = os.environ.get("DJANGO_TRUSTED_PROXIES", "").replace(",", " ").split()
for _proxy in BLOG_TRUSTED_PROXIES:
    if _proxy.lower() != "unix":
        try:
            ipaddress.ip_network(_proxy, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"DJANGO_TRUSTED_PROXIES: {_proxy!r} is neither an address, a network nor 'unix'."
            ) from None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
# STARTTLS whenever there is a password to send (never in clear), unless
# DJANGO_EMAIL_USE_TLS=0; DJANGO_EMAIL_USE_TLS=1 asks for it without one.
EMAIL_USE_TLS = os.environ.get("DJANGO_EMAIL_USE_TLS", "1" if EMAIL_HOST_USER else "0") != "0"
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", DEFAULT_FROM_EMAIL)  # noqa: F405
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address the privacy page gives for erasure requests (default: the one above).
BLOG_PRIVACY_CONTACT = os.environ.get("DJANGO_PRIVACY_CONTACT", "")


def _addresses(variable: str) -> list[tuple[str, str]]:
    return [(a.strip(), a.strip()) for a in os.environ.get(variable, "").split(",") if a.strip()]


ADMINS = _addresses("DJANGO_ADMINS")
# Comment moderators: DJANGO_MANAGERS, or the admins when it is not set.
MANAGERS = _addresses("DJANGO_MANAGERS") or ADMINS

# Away from the /admin/ every scanner tries, if DJANGO_ADMIN_URL says so.
ADMIN_URL = admin_path(os.environ.get("DJANGO_ADMIN_URL", ADMIN_URL))  # noqa: F405
