"""What must hold after a run, read from the database itself: every accepted comment
stored exactly once, nothing stored that was not accepted, and every thread a valid
tree in a valid order (no two comments at one position); every e-mail the site asked
for sent, and received by the mail server exactly once."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from .records import Submission

if TYPE_CHECKING:
    from tests.mail.smtp import Received

MARKER = re.compile(r"\[([a-z0-9]+q)\]")


def stored_by_marker(rows: list[dict[str, Any]], prefix: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        match = MARKER.search(row["comment"])
        if match and match.group(1).startswith(prefix):
            found[match.group(1)].append(row)
    return found


def order_collisions(rows: list[dict[str, Any]]) -> list[tuple[int, int, int]]:
    """(thread, order, how many) for every position held by more than one comment."""
    counts = Counter((row["thread_id"], row["order"]) for row in rows)
    return sorted((thread, order, n) for (thread, order), n in counts.items() if n > 1)


def tree_problems(rows: list[dict[str, Any]]) -> list[str]:
    """Levels against parents, and each thread's order a depth-first walk of its tree
    with positions 1..n: a comment comes after its parent, inside its parent's subtree."""
    problems = []
    by_id = {row["id"]: row for row in rows}
    threads: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        threads[row["thread_id"]].append(row)
        if row["parent_id"] == row["id"]:
            if row["level"] != 0 or row["thread_id"] != row["id"]:
                problems.append(
                    f"comment {row['id']}: a thread's first comment at level "
                    f"{row['level']} in thread {row['thread_id']}"
                )
            continue
        parent = by_id.get(row["parent_id"])
        if parent is None:
            problems.append(f"comment {row['id']}: its parent {row['parent_id']} is missing")
        elif row["level"] != parent["level"] + 1 or row["thread_id"] != parent["thread_id"]:
            problems.append(
                f"comment {row['id']}: level {row['level']} in thread {row['thread_id']}, "
                f"its parent level {parent['level']} in thread {parent['thread_id']}"
            )
    for thread, members in threads.items():
        members.sort(key=lambda row: (row["order"], row["id"]))
        orders = [row["order"] for row in members]
        if orders != list(range(1, len(members) + 1)):
            problems.append(f"thread {thread}: positions {orders[:20]}… are not 1..{len(members)}")
        path: list[int] = []  # the ancestors of the comment just walked, root first
        for row in members:
            if row["parent_id"] == row["id"]:
                if path:
                    problems.append(f"thread {thread}: its first comment is not first")
                path = [row["id"]]
                continue
            while path and path[-1] != row["parent_id"]:
                path.pop()
            if not path:
                problems.append(
                    f"thread {thread}: comment {row['id']} (position "
                    f"{row['order']}) is outside its parent's replies"
                )
                break
            path.append(row["id"])
    return problems


def check_comments(
    rows: list[dict[str, Any]], submissions: list[Submission], prefix: str
) -> dict[str, Any]:
    stored = stored_by_marker(rows, prefix)
    accepted = {s.marker for s in submissions if s.confirmed}
    pending = {s.marker for s in submissions if s.accepted and not s.confirmed}
    duplicates = sorted(marker for marker, found in stored.items() if len(found) > 1)
    lost = sorted(accepted - set(stored))
    unaccepted = sorted(set(stored) - accepted)
    wrong_id = sorted(
        s.marker
        for s in submissions
        if s.confirmed
        and s.marker in stored
        and s.comment_id not in {r["id"] for r in stored[s.marker]}
    )
    collisions = order_collisions(rows)
    tree = tree_problems(rows)
    return {
        "sent": len(submissions),
        "post_attempts": sum(s.attempts for s in submissions),
        "accepted": len({s.marker for s in submissions if s.accepted}),
        "confirmed": len(accepted),
        "accepted_unconfirmed": len(pending),
        "stored": sum(len(found) for found in stored.values()),
        "stored_markers": len(stored),
        "signed_in": sum(1 for s in submissions if s.signed_in),
        "anonymous": sum(1 for s in submissions if not s.signed_in),
        "double_confirmed": sum(1 for s in submissions if s.double_confirmed),
        "targets": dict(Counter(s.target for s in submissions)),
        "duplicates": duplicates,
        "lost": lost,
        "stored_not_accepted": unaccepted,
        "wrong_id": wrong_id,
        "order_collisions": collisions,
        "tree_problems": tree[:20],
        "tree_problem_count": len(tree),
        "comments_in_database": len(rows),
        "threads": len({row["thread_id"] for row in rows}),
        "deepest_level": max((row["level"] for row in rows), default=0),
    }


def mail_key(to: str, subject: str, body: str) -> tuple[str, str, str]:
    """An e-mail as the outbox's row and the mail server both see it."""
    lines = body.replace("\r\n", "\n").strip().split("\n")
    return to.strip().lower(), subject.strip(), "\n".join(line.rstrip() for line in lines)


def check_mail(rows: list[dict[str, Any]], received: list[Received]) -> dict[str, Any]:
    """The outbox's rows against what the mail server received: each row sent, and
    received once (no more: a duplicate; none: lost)."""

    def key(row: dict[str, Any]) -> tuple[str, str, str]:
        return mail_key(row["to"], row["subject"], row["body"])

    sent = Counter(key(r) for r in rows if r["status"] == "sent")
    asked = Counter(key(r) for r in rows)
    got = Counter(mail_key(m.to, m.subject, m.text) for m in received)
    unsent = [r for r in rows if r["status"] != "sent"]
    return {
        "rows": len(rows),
        "by_kind": dict(Counter(r["kind"] for r in rows)),
        "sent": sum(sent.values()),
        "waiting": sum(1 for r in unsent if r["status"] in ("queued", "sending")),
        "failed": sum(1 for r in unsent if r["status"] == "failed"),
        "unsent": [f"{r['to']} {r['status']} {r['last_error'][:80]}" for r in unsent[:10]],
        "retried": sum(1 for r in rows if r["attempts"] and r["status"] == "sent"),
        "most_attempts": max((r["attempts"] for r in rows), default=0),
        "received": len(received),
        "duplicates": sorted(k[:2] for k, n in got.items() if n > asked.get(k, 0) and k in asked),
        "missing": sorted(k[:2] for k, n in sent.items() if got.get(k, 0) < n),
        "unexpected": sorted(k[:2] for k in got if k not in asked),
    }
