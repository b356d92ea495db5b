"""Settings shared by every environment; dev, test and prod adjust them."""

import base64
import datetime
import hashlib
import os
import re
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_HASHES
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    # django.contrib.admin, with the blog's name, menu and desk (blog.adminsite).
    "blog.adminconfig.BlogAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Serve static files in runserver the way WhiteNoise serves them in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.sitemaps",
    "taggit",
    "markdownx",
    "csp",
    "axes",
    # Revisions of posts and pages (blog.revisions).
    "reversion",
    # The queue of background tasks (e-mail above all: blog.outbox), in the database.
    "django_tasks_db",
    # comments-xtd must come before django_comments so its templates win.
    "django_comments_xtd",
    "django_comments",
    "blog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the page cache, so that pages served from it get the policy too (a cached
    # entry keeps no Content-Security-Policy of its own: a new policy applies at once).
    "csp.middleware.CSPMiddleware",
    # NUL in an admin query string is a 400 before it reaches PostgreSQL (blog.faults.nulbytes).
    "blog.faults.nulbytes.RefuseNulInAdminQueryMiddleware",
    # Forgets comments' old IP addresses, hourly (blog.operations.privacy): before the page cache,
    # so that requests it serves count too.
    "blog.operations.privacy.IpRetentionMiddleware",
    # The old blog's addresses (blog.redirects): a 404, or "/?p=12", looked up and sent on
    # with a 301. Before the page cache, so that it sees every response, one the cache
    # served included; a page that is not a 404 costs it no query.
    "blog.redirects.OldAddressMiddleware",
    # Pages for anonymous readers, before the middleware they have no use for.
    "blog.pagecache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Pages for readers with a session (signed in, staff), per audience: it needs the
    # user; before X-Frame-Options, whose header the pages it stores keep.
    "blog.pagecache.SignedInPageCacheMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's templates come first: django-comments-xtd ships a 404.html
        # that would otherwise shadow ours.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "blog.context_processors.site",
                "blog.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=0
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def cache_from_url(url: str) -> dict:
    """CACHE_URL as a CACHES entry: redis://host:port/db, or locmem:// (the default:
    each process keeps its own, which blog.pagecache's shared version token keeps fresh)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            # A Redis that stops answering costs a request a second, not the request:
            # every cache use falls back to the database when it fails.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    if url.startswith("locmem://"):
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": url.removeprefix("locmem://") or "blog",
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    raise ValueError(f"CACHE_URL must be redis://, rediss://, unix:// or locmem://: {url!r}")


CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL", "locmem://"))}


def tasks_from_url(url: str) -> tuple[dict, dict]:
    """TASKS_URL as the TASKS setting and django-rq's RQ_QUEUES: ``database://`` (the
    default: the queue is a table of the site's own database, worked by `manage.py
    db_worker`) or ``redis://host:port/db`` (RQ, for workers on several machines:
    `manage.py rqworker default --job-class django_tasks_rq.Job --with-scheduler`, the
    scheduler for the retries that wait; tools.processes.worker_command)."""
    if url.startswith(("redis://", "rediss://")):
        return (
            {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
            {"default": {"URL": url, "DEFAULT_TIMEOUT": 600}},
        )
    if url in ("database://", ""):
        return {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}, {}
    if url == "immediate://":
        # Each task run at once, in the process that enqueues it: the unit tests.
        return {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}, {}
    raise ValueError(f"TASKS_URL must be database://, immediate:// or redis://: {url!r}")


TASKS, RQ_QUEUES = tasks_from_url(os.environ.get("TASKS_URL", "database://"))
if RQ_QUEUES:
    INSTALLED_APPS += ["django_rq"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files that must live at the site's root, under their own names: /favicon.ico, which
# browsers, feed readers and crawlers ask for whatever the pages link to. WhiteNoise
# serves them (a minute's cache: their names carry no hash).
WHITENOISE_ROOT = BASE_DIR / "public"
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# The Site row is set from these by a data migration, so that absolute links in
# e-mails and feeds never point at example.com.
SITE_ID = 1
SITE_DOMAIN = "127.0.0.1:8000"
SITE_SCHEME = "http"  # for absolute links in e-mails
SITE_NAME = "Child Protection Social Work"
SITE_TAGLINE = "An expert blog on child protection social work"
# A byline for an author whose account has no first or last name (blog/people.py): never
# their login name.
BLOG_BYLINE_FALLBACK = "The editors"

LOGIN_URL = reverse_lazy("admin:login")

# Security ----------------------------------------------------------------------------


def admin_path(value: str) -> str:
    """DJANGO_ADMIN_URL as the admin's URL prefix: "staff-7f3a", "/staff-7f3a/" and
    "staff-7f3a/" all give "staff-7f3a/". Only plain path characters: a URL pattern
    would read "<…>" as a converter."""
    path = value.strip().strip("/")
    if not re.fullmatch(r"[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*", path):
        raise ImproperlyConfigured(
            f"DJANGO_ADMIN_URL must be a path such as staff-7f3a/ (letters, digits, . _ ~ -), "
            f"not {value!r}"
        )
    return path + "/"


# The admin's address (config/urls.py); production takes DJANGO_ADMIN_URL.
ADMIN_URL = "admin/"

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: forms carry the token (the page cache fills in each
# reader's own), and markdownx falls back to the change form's hidden field.
CSRF_COOKIE_HTTPONLY = True


def _attribute_hash(value: str) -> str:
    digest = base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
    return f"'sha256-{digest}'"


# Markdown tables align their columns with style="text-align:…" (Python-Markdown; nh3
# keeps only that property, blog/markup.py). Exactly these three attribute values are
# allowed; no other inline style, and no inline script at all. Pages come from a shared
# cache, so a per-response nonce could not work.
TABLE_ALIGN_STYLES = [f"text-align:{side}" for side in ("left", "center", "right")]
# django-csp, in every environment, so that the browser tests see what readers get.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_HASHES, *map(_attribute_hash, TABLE_ALIGN_STYLES)],
        # Uploaded images are served from this site; other sites' images are not shown
        # (and learn nothing of who reads what).
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Failed staff sign-ins (django-axes, counted in the database). A user name is locked
# only from the address that failed: locking the name alone would let anyone lock the
# staff out from anywhere, and locking the address alone would shut out everyone behind
# one shared address (an office, a mobile network). The price: from one address, five
# tries at each user name; the password validators are the defence there. A run spread
# over many addresses is slowed per account (blog/signin.py): past the alarm, each
# address gets two failures rather than five, and no address that has not failed is paused.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked pair before the check
    "django.contrib.auth.backends.ModelBackend",
]
BLOG_SIGNIN_FAILURE_LIMIT = 5
BLOG_SIGNIN_ACCOUNT_ALARM = 20
BLOG_SIGNIN_FAILURE_LIMIT_UNDER_ATTACK = 2
AXES_FAILURE_LIMIT = "blog.signin.failure_limit"
AXES_COOLOFF_TIME = datetime.timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "blog.signin.client_ip"
AXES_RESET_ON_SUCCESS = True  # a sign-in after a typo or two starts the count again
# Failures are listed in the admin (Axes › Access attempts) until a sign-in attempt after
# their cool-off clears them; successful sign-ins are not logged with their address,
# which axes would keep for good.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_TEMPLATE = "blog/sign_in_locked.html"  # answered 429 Too Many Requests

# The reverse proxies whose X-Forwarded-For is believed (blog/clientaddress.py): addresses,
# networks, or "unix" for one reaching gunicorn over a Unix socket. None by default: the
# address is the connection's. Production reads DJANGO_TRUSTED_PROXIES.
BLOG_TRUSTED_PROXIES: list[str] = []

DEFAULT_FROM_EMAIL = "blog@localhost"
# A mail server that does not answer holds a worker ten seconds, not for ever.
EMAIL_TIMEOUT = 10
# The outbox (blog.outbox): a failed attempt is tried again after 1, 2, 4… minutes, at
# most an hour apart, 30 times (about a day) before the e-mail is marked failed.
BLOG_MAIL_RETRY_BASE = int(os.environ.get("BLOG_MAIL_RETRY_BASE", "60"))
BLOG_MAIL_RETRY_MAX = 3600
BLOG_MAIL_MAX_ATTEMPTS = 30
# E-mail sent, failed or not sent is deleted this many days after it was written
# (blog.upkeep); the privacy page says so.
BLOG_MAIL_KEEP_DAYS = 30
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Blog
BLOG_POSTS_PER_PAGE = 10
BLOG_SEARCH_RESULTS_PER_PAGE = 10
# A post's discussion is paged by top-level comment, replies kept with theirs; read on
# every request, so tests can change it with override_settings.
BLOG_COMMENTS_PER_PAGE = 50
# How long a page stays in the cache. Changes never wait for it (blog.pagecache); it
# bounds the age of the comment form's timestamp, which must stay well under
# COMMENTS_TIMEOUT, and the memory old versions hold.
BLOG_PAGE_CACHE_SECONDS = 10 * 60
# After the cache fails, each process leaves it alone this long (blog.faults.cachefaults).
BLOG_CACHE_RETRY_SECONDS = 5
# `make backup` writes here (manage.py backup --output for another directory).
BLOG_BACKUP_DIR = BASE_DIR / "backups"
# The largest export the admin's import page takes (under nginx's 6 MB body limit,
# tools/nginx.py); a larger one is imported with the command on the server.
BLOG_IMPORT_UPLOAD_MAX_BYTES = 5 * 2**20
# Where an export uploaded in the admin waits, between its check and the import.
BLOG_IMPORT_WAITING_DIR = BASE_DIR / "var" / "imports"

# Tags: typed comma-separated in the admin, so that "mandatory reporting" is one tag.
TAGGIT_CASE_INSENSITIVE = True
TAGGIT_TAGS_FROM_STRING = "blog.tagging.parse_tags"
TAGGIT_STRING_FROM_TAGS = "blog.tagging.format_tags"

# Markdown editor: the preview goes through the site's one sanitising pipeline, and
# the endpoints are our staff-only views (see blog/editor.py).
MARKDOWNX_MARKDOWNIFY_FUNCTION = "blog.markup.render_markdown"
MARKDOWNX_URLS_PATH = reverse_lazy("editor:preview")
MARKDOWNX_UPLOAD_URLS_PATH = reverse_lazy("editor:upload")
MARKDOWNX_UPLOAD_MAX_SIZE = 5 * 1024 * 1024
MARKDOWNX_UPLOAD_CONTENT_TYPES = ("image/jpeg", "image/png")
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (1600, 1600), "quality": 85}
MARKDOWNX_MEDIA_PATH = "uploads/"

# Discussion (django-comments-xtd). The library copies its settings once at import
# time, so tests cannot change the COMMENTS_XTD_* ones with override_settings; the
# BLOG_COMMENTS_* ones below are read on every request and can be.
COMMENTS_APP = "django_comments_xtd"
COMMENTS_XTD_MODEL = "blog.models.Comment"
COMMENTS_XTD_FORM_CLASS = "blog.discussion.forms.CommentForm"
COMMENTS_XTD_SALT = b"cpsw-blog-comments"  # must be bytes: the library appends it to a key
COMMENTS_XTD_CONFIRM_EMAIL = True
COMMENTS_XTD_MAX_THREAD_LEVEL = 3  # replies nest three levels below a top-level comment
# Not the library's threads: our senders queue every e-mail for the worker (blog.outbox).
COMMENTS_XTD_THREADED_EMAILS = False
COMMENTS_XTD_SEND_HTML_EMAIL = False  # plain-text mail: nothing a reader wrote is HTML
COMMENTS_XTD_APP_MODEL_OPTIONS = {
    "default": {
        "who_can_post": "all",
        "allow_flagging": False,
        "allow_feedback": False,
        "show_feedback": False,
    }
}
COMMENT_MAX_LENGTH = 3000
# A comment refused for a missing security cookie keeps the reader's text.
CSRF_FAILURE_VIEW = "blog.discussion.views.csrf_failure"
COMMENTS_TIMEOUT = 2 * 60 * 60  # seconds a comment form stays valid (django-contrib-comments)

# Comments close on posts older than this many days (None: never).
BLOG_COMMENTS_CLOSE_AFTER_DAYS: int | None = None
# Confirmed comments are held for approval on posts older than this (None: never)...
BLOG_COMMENTS_MODERATE_AFTER_DAYS: int | None = None
# ...or when they carry more links than this...
BLOG_COMMENTS_MAX_LINKS = 2
# ...or any of these words (whole words, any case).
BLOG_COMMENTS_HOLD_WORDS = ["casino", "viagra", "cialis", "payday", "crypto", "forex"]
# Per IP address: at most this many comments in this many seconds.
BLOG_COMMENTS_RATE_LIMIT = 5
BLOG_COMMENTS_RATE_PERIOD = 60
# Following by e-mail (blog.following): per IP address, at most this many requests to
# follow in this many seconds (an office behind one address may sign up together)...
BLOG_FOLLOW_RATE_LIMIT = 10
BLOG_FOLLOW_RATE_PERIOD = 60 * 60
# ...and, whoever asks, at most this many confirmation e-mails to one address, and one
# for any one following (an address and a tag), in this many seconds.
BLOG_FOLLOW_CONFIRMATIONS_PER_ADDRESS = 3
BLOG_FOLLOW_CONFIRMATION_PERIOD = 24 * 60 * 60
# Requests to follow not confirmed within a week are forgotten, with the e-mails that
# asked, by the hourly purge of blog.operations.privacy.IpRetentionMiddleware.
BLOG_FORGET_UNCONFIRMED_FOLLOWERS = True
# E-mailed links (confirming a comment, stopping follow-ups) work this long: seconds,
# or a timedelta; read on every request.
BLOG_COMMENT_LINK_MAX_AGE = 7 * 24 * 60 * 60
# Comments' IP addresses are forgotten this many days after posting (None: kept), by
# blog.operations.privacy.IpRetentionMiddleware, hourly; `manage.py purge_comment_ips` does it now.
BLOG_COMMENT_IP_RETENTION_DAYS: int | None = 30
# Where the privacy page tells readers to ask for their comments to be erased (empty:
# DEFAULT_FROM_EMAIL).
BLOG_PRIVACY_CONTACT = ""

# Staff who moderate: every new comment is e-mailed to them.
MANAGERS: list[tuple[str, str]] = []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
