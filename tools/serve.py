"""`make serve`: the site as in production (gunicorn, DEBUG off, WhiteNoise), on loopback.

`python -m tools.serve` migrates, loads the April 2014 entries into an empty site,
collects the static files, then becomes gunicorn (tools/gunicorn.py).

The environment is built in layers, and the first that sets a variable wins: the
caller's environment, then the project's `.env`, then the loopback defaults below.
`.env` is written on the first run with a generated DJANGO_SECRET_KEY and kept: the
links e-mailed to readers are signed with it, so a new key at each start would break
every link sent before.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
GUNICORN_CONFIG = ROOT / "tools" / "gunicorn.py"
# migrate, loading the fixture and collectstatic each take seconds; minutes mean a hang.
PREPARE_TIMEOUT = 600


def ensure_env_file(path: Path = ENV_FILE) -> bool:
    """Write `path` with a new secret key, readable by its owner only, unless it exists.

    Returns whether it was written. O_EXCL: two runs started together cannot both
    write it, and an existing file (the user's edits included) is never touched.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as env_file:
        env_file.write(
            "# Written by `make serve`; stays out of git. Links e-mailed to readers are\n"
            "# signed with this key: changing it breaks the ones already sent.\n"
            f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        )
    return True


def loopback_defaults(port: int) -> dict[str, str]:
    """What `make serve` sets unless the environment or `.env` says otherwise."""
    return {
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # E-mailed links must carry the port the site answers on.
        "DJANGO_SITE_DOMAIN": f"127.0.0.1:{port}",
        # No TLS on loopback: secure cookies and the HTTPS redirect would lock a reader out.
        "DJANGO_SECURE": "0",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        # The same database as `make run`.
        "DATABASE_URL": f"sqlite:///{ROOT / 'db.sqlite3'}",
        "PORT": str(port),
    }


def serve_environment(
    environ: Mapping[str, str] | None = None, env_file: Path = ENV_FILE
) -> dict[str, str]:
    """The environment `make serve` runs every command in."""
    environ = dict(os.environ if environ is None else environ)
    port = int(environ.get("PORT") or 8000)
    # No interpolation: a secret containing `$` is taken as written.
    from_file = {
        name: value
        for name, value in dotenv_values(env_file, interpolate=False).items()
        if value is not None
    }
    # Whatever the shell exports, this is the production configuration.
    settings = {"DJANGO_SETTINGS_MODULE": "config.settings.prod"}
    return {**loopback_defaults(port), **from_file, **environ, **settings}


def prepare_commands(python: str = sys.executable) -> list[list[str]]:
    """What runs before the server, in order: the same steps as `make run`, plus the
    static files that WhiteNoise serves with hashed names."""
    manage = str(ROOT / "manage.py")
    return [
        [python, manage, "migrate", "--noinput"],
        [python, manage, "load_april_2014"],
        [python, manage, "collectstatic", "--noinput", "--verbosity", "0"],
    ]


def gunicorn_command(
    python: str = sys.executable, wsgi: str = "config.wsgi:application"
) -> list[str]:
    """The server, as `make serve` and `make bench` start it."""
    return [python, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG), wsgi]


class Running(NamedTuple):
    port: int
    pid: int  # gunicorn's master; its workers are its children


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    finally:
        connection.close()


def _stop(process: subprocess.Popen, timeout: float) -> None:
    """The server and its workers: politely, then not."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


@contextlib.contextmanager
def running_server(
    env: Mapping[str, str], log_path: Path, start_timeout: float = 30, stop_timeout: float = 15
) -> Iterator[Running]:
    """gunicorn as `make serve` runs it (database and static files already prepared),
    on a free loopback port, until the block ends: for the benchmark and the tests."""
    port = free_port()
    env = {**env, "PORT": str(port), "DJANGO_SITE_DOMAIN": f"127.0.0.1:{port}"}
    # A file, not a pipe: a full pipe would stop the server mid-run.
    with log_path.open("w") as log:
        # Its own process group, so that stopping it reaches every worker.
        process = subprocess.Popen(
            gunicorn_command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the server stopped:\n{log_path.read_text()[-3000:]}")
                with contextlib.suppress(OSError):
                    if _answers(port, "/robots.txt"):
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer in {start_timeout} s")
                time.sleep(0.2)
            yield Running(port, process.pid)
        finally:
            _stop(process, stop_timeout)


def main() -> None:
    if ensure_env_file():
        print(f"Wrote {ENV_FILE.name} with a new DJANGO_SECRET_KEY (kept for later runs).")
    env = serve_environment()
    for command in prepare_commands():
        subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=PREPARE_TIMEOUT)
    print(f"Serving at http://127.0.0.1:{env['PORT']}/ (production settings); Ctrl-C stops.")
    sys.stdout.flush()
    # The server replaces this process: Ctrl-C and signals reach gunicorn directly.
    command = gunicorn_command()
    os.chdir(ROOT)
    os.execve(command[0], command, env)  # nosec B606 # gunicorn from our own virtualenv


if __name__ == "__main__":
    main()
