"""`make run`: the site for development, with the worker that sends its e-mail.

`python -m tools.run` migrates, loads the April 2014 entries into an empty site, then
runs Django's development server on 127.0.0.1:PORT (8000 by default) and, beside it,
the worker that sends the e-mail the site queues (blog.outbox: `manage.py worker`,
or RQ's worker when TASKS_URL says redis://). The development settings print each
e-mail in this terminal, where the worker writes it. It stays in the foreground,
watching both (tools.processes): Ctrl-C or SIGTERM stops both, and if one stops the
other is stopped too. Both reload when the code changes (DEBUG), as runserver does; the
price is that Django's reloader makes the worker exit at once on SIGTERM rather than
finish its batch, which with e-mail printed to the console takes no time anyway.
`make serve`'s worker (DEBUG off) does not reload, and finishes its batch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping

from .processes import MANAGE, ROOT, start, stopped_after, until_stopped, watch, worker_command

# migrate and loading the fixture take seconds; minutes mean a hang.
PREPARE_TIMEOUT = 600
STOP_TIMEOUT = 15


def prepare_commands(python: str = sys.executable) -> list[list[str]]:
    """What runs before the servers, in order."""
    return [[python, MANAGE, "migrate", "--noinput"], [python, MANAGE, "load_april_2014"]]


def runserver_command(port: int, python: str = sys.executable) -> list[str]:
    return [python, MANAGE, "runserver", f"127.0.0.1:{port}"]


def main(environ: Mapping[str, str] | None = None) -> None:
    env = dict(os.environ if environ is None else environ)
    port = int(env.get("PORT") or 8000)
    for command in prepare_commands():
        subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=PREPARE_TIMEOUT)
    with until_stopped(), stopped_after(STOP_TIMEOUT) as servers:
        # The worker first: the first comment's e-mail has someone to send it.
        servers.append(start("worker", worker_command(env), env, signal.SIGTERM))
        servers.append(start("runserver", runserver_command(port), env, signal.SIGTERM))
        print(
            f"Serving at http://127.0.0.1:{port}/ with the e-mail worker beside it (e-mail "
            "is printed here); Ctrl-C stops both.",
            flush=True,
        )
        watch(servers)


if __name__ == "__main__":
    main()
