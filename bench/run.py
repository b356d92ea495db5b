"""`make bench`: requests/s and latency of the main pages, production server, two sizes;
then one post mailed to 10,000 followers (bench/mailing.py).

For each size of data (a SQLite file under bench/.data/, seeded once and kept), it starts
gunicorn exactly as `make serve` does (tools/gunicorn.py, production settings) but with
bench/urls.py's extra one-line view, on a free loopback port; checks that every page
answers 200, warms it up, and measures it with wrk. References run in the same server:
for each page, a static copy of it, byte for byte (served by WhiteNoise: the limit for
a response of that size), and the one-line view (what Django costs anyway).

    python -m bench.run [--quick] [--sizes april-2014 10k] [--duration 5] [--output PATH]
                        [--mailing-followers 10000]
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

from bench import mailing
from bench.data import DATA_DIR, DEFAULT_OUTPUT, PAGE_KEYS, SIZES, bench_environment, collect_static
from bench.measure import WRK_TIMEOUT, WrkOptions, bench_size
from bench.report import goals, machine, p50_ratios, table
from tools import gunicorn as gunicorn_config


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
    parser.add_argument(
        "--mailing-followers",
        type=int,
        help="followers a new post is mailed to (default 10,000; --quick 1,000; 0: none)",
    )
    args = parser.parse_args(argv)
    if args.mailing_followers is None:
        args.mailing_followers = 1000 if args.quick else mailing.FOLLOWERS
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

    mailed = None
    if args.mailing_followers:
        mailed = mailing.run(args.mailing_followers)
        print("\n" + mailing.summary(mailed))

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
        "mailing": mailed,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nResults: {args.output} ({report['elapsed_s']} s)")


if __name__ == "__main__":
    main()
