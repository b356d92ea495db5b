"""`make bench`: the production stack under wrk, beside its references and the goals of
issue 19; then one post mailed to 10,000 followers (bench/mailing.py).

For each size of data (a SQLite file under bench/.data/, seeded once and kept), it
starts the stack exactly as `make serve` does (nginx in front of gunicorn, tools/serve.py;
production settings) with bench/urls.py's extra one-line view, on a free loopback port,
and measures each page with wrk (2 threads, 4 connections, keep-alive):

- for an anonymous reader, from nginx's front cache; beside nginx serving a tiny static
  file and the page's own static copy, byte for byte (BLOG_BENCH_STATIC, /bench-static/);
- with a signed-in reader's session and with a staff user's (Django's page cache, per
  audience), beside WordPress 6.1's figures on this machine (bench/report.py);
- the 200-comment post built afresh, and the one-line view: what Django costs anyway.

Then (each part can be skipped): Django's page cache on PostgreSQL + Redis beside SQLite
+ local memory (bench/backends.py); readers' latency around a comment posted under load,
here and in an earlier checkout (bench/stampede.py); the mailing.

    python -m bench.run [--quick] [--sizes april-2014 10k] [--duration 5] [--output PATH]
                        [--skip stampede backends mailing sessions]
                        [--stampede-before PATH] [--mailing-followers 10000]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import time
from pathlib import Path

from bench import mailing, stampede
from bench.backends import bench_backends
from bench.data import (
    DATA_DIR,
    DEFAULT_OUTPUT,
    PAGE_KEYS,
    QUICK_PAGE_KEYS,
    SIZES,
    collect_static,
    prepare_site,
)
from bench.measure import WRK_TIMEOUT, WrkOptions, bench_size
from bench.report import (
    WORDPRESS,
    backends_table,
    format_goals,
    goals,
    machine,
    missed,
    p50_ratios,
    table,
)
from tools import gunicorn as gunicorn_config

PARTS = ("sessions", "backends", "stampede", "mailing")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small size, 4 pages, 2 s runs")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), help="default: both")
    parser.add_argument("--duration", type=int, help="seconds per measured run (default 5)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per page (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (4)")
    parser.add_argument("--pages", nargs="+", choices=PAGE_KEYS, help="default: all")
    parser.add_argument("--workers", type=int, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--reseed", action="store_true", help="seed the databases afresh")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON")
    parser.add_argument("--skip", nargs="+", choices=PARTS, default=[], help="parts to leave out")
    parser.add_argument(
        "--stampede-before",
        type=Path,
        help="an earlier checkout of the project: the stampede is run there too",
    )
    parser.add_argument(
        "--stampede-size", choices=list(SIZES), help="default: the largest size measured"
    )
    parser.add_argument(
        "--mailing-followers",
        type=int,
        help="followers a new post is mailed to (default 10,000; --quick 1,000; 0: none)",
    )
    args = parser.parse_args(argv)
    if args.mailing_followers is None:
        args.mailing_followers = 1000 if args.quick else mailing.FOLLOWERS
    if not args.mailing_followers:
        args.skip.append("mailing")
    args.sizes = args.sizes or (["april-2014"] if args.quick else list(SIZES))
    args.stampede_size = args.stampede_size or args.sizes[-1]
    args.pages = args.pages or (QUICK_PAGE_KEYS if args.quick else PAGE_KEYS)
    args.duration = args.duration or (2 if args.quick else 5)
    args.warmup = args.warmup if args.warmup is not None else 1
    return args


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("make bench needs wrk (Debian: apt-get install wrk; `make wrk` does it).")
    if args.workers:
        os.environ["WEB_CONCURRENCY"] = str(args.workers)
    options = WrkOptions(args.threads, args.connections, args.duration, args.warmup)
    DATA_DIR.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    sites = {name: prepare_site(SIZES[name], args.reseed) for name in args.sizes}
    # collectstatic opens no database: any size's settings will do.
    collect_static(sites[args.sizes[0]].env)
    results = [
        bench_size(site, options, args.pages, sessions="sessions" not in args.skip)
        for site in sites.values()
    ]
    ratios = p50_ratios(results)
    section("Pages (req/s; ÷ copy: over its static copy from nginx; ÷ tiny: over nginx's "
            "tiny file; ÷ WP: over WordPress 6.1)")  # fmt: skip
    print(table(results))

    backends = None
    if "backends" not in args.skip:
        section("Django's page cache: SQLite + local memory and PostgreSQL + Redis")
        backends = bench_backends(sites[args.sizes[0]], options, args.reseed, args.pages)
        print(backends.get("skipped") or backends_table(backends))

    stampeded = None
    if "stampede" not in args.skip:
        section("After a change, under load")
        site = sites.get(args.stampede_size) or prepare_site(SIZES[args.stampede_size], False)
        stampeded = stampede.run(site, args.stampede_before, args.quick)
        print(stampede.summary(stampeded))

    checks = goals(
        results, ratios, backends if backends and "skipped" not in backends else None, stampeded
    )
    section("Goals")
    print(format_goals(checks))
    flagged = [
        f"{result['size']} {row['page']}"
        for result in results
        for row in result["rows"]
        if row.get("flagged")
    ]
    if flagged:
        print("\nRows with errors or responses other than 200: " + ", ".join(flagged))

    mailed = None
    if "mailing" not in args.skip:
        section("Mailing a new post")
        mailed = mailing.run(args.mailing_followers)
        print(mailing.summary(mailed))

    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "server": {
            "workers": int(os.environ.get("WEB_CONCURRENCY") or gunicorn_config.default_workers()),
            "worker_class": gunicorn_config.worker_class,
            "settings": "bench.settings (config.settings.prod + /bench/hello/)",
            "front": "nginx, front cache on (BLOG_FRONT_CACHE=1) but for the backends' pair",
        },
        "wrk": {
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "timeout": WRK_TIMEOUT,
            "keep_alive": True,
        },
        "wordpress": {
            "req_s": WORDPRESS,
            "source": "issue 19's table (WordPress 6.1, this machine)",
        },
        "results": results,
        "p50_ratio_large_over_small": ratios,
        "backends": backends,
        "stampede": stampeded,
        "goals": checks,
        "missed": missed(checks),
        "mailing": mailed,
        "skipped": sorted(set(args.skip)),
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nResults: {args.output} ({report['elapsed_s']} s)")


if __name__ == "__main__":
    main()
