"""One scenario: the site started as `make serve` starts it, the load, the faults at
fixed points of the load's progress, then the checks and the figures."""

from __future__ import annotations

import contextlib
import secrets
import statistics
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.mail.smtp import SmtpSink
from tools.serve import running_server

from . import site
from .checks import check_comments, check_mail, mail_key
from .client import MAIL_WAIT
from .load import Plan, join_clients, read_paths, run_load
from .records import Record

START_TIMEOUT = 30
STOP_TIMEOUT = 15
AIM_WAIT = 3  # seconds to wait for a comment write in progress to aim a kill at
FAULT_WINDOW = 10  # seconds after a kill in which a 503 is expected, not a failure
SEED_THREADS = 60  # on the hot post: more than one page of its discussion (50 a page)
HOT_COMMENTS = 3
READERS = 10  # signed-in accounts
# While the mail server is down a reader waits this long for their e-mail, then goes on
# commenting and opens it later.
OUTAGE_MAIL_WAIT = 3
# Every e-mail sent this long after the last one was asked for: retries wait 1, 2, 4…
# seconds, so the one due after the server comes back is due within the outage's length.
MAIL_SETTLE = 30


@dataclass(frozen=True)
class Scenario:
    name: str
    # "locmem", "redis" (the shared server, a database of its own) or "private-redis"
    cache: str
    kills: tuple[float, ...] = ()  # PostgreSQL: kill the site's sessions at these fractions
    redis_stop: tuple[float, float] | None = None  # stop and start again at these fractions
    mail_stop: tuple[float, float] | None = None  # the SMTP server: stopped, started again


SCENARIOS = {
    "load": Scenario("load", cache="locmem"),
    "load-redis": Scenario("load", cache="redis"),
    # Eight kills: each is aimed at a comment being written, but whether that is a POST
    # or a confirmation link is chance; eight make a POST among them near certain.
    "pg-kill": Scenario("pg-kill", cache="redis", kills=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)),
    "redis-stop": Scenario("redis-stop", cache="private-redis", redis_stop=(0.3, 0.7)),
    "mail-outage": Scenario("mail-outage", cache="locmem", mail_stop=(0.3, 0.6)),
    "mail-outage-redis": Scenario("mail-outage", cache="redis", mail_stop=(0.3, 0.6)),
}


def scenarios_for(kind: str) -> list[Scenario]:
    if kind == "postgres":
        return [
            SCENARIOS["load-redis"],
            SCENARIOS["pg-kill"],
            SCENARIOS["redis-stop"],
            SCENARIOS["mail-outage-redis"],
        ]
    return [SCENARIOS["load"], SCENARIOS["redis-stop"], SCENARIOS["mail-outage"]]


@dataclass
class Prepared:
    """A database prepared as `make serve` prepares it, and what the setup made."""

    database: site.Database
    folder: Path
    static_root: Path
    shared_redis_url: str
    setup: dict[str, Any] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))

    def env(self, cache_url: str = "locmem://", smtp_port: int = 25) -> dict[str, str]:
        return site.server_environment(
            self.database.url, smtp_port, self.static_root, self.secret_key, cache_url
        )


@contextlib.contextmanager
def prepared_site(
    kind: str, folder: Path, shared_redis_url: str, postgres_url: str, database_name: str
) -> Iterator[Prepared]:
    """A fresh database of ``kind``, migrated, with the April 2014 entries, the static
    files, signed-in readers and a seeded discussion; dropped afterwards."""
    if kind == "postgres":
        database_context = site.postgres_database(postgres_url, database_name)
    else:
        database_context = site.sqlite_database(folder)
    with database_context as database:
        prepared = Prepared(database, folder, folder / "static", shared_redis_url)
        env = prepared.env()
        site.prepare(env)
        prepared.setup = site.dbtool(env, "setup", str(READERS), str(SEED_THREADS))
        yield prepared


def run_scenario(
    prepared: Prepared,
    scenario: Scenario,
    *,
    clients: int,
    comments: int,
    duration: float,
    seed: int,
    code: str,
) -> dict[str, Any]:
    """Run ``scenario`` on ``prepared``; its figures and the checks' findings."""
    folder = prepared.folder / scenario.name
    folder.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        redis_server = None
        # Without a shared Redis server to use, a private one stands in for it.
        if scenario.cache == "private-redis" or (
            scenario.cache == "redis" and not prepared.shared_redis_url
        ):
            redis_server = stack.enter_context(site.private_redis(folder))
            cache_url = redis_server.url
        elif scenario.cache == "redis":
            cache_url = prepared.shared_redis_url
            site.flush_redis(cache_url)
        else:
            cache_url = "locmem://"
        # The mail server, on loopback: what the worker sends confirmations to.
        sink = stack.enter_context(SmtpSink())
        env = prepared.env(cache_url, sink.port)
        log_path = folder / "server.log"
        setup = prepared.setup
        posts = {post["pk"]: post["url"] for post in setup["posts"]}
        mail_before = site.last_mail_id(prepared.database)
        with running_server(env, log_path, START_TIMEOUT, STOP_TIMEOUT) as server:
            port = server.port
            base_url = f"http://127.0.0.1:{port}"
            plan = Plan(
                base_url=base_url,
                read_paths=read_paths(base_url, posts, setup["hot_post"]),
                posts=posts,
                hot_post=setup["hot_post"],
                hot_comments=[c["id"] for c in setup["seeded"][:HOT_COMMENTS]],
                sessions=setup["sessions"],
                session_cookie=setup["session_cookie"],
                clients=clients,
                comments=comments,
                deadline=time.monotonic() + duration,
                seed=seed,
                prefix=code,
                mail_wait=OUTAGE_MAIL_WAIT if scenario.mail_stop else MAIL_WAIT,
            )
            run, client_threads = run_load(plan, sink, setup["seeded"])
            faults: list[dict[str, Any]] = []
            injector = threading.Thread(
                target=inject_faults,
                args=(
                    run, scenario, prepared, redis_server, sink, comments, plan.deadline, faults
                ),
                daemon=True,
            )  # fmt: skip
            injector.start()
            harness_problems = join_clients(client_threads, plan.mail_deadline + 60)
            elapsed = run.now()
            injector.join(timeout=30)
            if not sink.running:  # the load ended before the injector started it again
                sink.start()
                faults.append({"kind": "mail-start", "at": round(run.now(), 3), "late": True})
            cache_keys = cache_used_again(base_url, redis_server.url) if redis_server else None
            # The worker is still running: every e-mail the run asked for is sent first.
            mail_rows = settle_mail(prepared.database, mail_before, sink, faults, run)
        sink.save(folder / "mail")
        mail = check_mail(mail_rows, sink.messages)
        mail.update(mail_timing(mail_rows, sink.messages, faults, run.started))
        rows = site.dbtool(env, "dump")
        if cache_url == prepared.shared_redis_url:
            site.flush_redis(cache_url)  # leave the shared server's database as found
    log = log_path.read_text(errors="replace")
    return figures(
        scenario,
        prepared,
        run.records,
        run.submissions,
        rows,
        faults,
        elapsed,
        log,
        harness_problems,
        code,
        cache_keys,
        clients,
        comments,
        mail,
    )


def settle_mail(
    database: site.Database,
    after: int,
    sink: SmtpSink,
    faults: list[dict[str, Any]],
    run,
) -> list[dict[str, Any]]:
    """The outbox's rows of the run once none waits any more (or MAIL_SETTLE seconds,
    plus the outage's length, after the load), with the SMTP server gone quiet."""
    times = {f["kind"]: f["at"] for f in faults}
    outage = times.get("mail-start", 0) - times.get("mail-stop", 0)
    deadline = time.monotonic() + MAIL_SETTLE + max(outage, 0)
    while True:
        rows = site.mail_rows(database, after)
        waiting = [row for row in rows if row["status"] in ("queued", "sending")]
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    sink.wait_quiet(2, 10)
    return site.mail_rows(database, after)


def mail_timing(
    rows: list[dict[str, Any]], messages, faults: list[dict[str, Any]], started: float
) -> dict[str, Any]:
    """When the last e-mail arrived; and when the last of those the outage delayed
    (tried more than once) did, after the mail server came back."""
    times = {f["kind"]: f["at"] for f in faults}
    last = round(max((m.at for m in messages), default=started) - started, 3)
    timing: dict[str, Any] = {"last_received_s": last}
    if "mail-start" in times and "mail-stop" in times:
        outage = times["mail-start"] - times["mail-stop"]
        delayed = {mail_key(r["to"], r["subject"], r["body"]) for r in rows if r["attempts"]}
        arrivals = [
            m.at - started for m in messages if mail_key(m.to, m.subject, m.text) in delayed
        ]
        timing["outage_s"] = round(outage, 3)
        timing["after_restart_s"] = round(max(arrivals, default=0) - times["mail-start"], 3)
        # Retries double their wait: the one due after the restart is due within the
        # outage's length; a few seconds more for the worker's poll and the sending.
        timing["bound_s"] = round(outage + 15, 3)
    return timing


def inject_faults(
    run,
    scenario: Scenario,
    prepared: Prepared,
    redis_server,
    sink: SmtpSink,
    comments: int,
    deadline: float,
    faults: list[dict[str, Any]],
) -> None:
    """At fixed fractions of the comments done: kill PostgreSQL's sessions, stop Redis
    and start it again, or stop the mail server and start it again."""
    try:
        for fraction in scenario.kills:
            if not run.wait_for(int(comments * fraction), deadline):
                return
            aimed = site.comment_write_in_progress(
                prepared.database, AIM_WAIT, lambda: run.posting > 0
            )
            at = run.now()
            states = site.terminate_site_sessions(prepared.database)
            faults.append(
                {
                    "kind": "pg-kill",
                    "at": round(at, 3),
                    "aimed": aimed,
                    "sessions": dict(Counter(states)),
                }
            )
        if scenario.redis_stop and redis_server is not None:
            stop_at, start_at = scenario.redis_stop
            if not run.wait_for(int(comments * stop_at), deadline):
                return
            at = run.now()
            redis_server.stop()
            faults.append({"kind": "redis-stop", "at": round(at, 3)})
            if not run.wait_for(int(comments * start_at), deadline):
                return
            redis_server.start()
            faults.append({"kind": "redis-start", "at": round(run.now(), 3)})
        if scenario.mail_stop:
            stop_at, start_at = scenario.mail_stop
            if not run.wait_for(int(comments * stop_at), deadline):
                return
            at = run.now()
            sink.stop()
            faults.append({"kind": "mail-stop", "at": round(at, 3)})
            if not run.wait_for(int(comments * start_at), deadline):
                return
            sink.start()
            faults.append({"kind": "mail-start", "at": round(run.now(), 3)})
    except Exception as error:
        faults.append({"kind": "injector-error", "error": repr(error)})


# Each worker asks a cache that failed again only after BLOG_CACHE_RETRY_SECONDS (5),
# which the end of a short run may not reach: reads go on, this long at most, until the
# restarted Redis holds pages again.
CACHE_BACK_WITHIN = 20.0


def cache_used_again(base_url: str, redis_url: str) -> int | None:
    """The keys in the restarted Redis once an anonymous reader's pages are stored
    there again (or, after CACHE_BACK_WITHIN seconds of reads, as many as it holds)."""
    deadline = time.monotonic() + CACHE_BACK_WITHIN
    while True:
        keys = redis_keys(redis_url)
        if keys or time.monotonic() > deadline:
            return keys
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{base_url}/", timeout=5).close()  # nosec B310 # loopback
        time.sleep(0.25)


def redis_keys(url: str) -> int | None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return client.dbsize()
    except redis.RedisError:
        return None
    finally:
        client.close()


def recovery(records: list[Record], at: float) -> dict[str, Any]:
    """After a fault at ``at``: the requests that failed, and how long until each
    client (and the site) next answered 200."""
    failed = [
        r
        for r in records
        if r.end >= at and r.start <= at + FAULT_WINDOW and (r.status is None or r.status >= 500)
    ]
    per_client = {}
    for record in sorted(records, key=lambda r: r.end):
        if record.start >= at and record.status == 200 and record.client not in per_client:
            per_client[record.client] = record.end - at
    times = sorted(per_client.values())
    return {
        "failed": dict(Counter(f"{r.action} {r.status or r.error}" for r in failed)),
        "site_recovery_s": round(times[0], 3) if times else None,
        "client_recovery_median_s": round(statistics.median(times), 3) if times else None,
        "client_recovery_max_s": round(times[-1], 3) if times else None,
    }


def figures(
    scenario,
    prepared,
    records,
    submissions,
    rows,
    faults,
    elapsed,
    log,
    harness_problems,
    code,
    cache_keys,
    clients,
    planned,
    mail,
) -> dict[str, Any]:
    kills = [f["at"] for f in faults if f["kind"] == "pg-kill"]

    def expected(record: Record) -> bool:
        # A 503 in the moments after a kill is the site saying so, as it should.
        return record.status == 503 and any(
            at <= record.end and record.start <= at + FAULT_WINDOW for at in kills
        )

    statuses = Counter(str(r.status) if r.status is not None else r.error for r in records)
    server_errors = [r for r in records if r.status is not None and r.status >= 500]
    unexpected = [r for r in server_errors if not expected(r)]
    no_response = [r for r in records if r.status is None]
    comments = check_comments(rows, submissions, code)
    posts_503 = [s for s in submissions if 503 in s.statuses]
    forms_503 = [s for s in submissions if 503 in s.form_statuses]
    kept = [k for s in submissions for k in s.text_kept]
    confirm_kept = [k for s in submissions for k in s.confirm_text_kept]
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "database": prepared.database.kind,
        "cache": scenario.cache,
        "clients": clients,
        "comments_planned": planned,
        "elapsed_s": round(elapsed, 1),
        "requests": len(records),
        "rps": round(len(records) / elapsed, 1) if elapsed else None,
        "statuses": dict(sorted(statuses.items())),
        "by_action": {
            action: dict(Counter(str(r.status or r.error) for r in records if r.action == action))
            for action in ("read", "form", "post", "confirm", "verify")
        },
        "latency_ms": latency(records),
        "server_errors": len(server_errors),
        "unexpected_5xx": [f"{r.action} {r.label} {r.status} at {r.end:.2f}s" for r in unexpected],
        "no_response": [f"{r.action} {r.label} {r.error} at {r.end:.2f}s" for r in no_response],
        "expected_503": len(server_errors) - len(unexpected),
        "comment_posts_503": len(posts_503),
        "comment_posts_503_then_accepted": sum(1 for s in posts_503 if s.accepted),
        "comment_forms_503": len(forms_503),
        "comment_503_text_kept": sum(kept),
        "comment_503_text_lost": len(kept) - sum(kept),
        "comment_posts_503_answers": len(kept),
        "confirm_503": len(confirm_kept),
        "confirm_503_text_kept": sum(confirm_kept),
        "own_comment_missing": sum(1 for r in records if r.label == "own comment missing"),
        "comments": comments,
        "faults": faults,
        "recovery": [recovery(records, at) for at in kills],
        "log_cache_warnings": log.count("Page cache "),
        # Any caller's warning that the cache failed (blog.faults.cachefaults): after one, each
        # worker leaves the cache alone for a few seconds, so the first failure a worker
        # meets may be the comment rate limit's rather than the page cache's.
        "log_cache_fault_warnings": log.count("failed; serving from the database"),
        "log_internal_errors": log.count("Internal Server Error"),
        "log_tracebacks": log.count("Traceback"),
        "cache_keys_after": cache_keys,
        "harness_problems": harness_problems,
        "mail": mail,
        "mail_deferred": sum(1 for s in submissions if s.mail_deferred),
        "mail_deferred_confirmed": sum(1 for s in submissions if s.mail_deferred and s.confirmed),
        "posts_in_mail_outage": posts_in_outage(records, faults),
    }
    result["failures"] = failures(result)
    return result


def posts_in_outage(records: list[Record], faults: list[dict[str, Any]]) -> dict[str, Any]:
    """The comment POSTs sent while the mail server was down, against the others:
    statuses and latency."""
    times = {f["kind"]: f["at"] for f in faults}
    if "mail-stop" not in times:
        return {}
    stop, start = times["mail-stop"], times.get("mail-start", float("inf"))
    posts = [r for r in records if r.action == "post"]
    during = [r for r in posts if stop <= r.start <= start]
    others = [r for r in posts if not stop <= r.start <= start]

    def summary(group: list[Record]) -> dict[str, Any]:
        return {
            "count": len(group),
            "statuses": dict(Counter(str(r.status or r.error) for r in group)),
            **latency(group, (50, 90)),
        }

    return {"during": summary(during), "otherwise": summary(others)}


def latency(records: list[Record], percentiles: tuple[int, ...] = (50, 99)) -> dict[str, float]:
    times = sorted((r.end - r.start) * 1000 for r in records if r.status is not None)
    if not times:
        return {}
    found = {f"p{p}": round(times[int(len(times) * p / 100)], 1) for p in percentiles}
    return {**found, "max": round(times[-1], 1)}


def failures(result: dict[str, Any]) -> list[str]:
    """What the run must not show; empty when it passed."""
    found = []
    comments = result["comments"]
    if result["unexpected_5xx"]:
        found.append(
            f"{len(result['unexpected_5xx'])} unexpected 5xx: {result['unexpected_5xx'][:5]}"
        )
    if result["no_response"]:
        found.append(
            f"{len(result['no_response'])} requests without a response: {result['no_response'][:5]}"
        )
    if comments["sent"] < result.get("comments_planned", comments["sent"]):
        found.append("not every comment was sent before the deadline")
    for key, label in [
        ("duplicates", "stored more than once"),
        ("lost", "accepted but not stored"),
        ("stored_not_accepted", "stored but never accepted"),
        ("wrong_id", "stored under another id than the site said"),
        ("order_collisions", "positions held by two comments"),
    ]:
        if comments[key]:
            found.append(f"{len(comments[key])} {label}: {comments[key][:5]}")
    if comments["tree_problem_count"]:
        found.append(
            f"{comments['tree_problem_count']} thread order problems: "
            f"{comments['tree_problems'][:3]}"
        )
    if comments["accepted_unconfirmed"]:
        found.append(f"{comments['accepted_unconfirmed']} accepted comments never confirmed")
    if result["confirm_503"] != result["confirm_503_text_kept"]:
        lost = result["confirm_503"] - result["confirm_503_text_kept"]
        found.append(f"{lost} confirmation 503s without the reader's text")
    if result["comment_503_text_lost"]:
        found.append(f"{result['comment_503_text_lost']} comment 503s without the reader's text")
    if result["own_comment_missing"]:
        found.append(f"{result['own_comment_missing']} comments missing from their page")
    if result["log_internal_errors"]:
        found.append(f"{result['log_internal_errors']} 'Internal Server Error' in the server log")
    if result["harness_problems"]:
        found.append(f"harness: {result['harness_problems']}")
    if any(f["kind"] == "injector-error" for f in result["faults"]):
        found.append(f"fault injection failed: {result['faults']}")
    if result["scenario"] == "redis-stop":
        if not any(f["kind"] == "redis-stop" for f in result["faults"]):
            found.append("Redis was never stopped")
        elif not result["log_cache_fault_warnings"]:
            found.append("no '… failed; serving from the database' warning in the server log")
    found += mail_failures(result)
    if result["scenario"] == "pg-kill":
        if len([f for f in result["faults"] if f["kind"] == "pg-kill"]) == 0:
            found.append("no PostgreSQL session was killed")
        for n, figures in enumerate(result["recovery"], 1):
            if figures["site_recovery_s"] is None:
                found.append(f"the site never answered 200 after kill {n}")
    return found


# While the mail server is down a comment's POST must answer as it does otherwise: the
# same status, and a latency of the same order (the load's own spread allowed for).
OUTAGE_LATENCY_FACTOR = 2
OUTAGE_LATENCY_SLACK_MS = 500


def mail_failures(result: dict[str, Any]) -> list[str]:
    """Every e-mail the run asked for sent, each received once; and through the mail
    server's outage, comments answered as ever and the e-mail delivered in time."""
    found = []
    mail = result["mail"]
    if not mail["rows"]:
        found.append("no e-mail was queued")
    if mail["waiting"] or mail["failed"]:
        found.append(
            f"{mail['waiting']} e-mails still waiting and {mail['failed']} failed at the end: "
            f"{mail['unsent'][:3]}"
        )
    if mail["duplicates"]:
        found.append(f"{len(mail['duplicates'])} e-mails received more than once")
    if mail["missing"]:
        found.append(f"{len(mail['missing'])} e-mails marked sent were never received")
    if mail["unexpected"]:
        found.append(f"{len(mail['unexpected'])} e-mails received that no row asked for")
    if result["scenario"] != "mail-outage":
        if result["mail_deferred"]:
            found.append(
                f"{result['mail_deferred']} confirmation e-mails took longer than {MAIL_WAIT} s"
            )
        return found
    kinds = [f["kind"] for f in result["faults"]]
    if "mail-stop" not in kinds:
        return [*found, "the mail server was never stopped"]
    if not mail["retried"]:
        found.append("no e-mail met the outage (none was retried)")
    if mail.get("after_restart_s", 0) > mail.get("bound_s", 0):
        found.append(
            f"the last e-mail came {mail['after_restart_s']} s after the mail server did, "
            f"more than {mail['bound_s']} s"
        )
    posts = result["posts_in_mail_outage"]
    during, otherwise = posts["during"], posts["otherwise"]
    if not during["count"]:
        found.append("no comment was posted while the mail server was down")
    elif set(during["statuses"]) != {"302"}:
        found.append(f"comment POSTs answered {during['statuses']} while the mail server was down")
    elif during.get("p90", 0) > (
        OUTAGE_LATENCY_FACTOR * otherwise.get("p90", 0) + OUTAGE_LATENCY_SLACK_MS
    ):
        found.append(
            f"comment POSTs slower while the mail server was down: p90 {during['p90']} ms "
            f"against {otherwise.get('p90')} ms"
        )
    return found
