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


def describe(page: Page) -> dict[str, Any]:
    return {
        "page": page.key,
        "label": page.label,
        "path": page.path,
        "kind": page.kind,
        "session": page.key.partition(":")[2] if page.kind == "session" else None,
    }


def ready(port: int, page: Page) -> tuple[dict[str, Any], bytes | None]:
    """The row's description, and the page's body if it answers 200 (else the row says
    why it was skipped)."""
    row = describe(page)
    if page.path is None:
        return {**row, "skipped": "no such page in this database"}, None
    status, body = get(port, page.path, page.cookie)
    if status != 200:
        return {**row, "skipped": f"answered {status}, not 200"}, None
    return row, body


def measure(port: int, page: Page, options: WrkOptions) -> dict[str, Any]:
    row, body = ready(port, page)
    if body is None:
        return row
    if options.warmup:
        wrk(port, page, options, options.warmup)
    figures = wrk(port, page, options, options.duration)
    return {**row, "body_bytes": len(body), **summarise(figures)}


# Pages compared with each other (a page and its static copy, for goal 1; a page on the
# two pairs of backends, for goal 4) are measured in turns, this many rounds each, so
# that what else the machine does in the run weighs on each alike.
ROUNDS = 3


def measure_in_turns(
    targets: Sequence[tuple[int, Page]], options: WrkOptions
) -> list[dict[str, Any]]:
    """Each (port, page) of ``targets``, in ``ROUNDS`` interleaved rounds of at least
    2 s (the run's duration, at least, over all of them): requests/s over all rounds,
    latency from the round with the median rate. A page that does not answer 200 is
    skipped, saying why, and the others measured on their own."""
    prepared = [ready(port, page) for port, page in targets]
    if any(body is None for _, body in prepared):
        return [
            row if body is None else measure(port, page, options)
            for (port, page), (row, body) in zip(targets, prepared, strict=True)
        ]
    seconds = max(2, -(-options.duration // ROUNDS))
    if options.warmup:
        for port, page in targets:
            wrk(port, page, options, options.warmup)
    rounds: list[list[dict[str, Any]]] = [[] for _ in targets]
    for _ in range(ROUNDS):
        for each, (port, page) in zip(rounds, targets, strict=True):
            each.append(summarise(wrk(port, page, options, seconds)))
    return [
        {**row, "body_bytes": len(body), **combined(each)}
        for (row, body), each in zip(prepared, rounds, strict=True)
    ]


def combined(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one page as one row: its requests over their seconds; the latencies of
    the round with the median rate; every round's errors."""
    requests = sum(each["requests"] for each in rounds)
    seconds = sum(each["seconds"] for each in rounds)
    median = sorted(rounds, key=lambda each: each["rps"])[len(rounds) // 2]
    errors: dict[str, int] = {}
    for each in rounds:
        for name, count in each["errors"].items():
            errors[name] = errors.get(name, 0) + count
    return {
        **median,
        "requests": requests,
        "seconds": round(seconds, 3),
        "rps": round(requests / seconds, 1),
        "errors": errors,
        "flagged": sum(errors.values()) > 0,
        "rounds_rps": [each["rps"] for each in rounds],
    }


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
        pages = pages_for(site, keys, sessions)
        copies = {page.key: page for page in pages if page.kind == "static"}
        for page in pages:
            if page.kind == "static":
                continue  # measured beside its page
            copy = copies.get(f"{page.key}:static") if page.kind == "page" else None
            if copy is None:
                measured = [measure(server.port, page, options)]
            else:
                measured = measure_in_turns([(server.port, page), (server.port, copy)], options)
            for row in measured:
                print(f"[{size}] {format_row(size, row)}", flush=True)
                rows.append(row)
    add_fractions(rows)
    return {
        "size": size,
        "database": str(site.database.relative_to(ROOT)),
        **site.seeding,
        "rows": rows,
    }
