"""Measuring a page: the production server on a free loopback port, and wrk against it."""

from __future__ import annotations

import http.client
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.data import (
    BENCH_DIR,
    DATA_DIR,
    LABELS,
    Page,
    Site,
    pages_for,
    static_copy,
    write_tiny_file,
)
from bench.report import add_fractions, format_row
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


def get(port: int, path: str, cookie: str | None = None) -> tuple[int, bytes]:
    """Status and body of one request, redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def write_static_copies(port: int, site: Site, keys: Sequence[str]) -> None:
    """Each page as an anonymous reader gets it from the server, byte for byte, where
    nginx serves it at /bench-static/ (it reads the file at each request: no restart)."""
    write_tiny_file()
    for key in keys:
        path = site.paths.get(key)
        if path is None:
            continue
        status, body = get(port, path)
        if status == 200:
            target = static_copy(site.size.name, key)[0]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)


# -- measuring ------------------------------------------------------------------------


def wrk_command(
    port: int,
    path: str,
    threads: int,
    connections: int,
    duration: int,
    cookie: str | None = None,
    script: str = str(WRK_SCRIPT),
    script_args: Sequence[str] = (),
) -> list[str]:
    command = [
        "wrk",
        "--threads", str(threads),
        "--connections", str(connections),
        "--duration", f"{duration}s",
        "--timeout", WRK_TIMEOUT,
        "--script", script,
    ]  # fmt: skip
    if cookie:
        command += ["--header", f"Cookie: {cookie}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    return command + (["--", *script_args] if script_args else [])


def wrk_figures(stdout: str, stderr: str = "") -> dict[str, Any]:
    """The JSON line bench/wrk_report.lua prints."""
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk printed no figures:\n{stdout}\n{stderr}")


def wrk(port: int, page: Page, options: WrkOptions, duration: int) -> dict[str, Any]:
    command = wrk_command(
        port, page.path, options.threads, options.connections, duration, page.cookie
    )
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + WRK_SLACK, check=True
    )
    return wrk_figures(result.stdout, result.stderr)


def measure(port: int, page: Page, options: WrkOptions) -> dict[str, Any]:
    row: dict[str, Any] = {
        "page": page.key,
        "label": page.label,
        "path": page.path,
        "kind": page.kind,
        "session": page.key.partition(":")[2] if page.kind == "session" else None,
    }
    if page.path is None:
        return {**row, "skipped": "no such page in this database"}
    status, body = get(port, page.path, page.cookie)
    if status != 200:
        return {**row, "skipped": f"answered {status}, not 200"}
    if options.warmup:
        wrk(port, page, options, options.warmup)
    figures = wrk(port, page, options, options.duration)
    return {**row, "body_bytes": len(body), **summarise(figures)}


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    """wrk's figures as a row's: requests/s, latency in ms, errors."""
    seconds = figures["duration_us"] / 1e6
    errors = figures["errors"]
    return {
        "requests": figures["requests"],
        "seconds": round(seconds, 3),
        "rps": round(figures["requests"] / seconds, 1),
        "p50_ms": round(figures["latency_us"]["p50"] / 1000, 2),
        "p90_ms": round(figures["latency_us"]["p90"] / 1000, 2),
        "p99_ms": round(figures["latency_us"]["p99"] / 1000, 2),
        "max_ms": round(figures["latency_us"]["max"] / 1000, 2),
        "errors": errors,
        "flagged": sum(errors.values()) > 0,
    }


def bench_size(
    site: Site, options: WrkOptions, keys: Sequence[str] = tuple(LABELS), sessions: bool = True
) -> dict[str, Any]:
    """Every page of ``keys`` at one size, in the production stack with nginx's front
    cache, beside nginx's own static files and the one-line view."""
    size = site.size.name
    rows = []
    log = DATA_DIR / f"server-{size}.log"
    with running_server(site.env, log, SERVER_START_TIMEOUT, SERVER_STOP_TIMEOUT) as server:
        write_static_copies(server.port, site, keys)
        for page in pages_for(site, keys, sessions):
            row = measure(server.port, page, options)
            print(f"[{size}] {format_row(size, row)}", flush=True)
            rows.append(row)
    add_fractions(rows)
    return {
        "size": size,
        "database": str(site.database.relative_to(ROOT)),
        **site.seeding,
        "rows": rows,
    }
