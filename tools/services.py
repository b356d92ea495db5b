"""Whether a PostgreSQL or Redis server answers at an address: `make test-postgres`
asks before choosing to run, skip, or (in CI) fail its leg.

    python -m tools.services postgres postgres://postgres@127.0.0.1:5432/test
    python -m tools.services redis redis://127.0.0.1:6379/15

Exit status 0 when it answers within five seconds, 1 when not (and why, on stderr).
"""

from __future__ import annotations

import sys

TIMEOUT = 5


def postgres_answers(url: str) -> None:
    import psycopg

    psycopg.connect(url, connect_timeout=TIMEOUT).close()


def redis_answers(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()


CHECKS = {"postgres": postgres_answers, "redis": redis_answers}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in CHECKS:
        print(f"usage: python -m tools.services {{{'|'.join(CHECKS)}}} URL", file=sys.stderr)
        return 2
    kind, url = argv
    try:
        CHECKS[kind](url)
    except Exception as error:  # any failure to connect means "does not answer"
        print(f"{kind} at {url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
