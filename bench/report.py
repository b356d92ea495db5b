"""What a benchmark run prints and keeps: the table, the ratios, the goals, the machine."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

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
