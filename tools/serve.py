"""`make serve`: the site as in production (nginx in front of gunicorn, DEBUG off,
WhiteNoise), on loopback.

`python -m tools.serve` migrates, loads the April 2014 entries into an empty site,
collects the static files, then runs gunicorn (tools/gunicorn.py) on a Unix socket in a
private directory made for the run, Debian's nginx (tools/nginx.py) in front of it on
127.0.0.1:PORT, the address readers use, and beside them the worker that sends the
e-mail the site queues (blog.outbox; `manage.py worker`), in the same environment.
It stays in the foreground, watching all three (tools.processes): Ctrl-C or SIGTERM
stops them all, and if one stops the others are stopped too.

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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, NamedTuple

from dotenv import dotenv_values

from .nginx import Media, find_nginx, nginx_command, write_config
from .processes import ROOT, Server, start, stopped_after, until_stopped, watch, worker_command

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
    # Whatever the shell exports, this is the production configuration, and the one
    # proxy whose X-Forwarded-For is believed is nginx, on gunicorn's Unix socket.
    settings = {"DJANGO_SETTINGS_MODULE": "config.settings.prod", "DJANGO_TRUSTED_PROXIES": "unix"}
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


def media_settings(env: Mapping[str, str], python: str = sys.executable) -> Media:
    """Where the site, run in ``env``, reads and stores uploaded images: asked of Django
    itself, so that nginx serves what the settings say, not a copy of them."""
    code = (
        "import django; django.setup(); "
        "from django.core.files.storage import default_storage as s; "
        "print(s.base_url); print(s.location)"
    )
    result = subprocess.run(
        [python, "-c", code], cwd=ROOT, env=dict(env), capture_output=True, text=True,
        timeout=PREPARE_TIMEOUT, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise ServerFailed(f"The settings could not be read:\n{result.stderr}")
    url, root = result.stdout.splitlines()[-2:]
    return Media(url, Path(root))


class ServerFailed(RuntimeError):
    """A server stopped, or did not answer, as the stack started."""


class Running(NamedTuple):
    port: int  # nginx's, where readers connect
    pid: int  # gunicorn's master; its workers are its children
    nginx_pid: int  # nginx's master
    socket: Path  # where gunicorn listens, for nginx only
    worker_pid: int | None  # the e-mail worker's (None: started without one)


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


@contextlib.contextmanager
def running_stack(
    env: Mapping[str, str],
    port: int,
    output: IO[str] | None = None,
    start_timeout: float = 30,
    stop_timeout: float = 15,
    with_worker: bool = True,
) -> Iterator[tuple[Running, list[Server]]]:
    """nginx on 127.0.0.1:port in front of gunicorn on a Unix socket, both started in a
    private directory made for the run (and removed after), and the e-mail worker beside
    them (unless ``with_worker`` is false), until the block ends. Their output goes to
    ``output`` (a file, never a pipe that could fill), or to ours."""
    nginx = find_nginx()  # before anything starts: missing, nothing is left running
    runtime = Path(tempfile.mkdtemp(prefix="blog-serve-"))  # mode 0700: ours alone
    try:
        # Each in its own process group (tools.processes); on the way out nginx is
        # stopped with the others, so it stops taking requests while gunicorn ends the
        # ones it has, and the worker finishes the e-mails it is sending.
        with stopped_after(stop_timeout) as servers:
            sock = runtime / "gunicorn.sock"
            config = write_config(
                runtime,
                port,
                sock,
                media_settings(env),
                # BLOG_FRONT_CACHE=0: every request to Django (measuring its own cache).
                front_cache=env.get("BLOG_FRONT_CACHE", "1") != "0",
                bench_static=Path(bench) if (bench := env.get("BLOG_BENCH_STATIC")) else None,
            )
            env = {**env, "PORT": str(port), "BLOG_GUNICORN_SOCKET": str(sock)}
            worker = None
            if with_worker:
                # SIGTERM: it finishes the batch of e-mails it is sending, then exits.
                worker = start("worker", worker_command(env), env, signal.SIGTERM, output)
                servers.append(worker)
            # gunicorn finishes the requests in flight when asked (SIGTERM); nginx too
            # (SIGQUIT).
            gunicorn = start("gunicorn", gunicorn_command(), env, signal.SIGTERM, output)
            servers.append(gunicorn)
            deadline = time.monotonic() + start_timeout
            # nginx once gunicorn listens: the first readers get pages, not 502s.
            _wait(sock.exists, servers, deadline, start_timeout)
            command = nginx_command(nginx, runtime, config)
            proxy = start("nginx", command, env, signal.SIGQUIT, output)
            servers.append(proxy)
            _wait(lambda: _answers(port, "/robots.txt"), servers, deadline, start_timeout)
            worker_pid = worker.process.pid if worker else None
            yield Running(port, gunicorn.process.pid, proxy.process.pid, sock, worker_pid), servers
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def _wait(
    ready: Callable[[], bool],
    servers: list[Server],
    deadline: float,
    start_timeout: float,
) -> None:
    """Until ``ready()``; ServerFailed if a server stops or the deadline passes first."""
    while True:
        for name, process, _signum in servers:
            if process.poll() is not None:
                raise ServerFailed(f"{name} stopped as the server started")
        with contextlib.suppress(OSError):
            if ready():
                return
        if time.monotonic() > deadline:
            raise ServerFailed(f"the server did not answer in {start_timeout} s")
        time.sleep(0.1)


@contextlib.contextmanager
def running_server(
    env: Mapping[str, str],
    log_path: Path,
    start_timeout: float = 30,
    stop_timeout: float = 15,
    with_worker: bool = True,
) -> Iterator[Running]:
    """The whole server as `make serve` runs it (database and static files already
    prepared), e-mail worker included unless ``with_worker`` is false, on a free
    loopback port, until the block ends: for the benchmark and the tests. Every
    process's output is in ``log_path``."""
    port = free_port()
    env = {**env, "DJANGO_SITE_DOMAIN": f"127.0.0.1:{port}"}
    with log_path.open("w") as log:
        try:
            with running_stack(env, port, log, start_timeout, stop_timeout, with_worker) as (
                running,
                _,
            ):
                yield running
        except ServerFailed as error:
            log.flush()
            raise ServerFailed(f"{error}:\n{log_path.read_text()[-3000:]}") from None


def main() -> None:
    if ensure_env_file():
        print(f"Wrote {ENV_FILE.name} with a new DJANGO_SECRET_KEY (kept for later runs).")
    env = serve_environment()
    try:
        find_nginx()
    except RuntimeError as error:
        sys.exit(str(error))
    for command in prepare_commands():
        subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=PREPARE_TIMEOUT)
    with until_stopped():
        try:
            with running_stack(env, int(env["PORT"])) as (_running, servers):
                print(
                    f"Serving at http://127.0.0.1:{env['PORT']}/ (production settings: nginx "
                    "in front of gunicorn, the e-mail worker beside them); Ctrl-C stops."
                )
                sys.stdout.flush()
                watch(servers)
        except ServerFailed as error:
            sys.exit(f"The server could not start: {error}")


if __name__ == "__main__":
    main()
