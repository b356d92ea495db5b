"""What a benchmark run prints and keeps: the tables, the ratios, the goals, the machine."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

# -- the references and the goals (issue 19) ------------------------------------------

# Stock WordPress 6.1 on this 2-core machine, the same `wrk -t2 -c4`, at the April size:
# requests/s, from issue 19's table (measured once beside the site, in interleaved
# rounds; WordPress is not installed here, so these are constants, not a run's figures).
WORDPRESS = {"home": 29.0, "month": 33.0, "tag": 37.0, "post-200": 2.5}
WORDPRESS_GOAL = 10.0  # every reader's page, with a session too: at least 10× WordPress
FRONT_GOAL = 0.5  # a cached page from nginx: at least half nginx's static file rate
BACKENDS_GOAL = 1.5  # SQLite + local memory ÷ PostgreSQL + Redis, for a cached hit
# After a change: the writer sees it on their next request, an anonymous reader asking
# more than this long after it does too.
STALE_GOAL = 1.0
SCALE_GOAL = 1.5  # large size's p50 over the small size's

REFERENCES = ("tiny", "hello")


def ratio(value: float | None, base: float | None, digits: int = 3) -> float | None:
    return round(value / base, digits) if value is not None and base else None


def base_page(key: str) -> str:
    """ "home:signed-in", "home:static" → "home"."""
    return key.split(":", 1)[0]


def add_fractions(rows: list[dict[str, Any]]) -> None:
    """Each row's throughput over its page's static copy's, nginx's tiny file's and the
    one-line view's; an anonymous or session row's over WordPress's for that page."""
    by_key = {row["page"]: row for row in rows if "rps" in row}
    tiny = by_key.get("tiny", {}).get("rps")
    hello = by_key.get("hello", {}).get("rps")
    for key, row in by_key.items():
        static = by_key.get(f"{base_page(key)}:static", {}).get("rps")
        reference = key in REFERENCES
        row["of_static"] = None if reference else ratio(row["rps"], static)
        row["of_tiny"] = ratio(row["rps"], tiny)
        row["of_hello"] = ratio(row["rps"], hello)
        wordpress = WORDPRESS.get(base_page(key))
        by_a_reader = row.get("kind") in ("page", "session")
        row["of_wordpress"] = ratio(row["rps"], wordpress, 1) if by_a_reader else None


# -- tables ---------------------------------------------------------------------------


def fraction(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def times(value: float | None) -> str:
    return f"{value:,.0f}×" if value is not None else "-"


def milliseconds(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "-"


def errors_note(row: dict[str, Any]) -> str:
    return "  ERRORS " + json.dumps(row["errors"]) if row.get("flagged") else ""


def format_row(size: str, row: dict[str, Any]) -> str:
    """One measured page, as printed while the run goes (the fractions come later)."""
    if "skipped" in row:
        return f"{size:<11} {row['label']:<32} skipped: {row['skipped']}"
    return (
        f"{size:<11} {row['label']:<32} {row['rps']:>9.1f} {row['p50_ms']:>8.2f} "
        f"{row['p99_ms']:>8.2f}{errors_note(row)}"
    )


PAGES_HEADER = (
    f"{'size':<11} {'page':<32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'÷ copy':>7} {'÷ tiny':>7} {'÷ WP':>7}"
)


def table(results: list[dict[str, Any]]) -> str:
    """Every page at every size, beside its references: ÷ copy is over the page's static
    copy from nginx, ÷ tiny over nginx's tiny file, ÷ WP over WordPress's figure."""
    lines = [PAGES_HEADER, "-" * len(PAGES_HEADER)]
    for result in results:
        for row in result["rows"]:
            if "skipped" in row:
                lines.append(format_row(result["size"], row))
                continue
            # Against nginx's files: what nginx serves (and the view, Django's floor);
            # readers with a session are Django's, and compared with WordPress.
            of_files = row.get("kind") in ("page", "static", "reference")
            of_static = row.get("of_static") if of_files else None
            of_tiny = row.get("of_tiny") if of_files else None
            lines.append(
                f"{result['size']:<11} {row['label']:<32} {row['rps']:>9.1f} "
                f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
                f"{fraction(of_static):>7} {fraction(of_tiny):>7} "
                f"{times(row.get('of_wordpress')):>7}{errors_note(row)}"
            )
    return "\n".join(lines)


def backends_table(backends: dict[str, Any]) -> str:
    """Django's page cache (nginx's front cache off) on each pair, page by page."""
    names = backends["labels"]
    header = (
        f"{'page':<24} {names['sqlite'] + ' req/s':>27} {'p99 ms':>7} "
        f"{names['postgres'] + ' req/s':>25} {'p99 ms':>7} {'SQLite ÷ PG':>12}"
    )
    lines = [header, "-" * len(header)]
    for row in backends["rows"]:
        sqlite, postgres = row["sqlite"], row["postgres"]
        if "rps" not in sqlite or "rps" not in postgres:
            reason = sqlite.get("skipped") or postgres.get("skipped")
            lines.append(f"{row['label']:<24} skipped: {reason}")
            continue
        lines.append(
            f"{row['label']:<24} {sqlite['rps']:>27.1f} {sqlite['p99_ms']:>7.2f} "
            f"{postgres['rps']:>25.1f} {postgres['p99_ms']:>7.2f} {fraction(row['ratio']):>12}"
            f"{errors_note(sqlite)}{errors_note(postgres)}"
        )
    return "\n".join(lines)


STAMPEDE_HEADER = (
    f"{'tree':<19} {'readers':<10} {'quiet p50':>9} {'p99':>6} {'max':>6} "
    f"{'after p50':>9} {'p99':>6} {'max':>6} {'n quiet':>7} {'n after':>7}  "
    f"{'writer':<6} {'anonymous: stale until, fresh from'}"
)


def window_cells(stats: dict[str, Any]) -> str:
    return (
        f"{milliseconds(stats['p50_ms']):>9} {milliseconds(stats['p99_ms']):>6} "
        f"{milliseconds(stats['max_ms']):>6}"
    )


def stampede_table(stampede: dict[str, Any]) -> str:
    """Readers' latency (ms) in the quiet seconds before a change and in the second
    after it, per tree; whether the writer saw their comment on their next request, and
    when an anonymous reader first saw it."""
    lines = [STAMPEDE_HEADER, "-" * len(STAMPEDE_HEADER)]
    for run in stampede["runs"]:
        if "skipped" in run:
            lines.append(f"{run['tree']:<19} skipped: {run['skipped']}")
            continue
        name = f"{run['tree']} ({run['commit']})"
        quiet, after = run["windows"]["quiet"], run["windows"]["after"]
        for n, kind in enumerate(quiet):
            line = (
                f"{name if n == 0 else '':<19} {kind:<10} "
                f"{window_cells(quiet[kind])} {window_cells(after[kind])} "
                f"{quiet[kind]['requests']:>7} {after[kind]['requests']:>7}"
            )
            if n == 0:
                line += f"  {'yes' if run['writer_sees_it'] else 'NO':<6} {staleness(run)}"
            lines.append(line)
        lines.append(f"{'':<19} p99 by second: {p99_by_second(run['timeline'])}")
    return "\n".join(lines)


def staleness(run: dict[str, Any]) -> str:
    """When the anonymous reader's last page without the comment, and first with it,
    were asked for (seconds after the comment's POST returned)."""
    fresh = run["anonymous_fresh_from_s"]
    if fresh is None:
        return "never saw it"
    return f"{run['anonymous_stale_until_s']:.2f} s, {fresh:.2f} s"


def p99_by_second(seconds: list[dict[str, Any]]) -> str:
    """ "-2: 12 -1: 11 +0: 240 +1: 13" (ms; the comment sent at 0)."""
    return "  ".join(
        f"{second['second']:+d}: {milliseconds(second['p99_ms'])}" for second in seconds
    )


def p50_ratios(results: list[dict[str, Any]]) -> dict[str, float]:
    """Per page read by a reader (not the references or static copies): the large
    size's median latency over the small size's."""
    if len(results) < 2:
        return {}
    small, large = (
        {
            row["page"]: row
            for row in result["rows"]
            if "p50_ms" in row and row.get("kind") in ("page", "session", "built")
        }
        for result in (results[0], results[-1])
    )
    return {
        page: round(large[page]["p50_ms"] / small[page]["p50_ms"], 2)
        for page in small
        if page in large and small[page]["p50_ms"]
    }


# -- goals ----------------------------------------------------------------------------


def check(goal: str, subject: str, value: Any, target: str, met: bool) -> dict[str, Any]:
    return {"goal": goal, "subject": subject, "value": value, "target": target, "met": met}


def at_least(value: float | None, goal: float) -> bool:
    return value is not None and value >= goal


def at_most(value: float | None, goal: float) -> bool:
    return value is not None and value <= goal


def front_goals(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """1. Cached pages from nginx, anonymous readers, over nginx's own static files."""
    checks = []
    for over, field in (("its static copy", "of_static"), ("nginx's tiny file", "of_tiny")):
        goal = f"1. A cached page from nginx ÷ {over}"
        for result in results:
            for row in result["rows"]:
                if row.get("kind") == "page" and "rps" in row:
                    value = row[field]
                    subject = f"{result['size']} {row['page']}"
                    met = at_least(value, FRONT_GOAL)
                    checks.append(check(goal, subject, value, f">= {FRONT_GOAL}", met))
    return checks


def wordpress_goals(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """3. Every reader's page, with a session too, over WordPress's."""
    goal = "3. Every reader's page ÷ WordPress 6.1"
    checks = []
    for result in results:
        for row in result["rows"]:
            if row.get("of_wordpress") is not None:
                reader = row["page"].partition(":")[2] or "anonymous"
                subject = f"{result['size']} {base_page(row['page'])} ({reader})"
                value = row["of_wordpress"]
                met = at_least(value, WORDPRESS_GOAL)
                checks.append(check(goal, subject, value, f">= {WORDPRESS_GOAL:g}", met))
    return checks


def stampede_goals(stampede: dict[str, Any]) -> list[dict[str, Any]]:
    """2. After a change: readers' p99 in the second after it, here and before (lower
    is the point of single flight), the writer seeing it at once, others within 1 s."""
    runs = {run["tree"]: run for run in stampede["runs"] if "skipped" not in run}
    run, before = runs.get("current"), runs.get("before")
    if run is None:
        return []
    goal = "2. After a change (a comment, under load)"
    checks = []
    if before is not None:
        for kind, after in run["windows"]["after"].items():
            was = before["windows"]["after"].get(kind, {}).get("p99_ms")
            value = ratio(after["p99_ms"], was, 2)
            subject = f"{kind} readers' p99 after it ÷ before's"
            checks.append(check(goal, subject, value, "< 1", value is not None and value < 1))
    stale = run["anonymous_stale_until_s"]
    return [
        *checks,
        check(goal, "the writer sees it on their next request", run["writer_sees_it"], "yes",
              run["writer_sees_it"]),
        check(goal, "anonymous: the old page asked for until (s)", stale,
              f"<= {STALE_GOAL:g}", at_most(stale, STALE_GOAL)),
    ]  # fmt: skip


def backends_goals(backends: dict[str, Any]) -> list[dict[str, Any]]:
    """4. PostgreSQL + Redis within 1.5× of SQLite + local memory, a cached hit."""
    goal = "4. SQLite + local memory ÷ PostgreSQL + Redis (Django's page cache)"
    return [
        check(goal, f"{backends['size']} {row['page']}", row["ratio"], f"<= {BACKENDS_GOAL}",
              at_most(row["ratio"], BACKENDS_GOAL))
        for row in backends["rows"]
    ]  # fmt: skip


def scale_goals(ratios: dict[str, float]) -> list[dict[str, Any]]:
    goal = "5. At 10,000 posts: p50 ÷ the April size's"
    return [
        check(goal, page, value, f"<= {SCALE_GOAL}", value <= SCALE_GOAL)
        for page, value in ratios.items()
    ]


def goals(
    results: list[dict[str, Any]],
    ratios: dict[str, float],
    backends: dict[str, Any] | None = None,
    stampede: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Each goal with the figure that meets it or misses it, in the issue's order."""
    return [
        *front_goals(results),
        *(stampede_goals(stampede) if stampede else []),
        *wordpress_goals(results),
        *(backends_goals(backends) if backends else []),
        *scale_goals(ratios),
    ]


def shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"  # 0.497 stays 0.497 against a goal of 0.5
    return "-" if value is None else str(value)


def format_goals(checks: list[dict[str, Any]]) -> str:
    """The checks under their goal, each with its figure, target and verdict."""
    lines: list[str] = []
    heading = None
    for item in checks:
        if item["goal"] != heading:
            heading = item["goal"]
            lines.append(f"  {heading}")
        verdict = "met" if item["met"] else "MISSED"
        lines.append(
            f"    {item['subject']:<44} {shown(item['value']):>8} ({item['target']}) {verdict}"
        )
    return "\n".join(lines)


def missed(checks: list[dict[str, Any]]) -> list[str]:
    return [
        f"{item['goal'].split('.')[0]}: {item['subject']}" for item in checks if not item["met"]
    ]


# -- the machine ----------------------------------------------------------------------


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
        "nginx": nginx_version(),
        "load_average": os.getloadavg(),
    }


def nginx_version() -> str:
    from tools.nginx import find_nginx

    try:
        done = subprocess.run(  # nosec B603 # Debian's nginx, found as `make serve` finds it
            [find_nginx(), "-v"], capture_output=True, text=True, timeout=10
        )
    except (RuntimeError, OSError):
        return "?"
    return (done.stderr or done.stdout).strip().removeprefix("nginx version: ")
