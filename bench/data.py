"""The benchmark's data: a SQLite database per size (and a PostgreSQL one for the
backends' pair), seeded once with the demo data and kept; the pages measured in it, the
readers with a session who read them, and the pages' static copies."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.serve import ROOT, serve_environment

BENCH_DIR = ROOT / "bench"
DATA_DIR = BENCH_DIR / ".data"
STATIC_ROOT = DATA_DIR / "static"
# What nginx serves at /bench-static/ (BLOG_BENCH_STATIC, tools/nginx.py): the tiny file
# and each page's static copy, the front server's own references.
BENCH_STATIC = DATA_DIR / "bench-static"
BENCH_STATIC_URL = "/bench-static/"
TINY_FILE = "hello.html"
DEFAULT_OUTPUT = BENCH_DIR / "results.json"
MANAGE = str(ROOT / "manage.py")
SEED = 1  # seed_demo's own default: the same data as a plain `seed_demo` run

# Every wait is bounded: seeding the large size is the slowest step by far.
SEED_TIMEOUT = 540
COMMAND_TIMEOUT = 300

# A query parameter no page reads: the page is built for the request and never stored
# (blog.pagecache.canonical_query), whoever asks. What a page costs past the page cache.
BUILT_QUERY = "?bench-built=1"
HELLO_PATH = "/bench/hello/"
BIG_THREAD = "demo-thread-1000"
MEDIUM_THREAD = "demo-thread-200"


@dataclass(frozen=True)
class Size:
    name: str
    posts: int
    comments: int


SIZES = {
    # The April 2014 entries plus the two big-thread posts, so both sizes have them.
    "april-2014": Size("april-2014", posts=2, comments=1200),
    "10k": Size("10k", posts=10_000, comments=100_000),
}


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    path: str | None  # None: not in this database (the row is skipped)
    cookie: str | None = None
    # "page" (an anonymous reader's), "static" (its copy), "session" (a reader's with a
    # session), "built" (past the page cache), "reference" (the tiny file, the view)
    kind: str = "page"


# The backends' pair (bench/backends.py): a PostgreSQL database of the benchmark's own
# (created, and dropped before it is seeded again, by the benchmark alone) and Redis's
# database 3 (never 15, the test suite's; never flushed).
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
POSTGRES_DATABASE = "bench_pg"
POSTGRES_URL = f"postgres://postgres@127.0.0.1:5432/{POSTGRES_DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/3"

# One secret key for every process of a run (unless `.env` or the shell gives one):
# the sessions made for the readers are signed with it, and the server must accept them.
RUN_SECRET_KEY = secrets.token_urlsafe(50)
# Each run's own keys in a shared cache (bench/settings.py): nothing an earlier run, or
# another run at the same time, left in Redis's database 3 is ever read.
RUN_CACHE_PREFIX = f"bench-{secrets.token_hex(4)}"
# The staff user's password for this run: the stampede signs them in with it.
STAFF_PASSWORD = secrets.token_urlsafe(16)


# -- preparing a database -------------------------------------------------------------


def bench_environment(database: Path | str, **overrides: str) -> dict[str, str]:
    """`make serve`'s environment, pointed at a benchmark database (a SQLite file, or a
    database URL) and static root; local memory for the cache and nginx's front cache
    on unless ``overrides`` say otherwise (whatever the shell exports)."""
    env = serve_environment()
    env.setdefault("DJANGO_SECRET_KEY", RUN_SECRET_KEY)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"sqlite:///{database}" if isinstance(database, Path) else database,
        DJANGO_STATIC_ROOT=str(STATIC_ROOT),
        CACHE_URL="locmem://",
        BLOG_FRONT_CACHE="1",
        BENCH_CACHE_PREFIX=RUN_CACHE_PREFIX,
    )
    env.pop("BLOG_BENCH_STATIC", None)
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str, timeout: int = COMMAND_TIMEOUT) -> None:
    subprocess.run([sys.executable, MANAGE, *args], cwd=ROOT, env=env, check=True, timeout=timeout)


# What makes the data: a change to any of these seeds the databases afresh.
SEEDING_CODE = [
    "tools/demo/plan.py",
    "tools/demo/words.py",
    "tools/demo/write.py",
    "tools/demo/management/commands/seed_demo.py",
    "blog/management/commands/load_april_2014.py",
    "blog/writing.py",
    "fixtures/april_2014.json",
]


def seeding_code_digest() -> str:
    digest = hashlib.sha256()
    # The schema too: a database made by earlier migrations is seeded afresh.
    migrations = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "blog/migrations").glob("0*.py"))
    for name in [*SEEDING_CODE, *migrations]:
        path = ROOT / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b""))
    return digest.hexdigest()[:16]


def wanted_seeding(size: Size) -> dict[str, Any]:
    """What a database of ``size`` is seeded with: its stamp (a change reseeds)."""
    return {
        "posts": size.posts,
        "comments": size.comments,
        "seed": SEED,
        "seeding_code": seeding_code_digest(),
    }


def seed(env: dict[str, str], size: Size, label: str) -> None:
    """An empty database, migrated, with the April 2014 entries and the size's demo data."""
    print(f"[{label}] migrating and loading the April 2014 entries...", flush=True)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "load_april_2014")
    print(f"[{label}] seed_demo --posts {size.posts} --comments {size.comments}...", flush=True)
    manage(
        env,
        "seed_demo",
        "--posts",
        str(size.posts),
        "--comments",
        str(size.comments),
        "--seed",
        str(SEED),
        "--force",
        timeout=SEED_TIMEOUT,
    )


def stamped(stamp: Path, wanted: dict[str, Any]) -> bool:
    return stamp.exists() and json.loads(stamp.read_text()) == wanted


def prepare_database(size: Size, reseed: bool) -> tuple[Path, dict[str, Any]]:
    """The size's database, seeded unless an earlier run seeded it the same way.

    Returns its path and what was done (for the results)."""
    database = DATA_DIR / f"{size.name}.sqlite3"
    stamp = DATA_DIR / f"{size.name}.seeded.json"
    wanted = wanted_seeding(size)
    env = bench_environment(database)
    if stamped(stamp, wanted) and database.exists() and not reseed:
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        return database, {"seeded": "reused", **wanted}

    for leftover in (stamp, *DATA_DIR.glob(f"{size.name}.sqlite3*")):
        leftover.unlink(missing_ok=True)
    started = time.monotonic()
    seed(env, size, size.name)
    stamp.write_text(json.dumps(wanted))
    return database, {"seeded": f"{time.monotonic() - started:.0f} s", **wanted}


def _postgres_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_SERVER, autocommit=True, connect_timeout=10) as connection:
        connection.execute(statement)


def _postgres_has_posts() -> bool:
    """Whether bench_pg exists with the blog's tables and posts in them."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=10) as connection:
            return bool(connection.execute("SELECT count(*) FROM blog_post").fetchone()[0])
    except psycopg.Error:
        return False


def prepare_postgres(size: Size, reseed: bool) -> dict[str, Any]:
    """bench_pg seeded with ``size`` as the SQLite file is, unless an earlier run did it
    the same way (the stamp beside the SQLite files); what was done."""
    stamp = DATA_DIR / f"{size.name}.{POSTGRES_DATABASE}.seeded.json"
    wanted = {**wanted_seeding(size), "database": POSTGRES_URL}
    env = bench_environment(POSTGRES_URL)
    if stamped(stamp, wanted) and _postgres_has_posts() and not reseed:
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        return {"seeded": "reused", **wanted}
    stamp.unlink(missing_ok=True)
    started = time.monotonic()
    # Ours alone (the name the benchmark gives it): dropped with any session left in it.
    _postgres_admin(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
    _postgres_admin(f"CREATE DATABASE {POSTGRES_DATABASE}")
    seed(env, size, f"{size.name} PostgreSQL")
    stamp.write_text(json.dumps(wanted))
    return {"seeded": f"{time.monotonic() - started:.0f} s", **wanted}


def collect_static(env: dict[str, str]) -> None:
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")


PROBE = """
import json, os, sys
from importlib import import_module
import django
django.setup()
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils.crypto import get_random_string
from blog.models import Post
paths = json.loads(sys.argv[1])
for key, slug in json.loads(sys.argv[2]).items():
    post = Post.objects.published().filter(slug=slug).first()
    paths[key] = post.get_absolute_url() if post else None
# The session a sign-in makes, made afresh each run (the run's secret key signs it).
engine = import_module(settings.SESSION_ENGINE)
backend = "django.contrib.auth.backends.ModelBackend"
Session.objects.all().delete()
people = {}
for audience, staff in json.loads(sys.argv[3]).items():
    user, _ = get_user_model().objects.get_or_create(
        username=f"bench-{audience}", defaults={"email": f"bench-{audience}@example.org"}
    )
    user.first_name, user.last_name = "Bench", audience.capitalize()
    user.is_staff = user.is_superuser = staff
    if staff:
        user.set_password(os.environ["BENCH_STAFF_PASSWORD"])
    else:
        user.set_unusable_password()
    user.save()
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    # A signed-in browser has the CSRF cookie too (signing in set it).
    cookie = (f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
              f"{settings.CSRF_COOKIE_NAME}={get_random_string(32)}")
    people[audience] = {"username": user.username, "cookie": cookie}
print(json.dumps({"paths": paths, "people": people, "login": reverse("admin:login")}))
"""

# The pages measured (besides the references), and the demo posts they include.
FIXED_PATHS = {
    "home": "/",
    "month": "/2014/04/",
    "tag": "/tags/workforce/",
    "search": "/search/?q=workforce",
    "feed": "/feeds/atom/",
}
# The stampede's staff user comments on an April 2014 post: a short discussion, on one
# page, where a new comment shows at once.
COMMENTED_POST = "im-not-really-surprised-to-hear"
THREAD_POSTS = {"post-200": MEDIUM_THREAD, "post-1000": BIG_THREAD, "commented": COMMENTED_POST}
# Readers with a session, and whether they are staff: a reader with an account, and
# staff as `make superuser` makes them (every permission).
AUDIENCES = {"signed-in": False, "staff": True}


@dataclass(frozen=True)
class Site:
    """A size's database, the environment its server runs in, and what is in it."""

    size: Size
    database: Path
    env: dict[str, str]
    seeding: dict[str, Any]
    paths: dict[str, str | None]
    people: dict[str, dict[str, str]]  # audience: username, cookie
    login_path: str


def probe(env: dict[str, str]) -> dict[str, Any]:
    """Each page's address; the readers with a session, signed in afresh; the admin's
    sign-in address."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            json.dumps(FIXED_PATHS),
            json.dumps(THREAD_POSTS),
            json.dumps(AUDIENCES),
        ],
        cwd=ROOT,
        env={**env, "BENCH_STAFF_PASSWORD": STAFF_PASSWORD},
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the probe failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def prepare_site(size: Size, reseed: bool) -> Site:
    database, seeding = prepare_database(size, reseed)
    env = bench_environment(database, BLOG_BENCH_STATIC=str(BENCH_STATIC))
    found = probe(env)
    return Site(size, database, env, seeding, found["paths"], found["people"], found["login"])


def static_copy(size: str, key: str) -> tuple[Path, str]:
    """Where a page's static copy is written, and its address at nginx."""
    relative = f"{size}/{key}.html"
    return BENCH_STATIC / relative, BENCH_STATIC_URL + relative


def write_tiny_file() -> None:
    """nginx's tiny static file: the one-line view's body."""
    BENCH_STATIC.mkdir(parents=True, exist_ok=True)
    (BENCH_STATIC / TINY_FILE).write_text("Hello")


PAGE_KEYS = ["home", "month", "tag", "post-200", "post-1000", "search", "feed"]
# --quick: the pages WordPress was measured on.
QUICK_PAGE_KEYS = ["home", "month", "tag", "post-200"]
# Measured with each session too: the reader's pages (a feed is the same for everyone,
# and search is built afresh for each query).
SESSION_PAGE_KEYS = ["home", "month", "tag", "post-200", "post-1000"]
LABELS = {
    "home": "home /",
    "month": "month /2014/04/",
    "tag": "tag /tags/workforce/",
    "post-200": "post, 200 comments",
    "post-1000": "post, 1,000 comments",
    "search": "search ?q=workforce",
    "feed": "Atom feed",
}
AUDIENCE_LABELS = {"signed-in": "  signed-in reader", "staff": "  staff"}


def pages_for(site: Site, keys: Sequence[str], sessions: bool = True) -> list[Page]:
    """The references (nginx's tiny file, the one-line view); then each page, for an
    anonymous reader (nginx's front cache), its static copy, and (``sessions``) with
    each reader's session; last, the 200-comment post built afresh."""
    size, paths = site.size.name, site.paths
    pages = [
        Page("tiny", "tiny static file (nginx)", BENCH_STATIC_URL + TINY_FILE, kind="reference"),
        Page("hello", "one-line view", HELLO_PATH, kind="reference"),
    ]
    for key in keys:
        path = paths.get(key)
        pages.append(Page(key, LABELS[key], path))
        copy = static_copy(size, key)[1] if path else None
        pages.append(Page(f"{key}:static", "  its static copy (nginx)", copy, kind="static"))
        if sessions and key in SESSION_PAGE_KEYS:
            for audience in AUDIENCES:
                cookie = site.people[audience]["cookie"]
                label = AUDIENCE_LABELS[audience]
                pages.append(Page(f"{key}:{audience}", label, path, cookie, kind="session"))
    if "post-200" in keys:
        built = paths["post-200"] + BUILT_QUERY if paths.get("post-200") else None
        label = "post, 200 comments, built afresh"
        pages.append(Page("post-200:built", label, built, kind="built"))
    return pages
