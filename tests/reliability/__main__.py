"""`make reliability`: the load and fault scenarios on SQLite and PostgreSQL.

    python -m tests.reliability [--db sqlite|postgres|both] [--clients 20] [--comments 500]
                                [--duration 180] [--seed 1] [--workers N] [--write-doc]

For each database: a fresh one (a temporary SQLite file; on PostgreSQL a database of
its own, dropped afterwards), prepared as `make serve` prepares it, then each scenario
with the production server started as `make serve` starts it. Exit status 1 when any
check failed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tools.serve import ROOT
from tools.services import postgres_answers, redis_answers

from . import report
from .scenario import prepared_site, run_scenario, scenarios_for

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
RESULTS = ROOT / "tests" / "reliability" / "results.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (20)")
    parser.add_argument("--comments", type=int, default=500, help="comments per scenario (500)")
    parser.add_argument(
        "--duration",
        type=float,
        default=300,
        help="seconds a scenario's load may last at most (300)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument(
        "--scenarios", nargs="+", help="only these (load, pg-kill, redis-stop, mail-outage)"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("PG_URL", DEFAULT_PG_URL),
        help="a PostgreSQL server to create the test database on",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("RELIABILITY_REDIS_URL", DEFAULT_REDIS_URL),
        help="the shared Redis database the PostgreSQL runs cache in "
        "(flushed: give it a database no one else uses)",
    )
    parser.add_argument(
        "--write-doc",
        action="store_true",
        help="write docs/reliability.md and tests/reliability/results.json",
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs and e-mails")
    return parser.parse_args(argv)


def answers(check, url: str) -> bool:
    try:
        check(url)
    except Exception as error:  # any failure to connect: the message says which
        print(f"No answer at {url}: {error}", file=sys.stderr)
        return False
    return True


def run_database(kind: str, args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    results = []
    name = f"cpsw_reliability_{os.getpid()}"
    with prepared_site(kind, folder, args.redis_url, args.pg_url, name) as prepared:
        for number, scenario in enumerate(scenarios_for(kind)):
            if args.scenarios and scenario.name not in args.scenarios:
                continue
            print(
                f"[{kind}] {scenario.name}: {args.clients} clients, {args.comments} comments...",
                flush=True,
            )
            result = run_scenario(
                prepared,
                scenario,
                clients=args.clients,
                comments=args.comments,
                duration=args.duration,
                seed=args.seed,
                code=f"r{kind[0]}{number}",
            )
            result["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
            print(report.summary(result), flush=True)
            results.append(result)
    return results


def merged(results: list[dict[str, Any]], date: str) -> list[dict[str, Any]]:
    """This run's results, and the last written of every scenario it did not run (each
    with its own run's date), in the order the scenarios run in."""
    ran = {(r["database"], r["scenario"]) for r in results}
    kept = []
    if RESULTS.exists():
        previous = json.loads(RESULTS.read_text())
        for result in previous.get("results", []):
            if (result["database"], result["scenario"]) not in ran:
                kept.append({"date": previous["date"], **result})
    order = {
        (kind, scenario.name): n
        for kind in ("sqlite", "postgres")
        for n, scenario in enumerate(scenarios_for(kind), 10 if kind == "postgres" else 0)
    }
    return sorted([*kept, *results], key=lambda r: order.get((r["database"], r["scenario"]), 99))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.workers:
        os.environ["WEB_CONCURRENCY"] = str(args.workers)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in kinds and not answers(postgres_answers, args.pg_url):
        if args.db == "postgres" or os.environ.get("CI") == "true":
            return 1
        print("PostgreSQL's scenarios are skipped.")
        kinds.remove("postgres")
    if "postgres" in kinds and not answers(redis_answers, args.redis_url):
        print("A private redis-server stands in for the shared one.")
        args.redis_url = ""
    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="reliability-") as temporary:
        base = Path(tempfile.mkdtemp(prefix="reliability-kept-")) if args.keep else Path(temporary)
        for kind in kinds:
            folder = base / kind
            folder.mkdir()
            results.extend(run_database(kind, args, folder))
        if args.keep:
            print(f"Logs and e-mails kept in {base}")
    document = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "options": {
            "clients": args.clients,
            "comments": args.comments,
            "seed": args.seed,
            "duration_limit_s": args.duration,
            "workers": report.workers(),
        },
        "results": results,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    print()
    print(report.table(results))
    failed = [(r["database"], r["scenario"], r["failures"]) for r in results if r["failures"]]
    for database, scenario, found in failed:
        print(f"\nFAILED {database} {scenario}:")
        for line in found:
            print(f"  - {line}")
    if args.write_doc:
        document["results"] = merged(results, document["date"])
        RESULTS.write_text(json.dumps(document, indent=2, default=str) + "\n")
        report.write_doc(document)
        print(f"\nWrote {report.DOC.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}")
    print(f"\n{'FAILED' if failed else 'Passed'} in {document['elapsed_s']} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
