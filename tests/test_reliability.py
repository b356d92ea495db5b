"""Load and faults against the production server (tests/reliability, docs/reliability.md),
smaller than `make reliability`: on this leg's database (SQLite in `make test`,
PostgreSQL in `make test-postgres`), with concurrent readers commenting, PostgreSQL's
sessions killed (its leg only), Redis stopped mid-load, and the mail server. A few
minutes a leg;
`pytest -m "not reliability"` leaves them out.

First, the checks themselves, on made-up threads: each must catch what it is for.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.nginx import require_nginx
from tests.reliability.checks import check_comments, order_collisions, tree_problems
from tests.reliability.client import parse_form
from tests.reliability.records import Submission
from tests.reliability.scenario import SCENARIOS, Prepared, Scenario, prepared_site, run_scenario

CLIENTS = 20
LOAD_COMMENTS = 150
FAULT_COMMENTS = 80
DURATION = 150  # seconds a scenario's load may last at most
SEED = 7


def row(pk, parent, level, order, thread=None, text=""):
    return {
        "id": pk,
        "parent_id": parent,
        "level": level,
        "order": order,
        "thread_id": thread or (pk if parent == pk else 1),
        "comment": text,
    }


# A thread: 1 ─ 2 ─ 4, and 1 ─ 3, in depth-first order 1, 2, 4, 3.
GOOD = [row(1, 1, 0, 1), row(2, 1, 1, 2), row(3, 1, 1, 4), row(4, 2, 2, 3)]


def test_a_valid_thread_passes_every_check():
    assert order_collisions(GOOD) == []
    assert tree_problems(GOOD) == []


def test_two_comments_at_one_position_are_a_collision():
    rows = [*GOOD[:3], row(4, 2, 2, 2)]  # two replies computed the same position
    assert order_collisions(rows) == [(1, 2, 2)]
    assert tree_problems(rows)


def test_a_reply_outside_its_parents_replies_is_found():
    rows = [row(1, 1, 0, 1), row(2, 1, 1, 2), row(3, 1, 1, 3), row(4, 2, 2, 4)]
    assert order_collisions(rows) == []
    assert any("outside its parent" in p for p in tree_problems(rows))


def test_a_level_that_is_not_its_parents_plus_one_is_found():
    rows = [*GOOD[:3], row(4, 2, 1, 3)]
    assert any("level 1" in p for p in tree_problems(rows))


def test_stored_comments_are_matched_to_what_was_accepted():
    def sent(marker, confirmed, comment_id):
        submission = Submission(marker, 0, False, "new", 0, 1, accepted=confirmed)
        submission.confirmed, submission.comment_id = confirmed, comment_id
        return submission

    rows = [
        row(1, 1, 0, 1, text="Twice [xaq]"),
        row(2, 2, 0, 1, text="Twice [xaq]"),
        row(3, 3, 0, 1, text="Never accepted [xcq]"),
    ]
    found = check_comments(rows, [sent("xaq", True, 1), sent("xbq", True, 9)], prefix="x")

    assert found["duplicates"] == ["xaq"]
    assert found["lost"] == ["xbq"]
    assert found["stored_not_accepted"] == ["xcq"]


def test_the_form_is_read_as_a_browser_would_send_it():
    html = """<form id="comment-form"><input type="hidden" name="csrfmiddlewaretoken" value="t">
      <input type="hidden" name="timestamp" value="123"><input type="checkbox" name="followup">
      <textarea name="comment">kept</textarea><button type="submit" name="post">Post</button>
      <input type="submit" name="preview" value="1"></form>"""
    assert parse_form(html) == {"csrfmiddlewaretoken": "t", "timestamp": "123", "comment": "kept"}


# -- the server under load ------------------------------------------------------------

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
needs_redis = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Iterator[Prepared]:
    """This leg's database, fresh, prepared as `make serve` prepares it."""
    require_nginx()
    folder = tmp_path_factory.mktemp("reliability")
    kind = "postgres" if ON_POSTGRES else "sqlite"
    name = f"cpsw_reliability_test_{os.getpid()}"
    with prepared_site(kind, folder, "", os.environ.get("DATABASE_URL", ""), name) as site:
        yield site


def run(prepared: Prepared, scenario: Scenario, comments: int, code: str) -> dict:
    result = run_scenario(
        prepared,
        scenario,
        clients=CLIENTS,
        comments=comments,
        duration=DURATION,
        seed=SEED,
        code=code,
    )
    assert result["comments"]["sent"] == comments
    assert result["failures"] == [], "\n".join(result["failures"])
    return result


@pytest.mark.reliability
def test_concurrent_comments_are_each_stored_once_in_a_consistent_thread(prepared):
    # On PostgreSQL with Redis as the cache, as in production; SQLite as `make serve`.
    # (A private redis-server stands in for the shared one.)
    with_redis = ON_POSTGRES and shutil.which("redis-server") is not None
    scenario = SCENARIOS["load-redis"] if with_redis else SCENARIOS["load"]
    result = run(prepared, scenario, LOAD_COMMENTS, code="ta")

    comments = result["comments"]
    assert result["server_errors"] == 0
    assert comments["confirmed"] == comments["stored"] == LOAD_COMMENTS
    assert comments["targets"]["hot"] > LOAD_COMMENTS // 3
    assert comments["signed_in"] and comments["anonymous"]


@pytest.mark.reliability
@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's leg only (make test-postgres)")
@needs_redis
def test_site_recovers_from_killed_postgresql_sessions_losing_no_comment(prepared):
    result = run(prepared, SCENARIOS["pg-kill"], FAULT_COMMENTS, code="tb")

    kills = [fault for fault in result["faults"] if fault["kind"] == "pg-kill"]
    assert len(kills) == len(SCENARIOS["pg-kill"].kills)
    assert all(sum(fault["sessions"].values()) for fault in kills)
    # Every 503 to a comment kept the reader's text (failures() checks it too).
    assert result["comment_503_text_kept"] == result["comment_posts_503_answers"]
    assert all(figures["site_recovery_s"] is not None for figures in result["recovery"])


@pytest.mark.reliability
@needs_redis
def test_pages_are_served_from_the_database_while_redis_is_down(prepared):
    result = run(prepared, SCENARIOS["redis-stop"], FAULT_COMMENTS, code="tc")

    assert [f["kind"] for f in result["faults"]] == ["redis-stop", "redis-start"]
    assert result["server_errors"] == 0
    assert result["log_cache_fault_warnings"] > 0
    stopped, started = (f["at"] for f in result["faults"])
    assert result["by_action"]["read"].keys() == {"200"}
    assert result["cache_keys_after"], "the page cache was not used again after Redis came back"
    assert started > stopped


@pytest.mark.reliability
def test_comments_are_answered_as_ever_and_every_e_mail_sent_once_through_a_mail_outage(
    prepared,
):
    result = run(prepared, SCENARIOS["mail-outage"], FAULT_COMMENTS, code="td")

    assert [f["kind"] for f in result["faults"]] == ["mail-stop", "mail-start"]
    mail = result["mail"]
    assert mail["retried"], "no e-mail met the outage"
    assert mail["received"] == mail["sent"] == mail["rows"]
    assert mail["duplicates"] == mail["missing"] == []
    assert mail["after_restart_s"] <= mail["bound_s"]
    during = result["posts_in_mail_outage"]["during"]
    assert during["count"] and during["statuses"] == {"302": during["count"]}
    assert result["mail_deferred"] == result["mail_deferred_confirmed"]
