"""Measuring a page: the production server on a free loopback port, and wrk against it."""

from __future__ import annotations

import http.client
import json
import subprocess
from dataclasses import dataclass
from typing import Any

from bench.data import (
    BENCH_DIR,
    DATA_DIR,
    PAGE_KEYS,
    Page,
    Size,
    bench_environment,
    pages_for,
    prepare_database,
    probe,
    write_static_copies,
)
from bench.report import format_row
from tools.serve import ROOT, running_server

SERVER_START_TIMEOUT = 30
SERVER_STOP_TIMEOUT = 15
REQUEST_TIMEOUT = 30
WRK_SLACK = 30  # seconds a wrk run may take beyond its duration
WRK_TIMEOUT = "10s"  # a response slower than this counts as an error (wrk's default is 2 s)
WRK_SCRIPT = BENCH_DIR / "wrk_report.lua"


@dataclass(frozen=True)
class WrkOptions:
    threads: int
    connections: int
    duration: int
    warmup: int


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
    with running_server(env, log, SERVER_START_TIMEOUT, SERVER_STOP_TIMEOUT) as server:
        port = server.port
        for page in pages_for(found["paths"], copies):
            if page.key.removesuffix(":static") not in keys:
                continue
            row = measure(port, page, options)
            print(f"[{size.name}] {format_row(size.name, row)}", flush=True)
            rows.append(row)
    add_fractions(rows)
    return {"size": size.name, "database": str(database.relative_to(ROOT)), **seeding, "rows": rows}
