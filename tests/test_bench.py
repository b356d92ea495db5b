"""`make bench`'s pure parts: the fractions and goals computed from a run's figures, the
tables printed, the stampede's window statistics, the pages measured. No server, no
database: the benchmark itself is `make bench`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.data import BUILT_QUERY, Site, Size, pages_for
from bench.measure import combined, summarise, wrk_command
from bench.report import (
    WORDPRESS,
    add_fractions,
    backends_table,
    format_goals,
    goals,
    missed,
    p50_ratios,
    shown,
    stampede_table,
    table,
)
from bench.stampede import Sample, Timing, by_kind, percentile, timeline, window_stats, windows


def row(page: str, rps: float, kind: str = "page", p50: float = 1.0) -> dict[str, Any]:
    return {
        "page": page,
        "label": page,
        "kind": kind,
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p50 * 3,
        "errors": {},
        "flagged": False,
    }


def size_result(size: str = "april-2014", p50: float = 1.0) -> dict[str, Any]:
    rows = [
        row("tiny", 40_000, "reference", p50),
        row("hello", 2_000, "reference", p50),
        row("home", 10_000, "page", p50),
        row("home:static", 20_000, "static", p50),
        row("home:signed-in", 300, "session", p50),
        row("home:staff", 280, "session", p50),
        row("post-200", 2_000, "page", p50),
        row("post-200:static", 2_500, "static", p50),
        row("post-200:signed-in", 20, "session", p50),
        row("post-200:built", 30, "built", p50),
    ]
    add_fractions(rows)
    return {"size": size, "rows": rows}


# -- fractions --------------------------------------------------------------------------


def test_each_page_is_over_its_own_static_copy_and_the_tiny_file():
    rows = {r["page"]: r for r in size_result()["rows"]}
    assert rows["home"]["of_static"] == 0.5
    assert rows["home"]["of_tiny"] == 0.25
    assert rows["post-200"]["of_static"] == 0.8
    assert rows["home:static"]["of_static"] == 1.0
    # The references have no copy of their own.
    assert rows["tiny"]["of_static"] is None
    assert rows["hello"]["of_tiny"] == 0.05


def test_only_readers_pages_are_over_wordpress_and_only_where_it_was_measured():
    rows = {r["page"]: r for r in size_result()["rows"]}
    assert rows["home"]["of_wordpress"] == round(10_000 / WORDPRESS["home"], 1)
    assert rows["home:signed-in"]["of_wordpress"] == round(300 / 29, 1)
    assert rows["post-200:signed-in"]["of_wordpress"] == 8.0
    for page in ("home:static", "post-200:built", "tiny", "hello"):
        assert rows[page]["of_wordpress"] is None


def test_a_skipped_row_gets_no_fractions():
    rows = [row("tiny", 100, "reference"), {"page": "home", "label": "home", "skipped": "404"}]
    add_fractions(rows)
    assert "of_static" not in rows[1]


def test_wordpress_figures_are_the_issues():
    assert WORDPRESS == {"home": 29.0, "month": 33.0, "tag": 37.0, "post-200": 2.5}


# -- goals ------------------------------------------------------------------------------


def by_subject(checks: list[dict[str, Any]], goal_number: str) -> dict[str, dict[str, Any]]:
    return {c["subject"]: c for c in checks if c["goal"].startswith(goal_number)}


def test_cached_pages_are_checked_against_both_static_references():
    checks = goals([size_result()], {})
    front = [c for c in checks if c["goal"].startswith("1.")]
    # Two anonymous pages, two references each; sessions and copies are not checked.
    assert [(c["subject"], c["value"], c["met"]) for c in front] == [
        ("april-2014 home", 0.5, True),
        ("april-2014 post-200", 0.8, True),
        ("april-2014 home", 0.25, False),
        ("april-2014 post-200", 0.05, False),
    ]


def test_every_readers_page_needs_ten_times_wordpress_with_a_session_too():
    checks = by_subject(goals([size_result()], {}), "3.")
    assert checks["april-2014 home (anonymous)"]["met"]
    assert checks["april-2014 home (signed-in)"]["met"]  # 300 ≥ 290
    assert not checks["april-2014 home (staff)"]["met"]  # 280 < 290
    assert not checks["april-2014 post-200 (signed-in)"]["met"]  # 20 < 25
    assert "april-2014 post-200 (built)" not in checks


def backends(ratios: dict[str, float | None]) -> dict[str, Any]:
    return {
        "size": "april-2014",
        "labels": {"sqlite": "SQLite + local memory", "postgres": "PostgreSQL + Redis"},
        "rows": [
            {
                "page": page,
                "label": page,
                "sqlite": row(page, 1000),
                "postgres": row(page, 1000 / value) if value else {"skipped": "answered 500"},
                "ratio": value,
            }
            for page, value in ratios.items()
        ],
    }


def test_postgres_and_redis_within_one_and_a_half_times():
    checks = by_subject(goals([], {}, backends({"home": 1.2, "tag": 1.6, "feed": None})), "4.")
    assert checks["april-2014 home"]["met"]
    assert not checks["april-2014 tag"]["met"]
    assert not checks["april-2014 feed"]["met"]  # not measured is not met


def test_backends_table_shows_each_pair_and_the_ratio():
    printed = backends_table(backends({"home": 1.25, "feed": None}))
    home = next(line for line in printed.splitlines() if line.startswith("home"))
    assert home.split()[-1] == "1.25"
    assert "skipped: answered 500" in printed


def test_p50_ratios_compare_readers_pages_only():
    small, large = size_result("april-2014", 1.0), size_result("10k", 1.3)
    ratios = p50_ratios([small, large])
    assert ratios["home"] == 1.3 and ratios["home:signed-in"] == 1.3
    assert "home:static" not in ratios and "tiny" not in ratios
    assert p50_ratios([small]) == {}


def test_missed_names_each_missed_check_with_its_goal_number():
    checks = goals([size_result()], {})
    assert "1: april-2014 home" in missed(checks)
    assert "3: april-2014 home (staff)" in missed(checks)


def test_goals_are_printed_under_their_heading_once():
    printed = format_goals(goals([size_result()], {}))
    lines = printed.splitlines()
    assert lines.count("  3. Every reader's page ÷ WordPress 6.1") == 1
    staff = next(line for line in lines if "home (staff)" in line)
    assert staff.endswith("(>= 10) MISSED")
    assert next(line for line in lines if "home (signed-in)" in line).endswith("met")


def test_goal_values_keep_three_figures_so_a_near_miss_shows():
    assert shown(0.497) == "0.497"
    assert shown(352.2) == "352"
    assert shown(True) == "yes" and shown(None) == "-"


# -- the pages table --------------------------------------------------------------------


def test_pages_table_gives_fractions_of_nginx_files_and_of_wordpress():
    lines = table([size_result()]).splitlines()
    assert lines[0].endswith("÷ copy  ÷ tiny    ÷ WP")
    home = next(line for line in lines if line.split()[1:2] == ["home"])
    assert home.split()[-3:] == ["0.50", "0.25", "345×"]
    # A reader with a session is Django's: compared with WordPress, not nginx's files.
    signed_in = next(line for line in lines if line.split()[1:2] == ["home:signed-in"])
    assert signed_in.split()[-3:] == ["-", "-", "10×"]


def test_pages_table_flags_errors_and_skips():
    result = size_result()
    result["rows"][2] = {**result["rows"][2], "flagged": True, "errors": {"not_200": 3}}
    result["rows"].append({"page": "feed", "label": "Atom feed", "skipped": "answered 404"})
    printed = table([result])
    assert 'ERRORS {"not_200": 3}' in printed
    assert "Atom feed                        skipped: answered 404" in printed


# -- the stampede's figures -------------------------------------------------------------


def sample(started: float, ms: float, ok: bool = True, kind: str = "anonymous") -> Sample:
    return Sample(started, ms / 1000, ok, kind)


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 99) is None
    # With fewer than a hundred, p99 is the slowest.
    assert percentile([5, 1, 9, 3], 99) == 9


def test_a_window_counts_requests_by_when_they_started():
    samples = [sample(9.9, 5), sample(10.0, 10), sample(10.5, 300, ok=False), sample(11.0, 1)]
    stats = window_stats(samples, 10.0, 11.0)
    assert stats == {
        "requests": 2,
        "errors": 1,
        "p50_ms": 10.0,
        "p99_ms": 300.0,
        "max_ms": 300.0,
    }
    empty = window_stats(samples, 20.0, 21.0)
    assert empty == {"requests": 0, "errors": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}


def test_windows_are_the_quiet_spell_and_from_the_post_to_a_second_after_its_answer():
    timing = Timing(warmup=1, quiet=2, after=1, tail=1)
    sent, returned = 100.0, 100.25
    samples = [
        sample(97.9, 50),  # before the quiet spell
        sample(98.0, 4),
        sample(99.99, 6, kind="signed-in"),
        sample(100.0, 400),  # sent with the comment
        sample(101.2, 30, kind="signed-in"),  # less than a second after the answer
        sample(101.25, 2),  # a second after the answer: out
    ]
    found = windows(samples, sent, returned, timing)
    assert found["quiet"]["all"]["requests"] == 2
    assert found["quiet"]["anonymous"]["max_ms"] == 4.0
    assert found["quiet"]["signed-in"]["max_ms"] == 6.0
    assert found["after"]["all"]["requests"] == 2
    assert found["after"]["all"]["max_ms"] == 400.0
    assert found["after"]["signed-in"]["p99_ms"] == 30.0


def test_by_kind_has_every_kind_seen_anywhere_and_all():
    samples = [sample(0.5, 1), sample(5.0, 2, kind="signed-in")]
    found = by_kind(samples, 0, 1)
    assert list(found) == ["all", "anonymous", "signed-in"]
    assert found["signed-in"]["requests"] == 0


def test_timeline_is_second_by_second_around_the_change():
    samples = [sample(8.5, 3), sample(10.2, 500), sample(10.9, 20), sample(11.5, 4)]
    seconds = timeline(samples, 10.0, 2, 2)
    assert [s["second"] for s in seconds] == [-2, -1, 0, 1]
    assert [s["requests"] for s in seconds] == [1, 0, 2, 1]
    assert seconds[2]["p99_ms"] == 500.0


def stampede_run(tree: str, quiet_p99: float, after_p99: float, **extra: Any) -> dict[str, Any]:
    def stats(p99: float, n: int) -> dict[str, Any]:
        return {"requests": n, "errors": 0, "p50_ms": p99 / 10, "p99_ms": p99, "max_ms": p99}

    kinds = ("all", "anonymous", "signed-in")
    return {
        "tree": tree,
        "commit": "abc1234",
        "windows": {
            "quiet": {kind: stats(quiet_p99, 500) for kind in kinds},
            "after": {kind: stats(after_p99, 100) for kind in kinds},
        },
        "timeline": [{"second": -1, "p99_ms": quiet_p99}, {"second": 0, "p99_ms": after_p99}],
        "writer_sees_it": True,
        "anonymous_stale_until_s": 0.6,
        "anonymous_fresh_from_s": 0.62,
        **extra,
    }


def test_stampede_goals_compare_with_the_earlier_tree_and_check_the_promise():
    stampede = {"runs": [stampede_run("current", 10, 40), stampede_run("before", 100, 900)]}
    checks = by_subject(goals([], {}, None, stampede), "2.")
    assert checks["all readers' p99 after it ÷ before's"]["value"] == 0.04
    assert checks["all readers' p99 after it ÷ before's"]["met"]
    assert checks["the writer sees it on their next request"]["met"]
    assert checks["anonymous: the old page asked for until (s)"]["value"] == 0.6
    assert checks["anonymous: the old page asked for until (s)"]["met"]


@pytest.mark.parametrize(
    ("extra", "subject"),
    [
        ({"writer_sees_it": False}, "the writer sees it on their next request"),
        ({"anonymous_stale_until_s": 1.3}, "anonymous: the old page asked for until (s)"),
        (
            {"anonymous_stale_until_s": None, "anonymous_fresh_from_s": None},
            "anonymous: the old page asked for until (s)",
        ),
    ],
)
def test_a_broken_promise_is_missed(extra, subject):
    stampede = {"runs": [stampede_run("current", 10, 40, **extra)]}
    checks = by_subject(goals([], {}, None, stampede), "2.")
    assert not checks[subject]["met"]
    # No earlier tree measured: nothing to compare the latency with.
    assert not any("before's" in name for name in checks)


def test_stampede_goals_without_a_current_run_are_none():
    stampede = {"runs": [{"tree": "current", "skipped": "no server"}]}
    assert by_subject(goals([], {}, None, stampede), "2.") == {}


def test_stampede_table_rows_per_tree_and_kind():
    stampede = {
        "runs": [
            stampede_run("current", 10, 40),
            stampede_run(
                "before", 100, 900, anonymous_fresh_from_s=None, anonymous_stale_until_s=None
            ),
            {"tree": "elsewhere", "skipped": "no project checkout at /nowhere"},
        ]
    }
    lines = stampede_table(stampede).splitlines()
    current = next(line for line in lines if line.startswith("current (abc1234)"))
    assert current.split()[3:9] == ["1.0", "10.0", "10.0", "4.0", "40.0", "40.0"]
    assert current.endswith("yes    0.60 s, 0.62 s")
    assert next(line for line in lines if line.startswith("before")).endswith("never saw it")
    assert "p99 by second: -1: 10.0  +0: 40.0" in lines[5]
    assert lines[-1].startswith("elsewhere") and "skipped" in lines[-1]


# -- what is measured -------------------------------------------------------------------


def site(paths: dict[str, str | None]) -> Site:
    people = {
        "signed-in": {"username": "bench-signed-in", "cookie": "sessionid=r"},
        "staff": {"username": "bench-staff", "cookie": "sessionid=s"},
    }
    size = Size("april-2014", 2, 1200)
    return Site(size, Path("db"), {}, {}, paths, people, "/admin/login/")


def test_pages_are_the_references_then_each_page_its_copy_and_its_sessions():
    found = site({"home": "/", "post-200": "/2015/06/11/demo-thread-200/", "feed": None})
    pages = pages_for(found, ["home", "feed", "post-200"])
    assert [page.key for page in pages] == [
        "tiny",
        "hello",
        "home",
        "home:static",
        "home:signed-in",
        "home:staff",
        "feed",
        "feed:static",
        "post-200",
        "post-200:static",
        "post-200:signed-in",
        "post-200:staff",
        "post-200:built",
    ]
    by_key = {page.key: page for page in pages}
    assert by_key["home:static"].path == "/bench-static/april-2014/home.html"
    assert by_key["home:staff"].cookie == "sessionid=s"
    assert by_key["feed"].path is None and by_key["feed:static"].path is None
    assert by_key["post-200:built"].path == "/2015/06/11/demo-thread-200/" + BUILT_QUERY
    assert by_key["tiny"].path == "/bench-static/hello.html"


def test_sessions_can_be_left_out():
    pages = pages_for(site({"home": "/"}), ["home"], sessions=False)
    assert [page.key for page in pages] == ["tiny", "hello", "home", "home:static"]


def test_wrk_is_given_the_cookie_and_the_scripts_arguments_last():
    command = wrk_command(8000, "/", 2, 180, 30, "sessionid=x", "pages.lua", ["500", "/", "/a"])
    assert command[:9] == [
        "wrk",
        "--threads",
        "2",
        "--connections",
        "180",
        "--duration",
        "30s",
        "--timeout",
        "10s",
    ]
    assert command[command.index("--header") + 1] == "Cookie: sessionid=x"
    assert command[command.index("http://127.0.0.1:8000/") :] == [
        "http://127.0.0.1:8000/",
        "--",
        "500",
        "/",
        "/a",
    ]
    assert "--" not in wrk_command(8000, "/", 2, 4, 5)


def test_wrk_figures_become_a_row():
    figures = {
        "requests": 5000,
        "duration_us": 2_000_000,
        "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0, "not_200": 2},
        "latency_us": {"p50": 250, "p90": 900, "p99": 4100, "max": 9000, "mean": 300.0},
    }
    summary = summarise(figures)
    assert summary["rps"] == 2500.0
    assert (summary["p50_ms"], summary["p99_ms"], summary["max_ms"]) == (0.25, 4.1, 9.0)
    assert summary["flagged"]


def test_interleaved_rounds_become_one_row_with_the_median_rounds_latency():
    def round_(requests: int, p50: int, not_200: int = 0) -> dict[str, Any]:
        return summarise({
            "requests": requests,
            "duration_us": 2_000_000,
            "errors": {"connect": 0, "read": 0, "timeout": 0, "not_200": not_200},
            "latency_us": {"p50": p50, "p90": p50, "p99": p50 * 4, "max": p50 * 9, "mean": p50},
        })  # fmt: skip

    one = combined([round_(6000, 300), round_(2000, 900, not_200=1), round_(4000, 500)])
    assert (one["requests"], one["seconds"], one["rps"]) == (12000, 6.0, 2000.0)
    assert one["rounds_rps"] == [3000.0, 1000.0, 2000.0]
    assert (one["p50_ms"], one["p99_ms"]) == (0.5, 2.0)  # the 2,000-a-second round's
    assert one["errors"]["not_200"] == 1 and one["flagged"]
