"""`make serve`: the production settings in the environment it builds, its `.env`, and the
real server (gunicorn with tools/gunicorn.py) answering pages and static files."""

import gzip
import http.client
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.gunicorn import default_workers
from tools.processes import group_alive
from tools.serve import (
    ROOT,
    Running,
    ensure_env_file,
    free_port,
    prepare_commands,
    running_server,
    serve_environment,
)

from .nginx import require_nginx

# Start-up (migrate and collectstatic run side by side), requests and stop are each
# bounded; the whole module takes about ten seconds.
PREPARE_TIMEOUT = 60
START_TIMEOUT = 30
STOP_TIMEOUT = 15


def clean_environ(**extra: str) -> dict[str, str]:
    """This process's environment less the test run's Django settings."""
    keep = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_", "CACHE_", "WEB_CONCURRENCY", "PORT"))
    }
    return {**keep, **extra}


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=PREPARE_TIMEOUT
    )


# -- .env -----------------------------------------------------------------------------


def test_env_file_gets_a_secret_key_once_and_keeps_it(tmp_path):
    env_file = tmp_path / ".env"

    assert ensure_env_file(env_file) is True
    first = env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    key = re.search(r"^DJANGO_SECRET_KEY=(\S+)$", first, re.MULTILINE).group(1)
    assert len(key) >= 50

    assert ensure_env_file(env_file) is False
    assert env_file.read_text() == first
    assert serve_environment(clean_environ(), env_file)["DJANGO_SECRET_KEY"] == key


def test_environment_wins_over_env_file_which_wins_over_defaults(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DJANGO_SECRET_KEY=from-the-file\nDATABASE_URL=sqlite:////srv/blog.sqlite3\n"
    )
    env = serve_environment(clean_environ(DJANGO_SECRET_KEY="from-the-shell"), env_file)

    assert env["DJANGO_SECRET_KEY"] == "from-the-shell"
    assert env["DATABASE_URL"] == "sqlite:////srv/blog.sqlite3"
    assert env["DJANGO_ALLOWED_HOSTS"] == "127.0.0.1,localhost"


def test_loopback_defaults_follow_the_port(tmp_path):
    env = serve_environment(clean_environ(PORT="8123"), tmp_path / "absent.env")

    assert env["DJANGO_SITE_DOMAIN"] == "127.0.0.1:8123"
    assert env["DJANGO_SECURE"] == "0"
    assert env["DJANGO_EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert env["DATABASE_URL"] == f"sqlite:///{ROOT / 'db.sqlite3'}"
    assert "DJANGO_SECRET_KEY" not in env


def test_serve_always_uses_the_production_settings(tmp_path):
    env = serve_environment(
        clean_environ(DJANGO_SETTINGS_MODULE="config.settings.dev"), tmp_path / "absent.env"
    )
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"


def test_workers_default_to_one_per_core_and_at_least_two():
    assert default_workers(1) == 2
    assert default_workers(2) == 2
    assert default_workers(8) == 8


# -- the production settings in make serve's environment ------------------------------


@pytest.fixture(scope="module")
def serve_env(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("serve")
    env_file = folder / ".env"
    ensure_env_file(env_file)
    env = serve_environment(clean_environ(PORT=str(free_port())), env_file)
    env["DATABASE_URL"] = f"sqlite:///{folder / 'db.sqlite3'}"
    env["DJANGO_STATIC_ROOT"] = str(folder / "static")
    env["DJANGO_MEDIA_ROOT"] = str(folder / "media")
    env["WEB_CONCURRENCY"] = "2"
    return env


def test_production_settings_pass_their_checks_in_serve_environment(serve_env):
    result = run([sys.executable, "manage.py", "check", "--fail-level", "WARNING"], serve_env)
    assert result.returncode == 0, result.stderr


def test_production_settings_in_serve_environment(serve_env):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SITE_DOMAIN, s.SITE_SCHEME, s.SESSION_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.EMAIL_BACKEND, s.STATIC_ROOT); "
        "print(s.DATABASES['default']['OPTIONS'])"
    )
    result = run([sys.executable, "-c", code], serve_env)
    assert result.returncode == 0, result.stderr
    first, options = result.stdout.splitlines()
    assert first.split() == [
        "False",
        f"127.0.0.1:{serve_env['PORT']}",
        "http",
        "False",
        "False",
        "django.core.mail.backends.console.EmailBackend",
        serve_env["DJANGO_STATIC_ROOT"],
    ]
    # Several worker processes share the SQLite file.
    assert "journal_mode=WAL" in options
    assert "'transaction_mode': 'IMMEDIATE'" in options
    assert "'timeout': 20" in options


def test_sqlite_options_are_not_given_to_postgresql(serve_env):
    env = {**serve_env, "DATABASE_URL": "postgres://blog:secret@127.0.0.1:5432/blog"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['OPTIONS'])"
    )
    result = run([sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{}"


# -- the real server ------------------------------------------------------------------


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(serve_env, tmp_path_factory) -> Iterator[Running]:
    """gunicorn as `make serve` starts it, on a temporary database and static root."""
    logs = tmp_path_factory.mktemp("logs")
    migrate, _fixture, collectstatic = prepare_commands()
    with (logs / "migrate.log").open("w+") as log_a, (logs / "static.log").open("w+") as log_b:
        # Side by side: collectstatic (compressing every file) is the slow one.
        steps = [
            (subprocess.Popen(c, cwd=ROOT, env=serve_env, stdout=log, stderr=log), log)
            for c, log in ((migrate, log_a), (collectstatic, log_b))
        ]
        for step, log in steps:
            step.wait(timeout=PREPARE_TIMEOUT)
            log.seek(0)
            assert step.returncode == 0, log.read()

    require_nginx()
    with running_server(serve_env, logs / "server.log", START_TIMEOUT, STOP_TIMEOUT) as running:
        yield running


def test_server_serves_pages_without_debug(server):
    status, headers, body = get(server.port, "/")
    assert status == 200
    assert headers["server"] == "nginx"  # in front of gunicorn
    assert b"<html" in body

    status, _headers, body = get(server.port, "/no-such-page/")
    assert status == 404
    assert b"DEBUG = True" not in body
    assert b"URLconf" not in body


def test_server_serves_hashed_static_files_compressed_for_ever(server):
    _status, _headers, body = get(server.port, "/")
    stylesheet = re.search(rb'href="(/static/css/site\.[0-9a-f]{12}\.css)"', body)[1].decode()

    status, plain_headers, plain = get(server.port, stylesheet)
    assert status == 200
    assert plain_headers["cache-control"] == "max-age=315360000, public, immutable"
    assert "content-encoding" not in plain_headers

    status, headers, compressed = get(server.port, stylesheet, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == "max-age=315360000, public, immutable"
    assert "Accept-Encoding" in headers["vary"]
    assert gzip.decompress(compressed) == plain

    status, headers, _body = get(server.port, stylesheet, **{"Accept-Encoding": "gzip, br"})
    assert status == 200
    assert headers["content-encoding"] == "br"


def test_server_serves_uploaded_images_itself_and_nothing_as_a_page(server, serve_env):
    # What blog.media stores: images named after a digest of their pixels.
    folder = Path(serve_env["DJANGO_MEDIA_ROOT"]) / "images" / "renditions"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0123abcd-480.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    (folder / "note.html").write_text("<script>alert(1)</script>")

    status, headers, body = get(server.port, "/media/images/renditions/0123abcd-480.webp")
    assert status == 200
    assert body.startswith(b"RIFF")
    assert headers["content-type"] == "image/webp"
    assert headers["cache-control"] == "max-age=31536000, public, immutable"
    assert headers["x-content-type-options"] == "nosniff"

    # Only image types are named: anything else is a download, never a page.
    status, headers, _body = get(server.port, "/media/images/renditions/note.html")
    assert status == 200
    assert headers["content-type"] == "application/octet-stream"
    assert headers["x-content-type-options"] == "nosniff"

    status, _headers, _body = get(server.port, "/media/images/none.png")
    assert status == 404


def test_server_started_the_workers_asked_for(server):
    # WEB_CONCURRENCY=2; workers boot one after another, so wait for them (bounded).
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        children = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, timeout=10
        ).stdout.split()
        if len(children) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(children) == 2


def test_gunicorn_binds_the_socket_it_is_given_or_loopback_only(serve_env):
    code = "import runpy; print(runpy.run_path('tools/gunicorn.py')['bind'])"
    result = run([sys.executable, "-c", code], serve_env)
    assert result.stdout.strip() == f"127.0.0.1:{serve_env['PORT']}"
    socket_env = {**serve_env, "BLOG_GUNICORN_SOCKET": "/run/blog/gunicorn.sock"}
    result = run([sys.executable, "-c", code], socket_env)
    assert result.stdout.strip() == "unix:/run/blog/gunicorn.sock"


def test_mail_worker_runs_beside_the_server_in_its_environment_and_stops_with_it(
    server, serve_env, tmp_path
):
    # The module's server has one: the e-mail worker, on the same database.
    command = Path(f"/proc/{server.worker_pid}/cmdline").read_bytes().split(b"\0")
    assert b"worker" in command
    environ = Path(f"/proc/{server.worker_pid}/environ").read_bytes().split(b"\0")
    assert f"DATABASE_URL={serve_env['DATABASE_URL']}".encode() in environ
    assert b"DJANGO_SETTINGS_MODULE=config.settings.prod" in environ

    # Another server on the same prepared database: its worker goes when it goes.
    with running_server(serve_env, tmp_path / "server.log", START_TIMEOUT, STOP_TIMEOUT) as other:
        assert group_alive(other.worker_pid)
        pids = (other.pid, other.nginx_pid, other.worker_pid)
    assert not any(group_alive(pid) for pid in pids)
