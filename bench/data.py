"""The benchmark's data: a SQLite database per size, seeded once with the demo data
and kept; the pages measured in it, and their static copies."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.serve import ROOT, serve_environment

BENCH_DIR = ROOT / "bench"
DATA_DIR = BENCH_DIR / ".data"
STATIC_ROOT = DATA_DIR / "static"
DEFAULT_OUTPUT = BENCH_DIR / "results.json"
MANAGE = str(ROOT / "manage.py")
SEED = 1  # seed_demo's own default: the same data as a plain `seed_demo` run

# Every wait is bounded: seeding the large size is the slowest step by far.
SEED_TIMEOUT = 540
COMMAND_TIMEOUT = 300

UNCACHED_COOKIE = "sessionid=bench-uncached"
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
    kind: str = "page"  # or "static", "hello"


# -- preparing a database -------------------------------------------------------------


def bench_environment(database: Path) -> dict[str, str]:
    """`make serve`'s environment, pointed at a benchmark database and static root."""
    env = serve_environment()
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_STATIC_ROOT=str(STATIC_ROOT),
    )
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


def prepare_database(size: Size, reseed: bool) -> tuple[Path, dict[str, Any]]:
    """The size's database, seeded unless an earlier run seeded it the same way.

    Returns its path and what was done (for the results)."""
    database = DATA_DIR / f"{size.name}.sqlite3"
    stamp = DATA_DIR / f"{size.name}.seeded.json"
    wanted = {
        "posts": size.posts,
        "comments": size.comments,
        "seed": SEED,
        "seeding_code": seeding_code_digest(),
    }
    env = bench_environment(database)
    seeded = stamp.exists() and json.loads(stamp.read_text()) == wanted and database.exists()
    if seeded and not reseed:
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        return database, {"seeded": "reused", **wanted}

    for leftover in (stamp, *DATA_DIR.glob(f"{size.name}.sqlite3*")):
        leftover.unlink(missing_ok=True)
    started = time.monotonic()
    print(f"[{size.name}] migrating and loading the April 2014 entries...", flush=True)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "load_april_2014")
    print(f"[{size.name}] seed_demo --posts {size.posts} --comments {size.comments}...", flush=True)
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
    stamp.write_text(json.dumps(wanted))
    return database, {"seeded": f"{time.monotonic() - started:.0f} s", **wanted}


def collect_static(env: dict[str, str]) -> None:
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")


PROBE = """
import json, sys
import django
django.setup()
from django.test import Client
from blog.models import Post
paths = json.loads(sys.argv[1])
for key, slug in json.loads(sys.argv[2]).items():
    post = Post.objects.published().filter(slug=slug).first()
    paths[key] = post.get_absolute_url() if post else None
bodies = {}
for key, path in paths.items():
    if path is not None:
        response = Client().get(path, HTTP_HOST="127.0.0.1")
        assert response.status_code == 200, (path, response.status_code)
        bodies[key] = response.content.decode()
print(json.dumps({"paths": paths, "bodies": bodies}))
"""

# The pages measured (besides the references), and the demo posts they include.
FIXED_PATHS = {
    "home": "/",
    "month": "/2014/04/",
    "tag": "/tags/workforce/",
    "search": "/search/?q=workforce",
    "feed": "/feeds/atom/",
}
THREAD_POSTS = {"post-200": MEDIUM_THREAD, "post-1000": BIG_THREAD}


def probe(env: dict[str, str]) -> dict[str, Any]:
    """Each page's address, and each page as the server would send it."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(FIXED_PATHS), json.dumps(THREAD_POSTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def write_static_copies(size: Size, bodies: dict[str, str]) -> dict[str, str]:
    """A copy of each page as a static file; their paths under STATIC_URL.

    Written after collectstatic and before the server starts: WhiteNoise indexes the
    static files once, when a worker starts."""
    paths = {}
    for key, body in bodies.items():
        relative = f"bench/{size.name}/{key}.html"
        target = STATIC_ROOT / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        paths[key] = f"/static/{relative}"
    return paths


PAGE_KEYS = [
    "hello",
    "home",
    "month",
    "tag",
    "post-200",
    "post-1000",
    "search",
    "feed",
    "post-200-uncached",
]
LABELS = {
    "home": "home /",
    "month": "month /2014/04/",
    "tag": "tag /tags/workforce/",
    "post-200": "post, 200 comments",
    "post-1000": "post, 1,000 comments",
    "search": "search ?q=workforce",
    "feed": "Atom feed",
}


def pages_for(paths: dict[str, str | None], copies: dict[str, str]) -> list[Page]:
    """The one-line view; then each page followed by its static copy; then the
    200-comment post past the page cache."""
    pages = [Page("hello", "one-line view", HELLO_PATH, kind="hello")]
    for key, label in LABELS.items():
        pages.append(Page(key, label, paths.get(key)))
        pages.append(Page(f"{key}:static", "  its static copy", copies.get(key), kind="static"))
    pages.append(
        Page(
            "post-200-uncached",
            "post, 200 comments, uncached",
            paths.get("post-200"),
            cookie=UNCACHED_COOKIE,
        )
    )
    return pages
