"""The figures: a line per scenario as it ends, the table, and docs/reliability.md."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from tools import gunicorn as gunicorn_config
from tools.serve import ROOT

from .scenario import scenarios_for

DOC = ROOT / "docs" / "reliability.md"


def workers() -> int:
    return int(os.environ.get("WEB_CONCURRENCY") or gunicorn_config.default_workers())


def machine() -> dict[str, Any]:
    import django

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    try:
        postgres = subprocess.run(  # nosec B607 # the machine's own psql, found on PATH
            ["psql", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        postgres = "?"
    try:
        redis = (
            subprocess.run(  # nosec B607 # the machine's own redis-server, on PATH
                ["redis-server", "--version"], capture_output=True, text=True, timeout=10
            )
            .stdout.split()[2]
            .removeprefix("v=")
        )
    except (OSError, IndexError):
        redis = "?"
    return {
        "load_average": " ".join(f"{n:.1f}" for n in os.getloadavg()),
        "cores": gunicorn_config.available_cores(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.__version__,
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
        "redis": redis,
        "gunicorn": importlib.metadata.version("gunicorn"),
    }


def errors_text(statuses: dict[str, int]) -> str:
    bad = {k: v for k, v in statuses.items() if not k.isdigit() or int(k) >= 400}
    return ", ".join(f"{k}: {v}" for k, v in sorted(bad.items())) or "none"


def recovery_text(result: dict[str, Any]) -> str:
    rows = result["recovery"]
    mail = result.get("mail") or {}
    if "after_restart_s" in mail:
        return f"e-mail {mail['after_restart_s']:.1f} s after the mail server"
    if not rows:
        return "-"
    worst = max((r["site_recovery_s"] or 0) for r in rows)
    worst_client = max((r["client_recovery_max_s"] or 0) for r in rows)
    return f"{worst:.2f} s site, {worst_client:.2f} s slowest client"


def summary(result: dict[str, Any]) -> str:
    c = result["comments"]
    verdict = "passed" if not result["failures"] else "FAILED: " + "; ".join(result["failures"])
    posts = result.get("posts_in_mail_outage")
    outage_posts = f"; comment POSTs {posts}" if posts else ""
    return (
        f"  {result['requests']} requests in {result['elapsed_s']} s ({result['rps']} req/s), "
        f"statuses {result['statuses']}; comments sent {c['sent']}, accepted {c['accepted']}, "
        f"confirmed {c['confirmed']}, stored {c['stored']}; duplicates {len(c['duplicates'])}, "
        f"order collisions {len(c['order_collisions'])}; faults {result['faults']}; "
        f"recovery {result['recovery']}; cache warnings in log {result['log_cache_warnings']}; "
        f"latency {result['latency_ms']} by action {result['by_action']}; "
        f"e-mail {mail_text(result)}{outage_posts}\n"
        f"  {verdict}"
    )


def mail_text(result: dict[str, Any]) -> str:
    """The e-mail a run asked for: queued, received, duplicates."""
    mail = result.get("mail")
    if not mail:
        return "-"
    return (
        f"{mail['rows']} queued, {mail['received']} received, "
        f"{len(mail['duplicates'])} twice, {mail['waiting'] + mail['failed']} not sent"
    )


COLUMNS = [
    "database",
    "scenario",
    "requests",
    "req/s",
    "errors (status: count)",
    "sent",
    "accepted",
    "stored",
    "dupl.",
    "collisions",
    "503s in faults",
    "recovery",
    "e-mail",
    "result",
]


def fault_503s(r: dict[str, Any]) -> str:
    """503s during the faults: how many were a comment being saved (a POST, or the
    e-mailed link), and of those how many kept the reader's text."""
    saving = r["comment_posts_503_answers"] + r.get("confirm_503", 0)
    kept = r["comment_503_text_kept"] + r.get("confirm_503_text_kept", 0)
    return f"{r['expected_503']} ({saving} saving a comment, text kept {kept})"


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    table = []
    for r in results:
        c = r["comments"]
        table.append(
            [
                r["database"],
                r["scenario"],
                str(r["requests"]),
                f"{r['rps']:.1f}",
                errors_text(r["statuses"]),
                str(c["sent"]),
                str(c["confirmed"]),
                str(c["stored"]),
                str(len(c["duplicates"])),
                str(len(c["order_collisions"])),
                fault_503s(r),
                recovery_text(r),
                mail_text(r),
                "passed" if not r["failures"] else "FAILED",
            ]
        )
    return table


def table(results: list[dict[str, Any]]) -> str:
    body = rows(results)
    widths = [max(len(line[i]) for line in [COLUMNS, *body]) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
        for line in [COLUMNS, *body]
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def markdown_table(results: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(line) + " |" for line in rows(results)]
    return "\n".join(lines)


def write_doc(document: dict[str, Any]) -> None:
    DOC.write_text(render_doc(document))


def fault_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    kills = [f for f in result["faults"] if f["kind"] == "pg-kill"]
    for n, (fault, figures) in enumerate(zip(kills, result["recovery"], strict=False), 1):
        sessions = ", ".join(
            f"{count} {state}" for state, count in sorted(fault["sessions"].items())
        )
        failed = ", ".join(f"{k}: {v}" for k, v in sorted(figures["failed"].items())) or "none"
        lines.append(
            f"- kill {n} at {fault['at']:.1f} s ({sessions}"
            f"{'; aimed: a comment POST in flight' if fault['aimed'] else ''}): failed "
            f"requests {failed}; first 200 after {figures['site_recovery_s']} s, each client's "
            f"next 200 after {figures['client_recovery_median_s']} s (median), "
            f"{figures['client_recovery_max_s']} s (slowest)"
        )
    mail_stops = {f["kind"]: f["at"] for f in result["faults"] if f["kind"].startswith("mail")}
    if mail_stops:
        mail = result["mail"]
        lines.append(
            f"- the mail server stopped at {mail_stops.get('mail-stop', '?')} s, started again "
            f"at {mail_stops.get('mail-start', '?')} s: {mail['retried']} e-mails waited "
            f"(up to {mail['most_attempts']} attempts, retries 1, 2, 4… s apart here), and "
            f"the last arrived {mail.get('after_restart_s')} s after it came back (bound: the "
            f"outage's length + 15 s, {mail.get('bound_s')} s); "
            f"{result['mail_deferred']} readers opened their confirmation later, "
            f"{result['mail_deferred_confirmed']} of them confirmed"
        )
        posts = result["posts_in_mail_outage"]
        for label, key in (("while it was down", "during"), ("otherwise", "otherwise")):
            group = posts[key]
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(group["statuses"].items()))
            lines.append(
                f"- comment POSTs {label}: {group['count']} ({statuses or 'none'}), latency "
                f"p50 {group.get('p50')} ms, p90 {group.get('p90')} ms"
            )
    stops = {f["kind"]: f["at"] for f in result["faults"] if f["kind"].startswith("redis")}
    if stops:
        lines.append(
            f"- Redis stopped at {stops.get('redis-stop', '?')} s, started again at "
            f"{stops.get('redis-start', '?')} s; {result['log_cache_warnings']} "
            f'"Page cache … failed" warnings in the server log; '
            f"{result['cache_keys_after']} keys in Redis at the end (the cache in use again)"
        )
    return lines


def render_doc(document: dict[str, Any]) -> str:
    machine = document["machine"]
    options = document["options"]
    results = document["results"]
    details = []
    for r in results:
        c = r["comments"]
        details.append(
            f"### {r['database']}, {r['scenario']} (cache: {r['cache']}; run "
            f"{r.get('date', document['date'])[:10]})"
        )
        details.append("")
        details.append(
            f"{r['requests']} requests in {r['elapsed_s']} s ({r['rps']} req/s); latency "
            f"p50 {r['latency_ms'].get('p50')} ms, p99 {r['latency_ms'].get('p99')} ms. "
            f"Statuses: {', '.join(f'{k}: {v}' for k, v in r['statuses'].items())}."
        )
        details.append("")
        details.append(
            f"Comments: {c['sent']} sent ({c['signed_in']} signed in, {c['anonymous']} "
            f"anonymous; {c['targets'].get('hot', 0)} replies to the {3} hot comments, "
            f"{c['targets'].get('reply', 0)} to other comments, {c['targets'].get('new', 0)} "
            f"new threads), {c['post_attempts']} POSTs, {c['accepted']} accepted, "
            f"{c['confirmed']} confirmed or saved, {c['stored']} stored; "
            f"{c['double_confirmed']} links followed twice; duplicates "
            f"{len(c['duplicates'])}, lost {len(c['lost'])}, stored but not accepted "
            f"{len(c['stored_not_accepted'])}; order collisions "
            f"{len(c['order_collisions'])}, thread order problems {c['tree_problem_count']} "
            f"({c['comments_in_database']} comments in {c['threads']} threads, "
            f"deepest level {c['deepest_level']})."
        )
        mail = r.get("mail")
        if mail:
            kinds = ", ".join(f"{v} {k}" for k, v in sorted(mail["by_kind"].items()))
            details.append("")
            details.append(
                f"E-mail: {mail['rows']} queued ({kinds}), {mail['sent']} sent, "
                f"{mail['received']} received by the mail server; received twice "
                f"{len(mail['duplicates'])}, marked sent but never received "
                f"{len(mail['missing'])}, not sent in the end {mail['waiting'] + mail['failed']}; "
                f"the last {mail['last_received_s']} s into the run."
            )
        if r["scenario"] == "pg-kill":
            details.append("")
            details.append(
                f"503s during the faults: {r['expected_503']} (comment POSTs: "
                f"{r['comment_posts_503']}, each with the reader's text in the page: "
                f"{r['comment_503_text_kept']} of {r['comment_posts_503_answers']}"
                f"; sent again and accepted: {r['comment_posts_503_then_accepted']}; "
                f"confirmation links: {r['confirm_503']}, with the text: "
                f"{r['confirm_503_text_kept']}; comment forms: {r['comment_forms_503']})."
            )
        lines = fault_lines(r)
        if lines:
            details += ["", *lines]
        details.append("")
        details.append(
            "Result: passed."
            if not r["failures"]
            else "Result: FAILED: " + "; ".join(r["failures"])
        )
        details.append("")
    ran = {(r["database"], r["scenario"]) for r in results}
    missing = [
        f"{kind} {scenario.name}"
        for kind in ("sqlite", "postgres")
        for scenario in scenarios_for(kind)
        if (kind, scenario.name) not in ran
    ]
    table = markdown_table(results)
    if missing:
        table += f"\n\nNot run yet: {', '.join(missing)}."
    return DOC_TEXT.format(
        date=document["date"][:10],
        table=table,
        details="\n".join(details).rstrip(),
        clients=options["clients"],
        comments=options["comments"],
        seed=options["seed"],
        workers=options["workers"],
        elapsed=round(document["elapsed_s"] / 60, 1),
        **{"load_average": "?", **machine},
    )


DOC_TEXT = """\
# Reliability

How the site behaves under concurrent load and when PostgreSQL, Redis or the mail
server fails, and how to check it again. The figures below are the output of
`make reliability`, written by it (`--write-doc`), last on {date}: a run of some of the
scenarios replaces their figures and keeps the others' (each section gives its run's
date). The full JSON is `tests/reliability/results.json`.

## Reproduce

```sh
make reliability                                   # both databases, every scenario
make reliability RELIABILITY_ARGS="--db sqlite"    # SQLite only
make reliability RELIABILITY_ARGS="--db sqlite --scenarios mail-outage"   # one scenario
make reliability RELIABILITY_ARGS="--write-doc"    # and rewrite this page
```

`python -m tests.reliability --help` lists the options (`--clients`, `--comments`,
`--duration`, `--seed`, `--workers`, `--scenarios`: load, pg-kill, redis-stop,
mail-outage). The same scenarios, smaller, run in
the test suite (`tests/test_reliability.py`, marker `reliability`): on SQLite in
`make test`, on PostgreSQL with Redis in `make test-postgres`;
`pytest -m "not reliability"` leaves them out.

## What is tested

- **The server** is started exactly as `make serve` starts it (`tools.serve`: the same
  environment, `migrate`, `load_april_2014`, `collectstatic`, nginx in front of gunicorn
  with `tools/gunicorn.py`, {workers} sync workers here, every request through nginx, and
  the e-mail worker `manage.py worker` beside them) on a fresh database: a temporary
  SQLite file (WAL, `BEGIN IMMEDIATE`, 20 s busy timeout, as in production), or a
  PostgreSQL database of its own, created for the run and dropped after it. The
  settings are production's (`tests/reliability/settings.py`) with one change: the
  per-address comment limit is raised, since every client is 127.0.0.1 (it stays on,
  counted in the cache). E-mail goes as in production, queued by the request and sent
  by the worker over SMTP, to a real SMTP server on loopback (aiosmtpd,
  `tests/mail/smtp.py`), where the harness reads the confirmation links; every comment
  saved is also e-mailed to a moderator, and a failed attempt is retried after 1, 2,
  4… seconds (`BLOG_MAIL_RETRY_BASE=1`; production: minutes).
- **The load**: {clients} concurrent clients (threads, one HTTP session each, seed
  {seed}) send {comments} comments between them, reading 1 to 3 pages before each (home,
  archives, tags, posts, a discussion's second page, feeds, search, sitemap). To comment
  a client loads the post page or the reply page, takes the form's security fields and
  CSRF token from the HTML and posts: half the comments answer one of three "hot"
  comments, at the same moments; three in ten answer a comment posted earlier in the
  run; the rest start threads. Every third client is signed in (its comment is saved in
  the POST); the others follow the link e-mailed to them (one in twenty follows it
  twice). One comment in five is then looked for where the site says it is.
- **The checks**, against the database afterwards: no 5xx (but the 503s a fault
  calls for), every request answered; every accepted comment (302, and confirmed for
  anonymous readers) stored exactly once, under the id the site gave, and nothing
  stored that was not accepted (each comment carries a unique marker); no two
  comments at the same position of a thread; every level one below its parent's; and
  each thread's order a depth-first walk of its tree, positions 1 to n. Every e-mail
  the run asked for (a row of the outbox) sent, and received by the mail server exactly
  once (by address, subject and text): none twice, none lost, none left waiting; and
  each confirmation e-mail within 15 s of the comment (but in the mail-server outage).
- **PostgreSQL killed** (`pg-kill`): at every tenth of the comments from 10 to 80 %,
  `pg_terminate_backend` on every session of the site's database, aimed (waiting up to
  3 s) at a moment when a comment POST is in flight and a session is writing.
  Requests hit by it must answer 503 (a comment POST with the reader's text in the
  form), the site must answer the next request, and no committed comment may be lost
  (a confirmation link that meets it answers 503 with the text too, and is followed
  again). A reader whose comment got a 503 reloads and sends it again. Recovery time
  is from the kill to the first 200 of a request started after it (for the site, and
  for each client): it includes that request's own time.
- **Redis stopped** (`redis-stop`): the page cache is a private `redis-server` (no
  persistence) stopped at 30 % of the comments and started again at 70 %. Pages must
  keep being served from the database, with a warning that the cache failed in the
  server's log (each worker then leaves the cache alone for 5 s, so one warning per
  worker every 5 s at most), and comments keep being accepted (the rate limit lets them
  through when its counter cannot be reached).
- **The mail server stopped** (`mail-outage`): the SMTP server is stopped at 30 % of
  the comments (what it has not answered 250 is refused, open connections closed) and
  started again, on the same port, at 60 %. Comments must keep being accepted: every
  comment POST sent while it is down answers 302, as the others do, with a p90 latency
  no worse than twice theirs plus 0.5 s (none waits on the mail server: the request
  only writes the e-mail's row). An anonymous reader whose e-mail has not come within
  3 s goes on commenting and opens it later. Once it is back, every e-mail of the run
  must arrive exactly once, the last within the outage's length plus 15 s of its
  return (retries double their wait, so the one due after the return is due within
  the outage's length), and every comment waiting for its link be confirmed.

## The run

{table}

"errors" lists every status of 400 and above and every request without an answer;
"accepted" counts comments confirmed (anonymous) or saved (signed in); "503s in faults"
counts the 503 answers in the seconds after a kill, and among them those that were
saving a comment (its POST, or its e-mailed link) and how many of those showed the
reader's text; "e-mail" the e-mails queued, received by the mail server, received
twice, and left unsent ("-": a run from before e-mail went through the worker and was
checked). The latest run took {elapsed} minutes.

{details}

## The machine

{cores} cores ({cpu}), {platform}; Python {python}, Django {django}, SQLite {sqlite},
{postgresql}, Redis {redis}, gunicorn {gunicorn}. The clients run on the same machine
as the server, the database and the cache, so the request rates are those of this
whole set-up on loopback, not a capacity; and with {clients} clients sharing {workers}
workers, most of a request's latency is its wait for a worker. Load average when the
run began: {load_average} (other work on the machine slows every figure).
"""
