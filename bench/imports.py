"""`make bench-import`: the time and peak memory of importing a large WordPress export.

Writes an export with the tests' own generator (tests/importing/generate.py: 10,000
posts and 100,000 threaded comments by default) under bench/.data/, then imports it
into a fresh SQLite database with `manage.py import_wordpress`, as staff would, in a
child process whose peak resident memory the kernel reports (getrusage of the
children). The same file is then imported a second time, which must change nothing.

    python -m bench.imports [--posts 10000] [--comments 100000] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.data import DATA_DIR, MANAGE, bench_environment
from tools.serve import ROOT

IMPORT_TIMEOUT = 1800
DEFAULT_OUTPUT = ROOT / "bench" / "import-results.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.imports", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON")
    return parser.parse_args(argv)


def run_measured(env: dict[str, str], *args: str) -> dict[str, float | str]:
    """Run a manage.py command alone in a child; its wall time and peak memory (the
    children's maximum resident set: each run is the only child alive at its end)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, MANAGE, *args],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=IMPORT_TIMEOUT,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    # Linux reports kilobytes. The figure is the largest of any child so far, so the
    # import runs first, before any smaller child could hide behind it.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": round(seconds, 1), "peak_mb": round(peak_mb, 1), "report": result.stdout}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.importing.generate import write_wordpress_export

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    export = DATA_DIR / f"wordpress-{args.posts}-{args.comments}.xml"
    started = time.monotonic()
    write_wordpress_export(export, posts=args.posts, comments=args.comments)
    generated = time.monotonic() - started
    size_mb = export.stat().st_size / 2**20
    print(f"Export: {export.name}, {size_mb:.1f} MB, written in {generated:.1f} s")

    database = DATA_DIR / "import.sqlite3"
    database.unlink(missing_ok=True)
    env = bench_environment(database)
    subprocess.run(
        [sys.executable, MANAGE, "migrate", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True, timeout=IMPORT_TIMEOUT,
    )  # fmt: skip
    first = run_measured(env, "import_wordpress", str(export), "-v1")
    print(f"First import: {first['seconds']} s, peak memory {first['peak_mb']} MB")
    print(first["report"])
    again = run_measured(env, "import_wordpress", str(export), "-v1")
    print(f"Second import of the same file: {again['seconds']} s")
    print(again["report"])

    results = {
        "date": time.strftime("%Y-%m-%d"),
        "command": "make bench-import",
        "posts": args.posts,
        "comments": args.comments,
        "export_mb": round(size_mb, 1),
        "first_import": first,
        "second_import": {"seconds": again["seconds"], "report": again["report"]},
        "machine": {"python": platform.python_version(), "cores": len(os.sched_getaffinity(0))},
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"Results: {args.output.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
