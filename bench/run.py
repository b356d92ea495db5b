"""`make bench`: requests/s and latency of the main pages, production server, two sizes.

For each size of data (a SQLite file under bench/.data/, seeded once and kept), it starts
gunicorn exactly as `make serve` does (tools/gunicorn.py, production settings) but with
bench/urls.py's extra one-line view, on a free loopback port; checks that every page
answers 200, warms it up, and measures it with wrk. References run in the same server:
for each page, a static copy of it, byte for byte (served by WhiteNoise: the limit for
a response of that size), and the one-line view (what Django costs anyway).

    python -m bench.run [--quick] [--sizes april-2014 10k] [--duration 5] [--output PATH]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import http.client
import importlib.metadata
import json
import os
import platform
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import gunicorn as gunicorn_config
from tools.serve import ROOT, running_server, serve_environment

BENCH_DIR = ROOT / "bench"
DATA_DIR = BENCH_DIR / ".data"
STATIC_ROOT = DATA_DIR / "static"
WRK_SCRIPT = BENCH_DIR / "wrk_report.lua"
DEFAULT_OUTPUT = BENCH_DIR / "results.json"
MANAGE = str(ROOT / "manage.py")
SEED = 1  # seed_demo's own default: the same data as a plain `seed_demo` run

# Every wait is bounded: seeding the large size is the slowest step by far.
SEED_TIMEOUT = 540
COMMAND_TIMEOUT = 300
SERVER_START_TIMEOUT = 30
SERVER_STOP_TIMEOUT = 15
REQUEST_TIMEOUT = 30
WRK_SLACK = 30  # seconds a wrk run may take beyond its duration
WRK_TIMEOUT = "10s"  # a response slower than this counts as an error (wrk's default is 2 s)

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


@dataclass(frozen=True)
class WrkOptions:
    threads: int
    connections: int
    duration: int
    warmup: int


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


# -- the server ---------------------------------------------------------------------


def get(port: int, path: str, cookie: str | None = None) -> tuple[int, int]:
    """Status and body length of one request, redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, len(response.read())
    finally:
        connection.close()


# -- measuring ------------------------------------------------------------------------


def wrk(port: int, page: Page, options: WrkOptions, duration: int) -> dict[str, Any]:
    command = [
        "wrk",
        "--threads", str(options.threads),
        "--connections", str(options.connections),
        "--duration", f"{duration}s",
        "--timeout", WRK_TIMEOUT,
        "--script", str(WRK_SCRIPT),
    ]  # fmt: skip
    if page.cookie:
        command += ["--header", f"Cookie: {page.cookie}"]
    command.append(f"http://127.0.0.1:{port}{page.path}")
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + WRK_SLACK, check=True
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk printed no figures:\n{result.stdout}\n{result.stderr}")


def measure(port: int, page: Page, options: WrkOptions) -> dict[str, Any]:
    row: dict[str, Any] = {"page": page.key, "label": page.label, "path": page.path}
    if page.path is None:
        return {**row, "skipped": "no such post in this database"}
    status, length = get(port, page.path, page.cookie)
    if status != 200:
        return {**row, "skipped": f"answered {status}, not 200"}
    if options.warmup:
        wrk(port, page, options, options.warmup)
    figures = wrk(port, page, options, options.duration)
    seconds = figures["duration_us"] / 1e6
    errors = figures["errors"]
    error_count = sum(errors.values())
    return {
        **row,
        "body_bytes": length,
        "requests": figures["requests"],
        "seconds": round(seconds, 3),
        "rps": round(figures["requests"] / seconds, 1),
        "p50_ms": round(figures["latency_us"]["p50"] / 1000, 2),
        "p90_ms": round(figures["latency_us"]["p90"] / 1000, 2),
        "p99_ms": round(figures["latency_us"]["p99"] / 1000, 2),
        "max_ms": round(figures["latency_us"]["max"] / 1000, 2),
        "errors": errors,
        "flagged": error_count > 0,
    }


def add_fractions(rows: list[dict[str, Any]]) -> None:
    """Each page's throughput as a fraction of its static copy's and the one-line view's."""
    by_key = {row["page"]: row for row in rows if "rps" in row}
    hello = by_key.get("hello", {}).get("rps")
    for key, row in by_key.items():
        base = key.removesuffix("-uncached").removesuffix(":static")
        static = by_key.get(f"{base}:static", {}).get("rps")
        row["of_static"] = round(row["rps"] / static, 3) if static else None
        row["of_hello"] = round(row["rps"] / hello, 3) if hello else None


def bench_size(
    size: Size, options: WrkOptions, reseed: bool, keys: list[str] = PAGE_KEYS
) -> dict[str, Any]:
    database, seeding = prepare_database(size, reseed)
    env = bench_environment(database)
    found = probe(env)
    copies = write_static_copies(size, found["bodies"])
    rows = []
    log = DATA_DIR / f"server-{size.name}.log"
    with running_server(env, log, SERVER_START_TIMEOUT, SERVER_STOP_TIMEOUT) as (port, _pid):
        for page in pages_for(found["paths"], copies):
            if page.key.removesuffix(":static") not in keys:
                continue
            row = measure(port, page, options)
            print(f"[{size.name}] {format_row(size.name, row)}", flush=True)
            rows.append(row)
    add_fractions(rows)
    return {"size": size.name, "database": str(database.relative_to(ROOT)), **seeding, "rows": rows}


# -- reporting ------------------------------------------------------------------------


def format_row(size: str, row: dict[str, Any]) -> str:
    if "skipped" in row:
        return f"{size:<11} {row['label']:<30} skipped: {row['skipped']}"
    flag = "  ERRORS " + json.dumps(row["errors"]) if row["flagged"] else ""
    return (
        f"{size:<11} {row['label']:<30} {row['rps']:>9.1f} {row['p50_ms']:>9.2f} "
        f"{row['p99_ms']:>9.2f}{flag}"
    )


def fraction(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def table(results: list[dict[str, Any]]) -> str:
    header = (
        f"{'size':<11} {'page':<30} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'of static':>10} {'of hello':>9}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        for row in result["rows"]:
            if "skipped" in row:
                lines.append(format_row(result["size"], row))
                continue
            # The one-line view is the uncached page's yardstick: what Django costs anyway.
            of_hello = row["of_hello"] if row["page"] == "post-200-uncached" else None
            line = (
                f"{result['size']:<11} {row['label']:<30} {row['rps']:>9.1f} "
                f"{row['p50_ms']:>9.2f} {row['p99_ms']:>9.2f} "
                f"{fraction(row['of_static']):>10} {fraction(of_hello):>9}"
            )
            if row["flagged"]:
                line += "  ERRORS " + json.dumps(row["errors"])
            lines.append(line)
    return "\n".join(lines)


def p50_ratios(results: list[dict[str, Any]]) -> dict[str, float]:
    """Per page: the large size's median latency over the small size's."""
    if len(results) < 2:
        return {}
    small, large = (
        {row["page"]: row for row in result["rows"] if "p50_ms" in row}
        for result in (results[0], results[-1])
    )
    return {
        page: round(large[page]["p50_ms"] / small[page]["p50_ms"], 2)
        for page in small
        if page in large and small[page]["p50_ms"]
    }


# The goals, each checked on one run's figures.
CACHED_PAGES = ["home", "month", "tag", "post-200", "post-1000", "feed"]
CACHED_GOAL = 0.5  # of the same-size static file's throughput
UNCACHED_GOAL = 0.25  # of the one-line view's throughput
SCALE_GOAL = 1.5  # large size's p50 over the small size's


def goals(results: list[dict[str, Any]], ratios: dict[str, float]) -> list[dict[str, Any]]:
    """Each goal with the figure that meets it or misses it."""
    checks = []
    for result in results:
        rows = {row["page"]: row for row in result["rows"] if "rps" in row}
        for page in CACHED_PAGES:
            if page in rows:
                value = rows[page]["of_static"]
                checks.append({"goal": f"{result['size']} {page}: of its static copy",
                               "value": value, "target": f">= {CACHED_GOAL}",
                               "met": value is not None and value >= CACHED_GOAL})  # fmt: skip
        if "post-200-uncached" in rows:
            value = rows["post-200-uncached"]["of_hello"]
            checks.append({"goal": f"{result['size']} post-200 uncached: of the one-line view",
                           "value": value, "target": f">= {UNCACHED_GOAL}",
                           "met": value is not None and value >= UNCACHED_GOAL})  # fmt: skip
    for page, ratio in ratios.items():
        if ":static" in page or page == "hello":
            continue
        checks.append({"goal": f"{page}: p50 large / small", "value": ratio,
                       "target": f"<= {SCALE_GOAL}", "met": ratio <= SCALE_GOAL})  # fmt: skip
    return checks


def machine() -> dict[str, Any]:
    import django

    wrk_version = subprocess.run(  # nosec B607 # the machine's own wrk, found on PATH
        ["wrk", "--version"], capture_output=True, text=True, timeout=10
    ).stdout.splitlines()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.__version__,
        "sqlite": sqlite3.sqlite_version,
        "gunicorn": importlib.metadata.version("gunicorn"),
        "wrk": wrk_version[0] if wrk_version else "?",
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small size only, 2 s runs")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), help="default: both")
    parser.add_argument("--duration", type=int, help="seconds per measured run (default 5)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per page (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--pages", nargs="+", choices=PAGE_KEYS, help="default: all")
    parser.add_argument("--workers", type=int, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--reseed", action="store_true", help="seed the databases afresh")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON")
    args = parser.parse_args(argv)
    args.sizes = args.sizes or (["april-2014"] if args.quick else list(SIZES))
    args.duration = args.duration or (2 if args.quick else 5)
    args.warmup = args.warmup if args.warmup is not None else 1
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("make bench needs wrk (Debian: apt-get install wrk; `make wrk` does it).")
    if args.workers:
        os.environ["WEB_CONCURRENCY"] = str(args.workers)
    options = WrkOptions(args.threads, args.connections, args.duration, args.warmup)
    DATA_DIR.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    # collectstatic opens no database: any size's settings will do.
    collect_static(bench_environment(DATA_DIR / f"{args.sizes[0]}.sqlite3"))
    results = [
        bench_size(SIZES[name], options, args.reseed, args.pages or PAGE_KEYS)
        for name in args.sizes
    ]
    ratios = p50_ratios(results)

    print()
    print(table(results))
    if ratios:
        print(f"\np50 at {results[-1]['size']} / p50 at {results[0]['size']}:")
        for page, ratio in ratios.items():
            print(f"  {page:<20} {ratio:>6.2f}")
    flagged = [
        f"{result['size']} {row['page']}"
        for result in results
        for row in result["rows"]
        if row.get("flagged")
    ]
    if flagged:
        print("\nRows with errors or responses other than 200: " + ", ".join(flagged))
    checks = goals(results, ratios)
    print("\nGoals:")
    for check in checks:
        verdict = "met" if check["met"] else "MISSED"
        print(f"  {check['goal']:<50} {check['value']!s:>7} ({check['target']}) {verdict}")

    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "server": {
            "workers": int(os.environ.get("WEB_CONCURRENCY") or gunicorn_config.default_workers()),
            "worker_class": gunicorn_config.worker_class,
            "settings": "bench.settings (config.settings.prod + /bench/hello/)",
        },
        "wrk": {
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "timeout": WRK_TIMEOUT,
        },
        "results": results,
        "p50_ratio_large_over_small": ratios,
        "goals": checks,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nResults: {args.output} ({report['elapsed_s']} s)")


if __name__ == "__main__":
    main()
