"""PostgreSQL + Redis beside SQLite + local memory, for a page from Django's page cache.

Two servers run side by side, each as `make serve` runs it but with nginx's front cache
off (BLOG_FRONT_CACHE=0), so that every request reaches Django and its page cache: one
on the size's SQLite file with each process's own memory for a cache, one on
PostgreSQL (bench_pg, seeded with the same data) with Redis (database 3, keys of this
run's own). Each page is measured on one, then on the other, page after page, so that
whatever else the machine is doing weighs on both alike. Reported: each page's
requests/s on each, and SQLite's over PostgreSQL's (the goal: at most 1.5).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from bench.data import (
    DATA_DIR,
    LABELS,
    POSTGRES_URL,
    REDIS_URL,
    Page,
    Site,
    bench_environment,
    prepare_postgres,
)
from bench.measure import SERVER_START_TIMEOUT, SERVER_STOP_TIMEOUT, WrkOptions, measure_in_turns
from bench.report import format_row, ratio
from tools.serve import running_server
from tools.services import postgres_answers, redis_answers

PAIRS = {"sqlite": "SQLite + local memory", "postgres": "PostgreSQL + Redis"}


def unavailable() -> str | None:
    """Why the pair cannot be measured here (no PostgreSQL or Redis answers), or None."""
    for name, answers, url in (
        ("PostgreSQL", postgres_answers, POSTGRES_URL.rsplit("/", 1)[0] + "/postgres"),
        ("Redis", redis_answers, REDIS_URL),
    ):
        try:
            answers(url)
        except Exception as error:  # any failure to connect means "does not answer"
            return f"no {name} answers at {url}: {error}"
    return None


def bench_backends(
    site: Site, options: WrkOptions, reseed: bool, keys: Sequence[str] = tuple(LABELS)
) -> dict[str, Any]:
    """Each page of ``keys``, a cached hit, on both pairs; ``site``: the SQLite side."""
    reason = unavailable()
    if reason:
        return {"size": site.size.name, "skipped": reason, "rows": []}
    seeding = prepare_postgres(site.size, reseed)
    no_front = {"BLOG_FRONT_CACHE": "0"}
    envs = {
        "sqlite": bench_environment(site.database, **no_front),
        "postgres": bench_environment(POSTGRES_URL, CACHE_URL=REDIS_URL, **no_front),
    }
    size = site.size.name
    rows = []
    with contextlib.ExitStack() as stack:
        ports = {
            name: stack.enter_context(
                running_server(env, DATA_DIR / f"server-{size}-{name}.log",
                               SERVER_START_TIMEOUT, SERVER_STOP_TIMEOUT)
            ).port
            for name, env in envs.items()
        }  # fmt: skip
        for key in keys:
            # The same address on both: the data is the same, seeded the same way.
            page = Page(key, LABELS[key], site.paths.get(key))
            row: dict[str, Any] = {"page": key, "label": LABELS[key]}
            measured = measure_in_turns([(port, page) for port in ports.values()], options)
            for name, figures in zip(ports, measured, strict=True):
                row[name] = figures
                print(f"[{size} {name}] {format_row(size, figures)}", flush=True)
            row["ratio"] = ratio(row["sqlite"].get("rps"), row["postgres"].get("rps"), 2)
            rows.append(row)
    return {"size": size, "labels": PAIRS, "postgres": seeding, "rows": rows}
