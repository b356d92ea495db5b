"""Gunicorn's settings for `make serve` and `make bench`: the production server, behind
nginx (tools/nginx.py) on a Unix socket, or on loopback.

`gunicorn --config tools/gunicorn.py config.wsgi:application`. The process count is
WEB_CONCURRENCY when set, else the default below; GUNICORN_CMD_ARGS adds any other
option (e.g. `--access-logfile -`).
"""

import os


def default_workers(cores: int | None = None) -> int:
    """One synchronous worker per core, and never fewer than two.

    A request here is CPU work (templates, and SQLite in the worker's own process), with
    no network wait for another worker to fill. Measured with wrk on a 2-core machine
    (docs/serving.md): 2 workers served the home page about twice
    as fast as 3 or 5 (the usual 2 × cores + 1), with a third of their p99 latency.
    Two at least, so that one slow request never holds up every reader.
    """
    return max(2, cores or available_cores())


def available_cores() -> int:
    """The cores this process may run on: a container or taskset may allow fewer than
    os.cpu_count() reports."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# Never the network: `make serve` gives a Unix socket in its private directory, which
# only nginx in front reaches (BLOG_GUNICORN_SOCKET); without one, loopback only.
_socket = os.environ.get("BLOG_GUNICORN_SOCKET")
bind = f"unix:{_socket}" if _socket else f"127.0.0.1:{int(os.environ.get('PORT', '8000'))}"
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())
worker_class = "sync"
# A page that takes longer than this is a bug to see in the log, not to wait for.
timeout = 30
# Stopping (Ctrl-C, SIGTERM) lets requests in flight finish, but not for long.
graceful_timeout = 10
# Errors to the terminal; the access log is off unless asked for (GUNICORN_CMD_ARGS).
errorlog = "-"
loglevel = "info"
# No runtime control socket (gunicornc): its one default path under $HOME would be
# fought over by every server started at once (make serve, make bench, the tests).
control_socket_disable = True
