"""`make serve`'s front: Debian's nginx in front of gunicorn (tools/nginx.py), tested with
the real nginx on a free loopback port and a temporary SQLite database.

Slow and oversized requests must not stop the site, pages, feeds and the sitemap go out
compressed, and what a client writes in X-Forwarded-For never changes the address the
site counts it under."""

from __future__ import annotations

import gzip
import http.client
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.urls import reverse

from tools import nginx as nginx_module
from tools import serve as serve_module
from tools.nginx import MAX_BODY_BYTES, NginxMissing, nginx_config
from tools.serve import (
    ROOT,
    Running,
    ensure_env_file,
    free_port,
    prepare_commands,
    running_server,
    running_stack,
    serve_environment,
)

from .nginx import require_nginx
from .test_serve import PREPARE_TIMEOUT, START_TIMEOUT, STOP_TIMEOUT, clean_environ

# Each socket operation's bound: a reader's page must come well within it (tests assert
# that it comes at all while the slow clients are connected, not how fast).
TIMEOUT = 10
SLOW_CLIENTS = 40


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> dict[str, str]:
    """`make serve`'s environment on a temporary database and static root, prepared as
    it prepares them; one worker, which a single slow client would hold if it reached
    gunicorn."""
    require_nginx()
    folder = tmp_path_factory.mktemp("front")
    ensure_env_file(folder / ".env")
    env = serve_environment(clean_environ(), folder / ".env")
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(folder / "static"),
        WEB_CONCURRENCY="1",
    )
    for command in prepare_commands():
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=PREPARE_TIMEOUT
        )
        assert result.returncode == 0, result.stderr
    return env


@pytest.fixture(scope="module")
def stack(prepared, tmp_path_factory) -> Iterator[Running]:
    """nginx and gunicorn as `make serve` starts them."""
    log = tmp_path_factory.mktemp("front-log") / "server.log"
    with running_server(prepared, log, START_TIMEOUT, STOP_TIMEOUT) as running:
        yield running


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        # A header sent twice (Django's Vary: Cookie, nginx's Vary: Accept-Encoding) is
        # one list, as HTTP reads it.
        headers_ = {}
        for name, value in response.getheaders():
            name = name.lower()
            headers_[name] = f"{headers_[name]}, {value}" if name in headers_ else value
        return response.status, headers_, response.read()
    finally:
        connection.close()


def without_csrf_tokens(page: bytes) -> bytes:
    return re.sub(rb'(name="csrfmiddlewaretoken" value=")[^"]*"', rb'\1"', page)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def status_of(sock: socket.socket) -> int:
    """The status of the response waiting on ``sock`` (read within TIMEOUT)."""
    head = b""
    deadline = time.monotonic() + TIMEOUT
    while b"\r\n" not in head and time.monotonic() < deadline:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


# -- slow clients ---------------------------------------------------------------------


def slow_headers(port: int) -> tuple[socket.socket, bytes]:
    return connect(port), f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode()


def slow_body(port: int) -> tuple[socket.socket, bytes]:
    head = (
        f"POST {reverse('comments-post-comment')} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n"
    )
    return connect(port), head.encode() + b"comment="


@pytest.mark.parametrize("opening", [slow_headers, slow_body])
def test_readers_are_served_while_dozens_of_clients_trickle_their_requests(stack, opening):
    clients = [opening(stack.port) for _ in range(SLOW_CLIENTS)]
    try:
        # Each sends its start, then a byte at a time, round after round, never finishing.
        pending = dict(clients)
        for sock, start in clients:
            sock.sendall(start[:1])
        for round_ in range(3):
            for sock, _start in clients:
                sock.sendall(pending[sock][1:2] or b"x")
                pending[sock] = pending[sock][1:]
            # Every slow client is still connected, holding its request open...
            readable, _w, _x = select.select([s for s, _ in clients], [], [], 0)
            assert readable == [], "nginx answered or closed a slow client early"
            # ...and a reader still gets the home page, whole.
            status, _headers, body = get(stack.port, "/")
            assert (round_, status) == (round_, 200)
            assert body.rstrip().endswith(b"</html>")
    finally:
        for sock, _start in clients:
            sock.close()


# -- oversized bodies ---------------------------------------------------------------------

HUNDRED_MB = 100 * 1024 * 1024


def send_until_answered(sock: socket.socket, chunk: bytes, most: int) -> int:
    """Send ``chunk`` after ``chunk`` until the server answers (or stops reading), at
    most ``most`` bytes; how many were sent."""
    sent = 0
    while sent < most:
        readable, _w, _x = select.select([sock], [], [], 0.01)
        if readable:
            break
        try:
            sock.sendall(chunk)
        except OSError:  # closed under the sender: the answer waits to be read
            break
        sent += len(chunk)
    return sent


@pytest.mark.parametrize(
    "path", ["comments-post-comment", "admin:login", "editor:upload", "blog:post-index"]
)
def test_an_oversized_body_is_refused_before_it_is_read(stack, path):
    sock = connect(stack.port)
    try:
        sock.sendall(
            f"POST {reverse(path)} HTTP/1.1\r\nHost: 127.0.0.1:{stack.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {HUNDRED_MB}\r\n\r\n".encode()
        )
        # The body streams slowly; the answer comes before the first megabyte is sent.
        sent = send_until_answered(sock, b"x" * 4096, HUNDRED_MB)
        assert sent < 1024 * 1024, f"{sent} bytes were sent before any answer"
        assert status_of(sock) == 413
    finally:
        sock.close()


def test_a_chunked_body_is_refused_once_past_the_limit(stack):
    # No length to refuse it by: read up to the limit, and no further.
    sock = connect(stack.port)
    try:
        sock.sendall(
            f"POST {reverse('comments-post-comment')} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{stack.port}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
        sent = send_until_answered(sock, chunk, HUNDRED_MB)
        assert sent < 2 * MAX_BODY_BYTES
        assert status_of(sock) == 413
    finally:
        sock.close()


def test_the_body_limit_admits_the_largest_upload_the_editor_takes():
    envelope = 64 * 1024  # multipart boundaries and the form's other fields
    assert settings.MARKDOWNX_UPLOAD_MAX_SIZE + envelope <= MAX_BODY_BYTES
    assert MAX_BODY_BYTES <= 2 * settings.MARKDOWNX_UPLOAD_MAX_SIZE


# -- compression --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, start",
    [("blog:post-index", b"<!doctype html>"), ("blog:feed-atom", b"<?xml"),
     ("blog:feed-rss", b"<?xml"), ("blog:feed-comments", b"<?xml"), ("sitemap", b"<?xml")],
)  # fmt: skip
def test_pages_feeds_and_sitemap_go_out_compressed(stack, path, start):
    status, headers, body = get(stack.port, reverse(path), **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in headers["vary"]
    assert gzip.decompress(body).lstrip().startswith(start)

    status, headers, body = get(stack.port, reverse(path))
    assert "content-encoding" not in headers
    assert body.lstrip().startswith(start)


def test_static_files_keep_whitenoise_headers_through_nginx(stack):
    _status, _headers, body = get(stack.port, "/")
    stylesheet = re.search(rb'href="(/static/css/site\.[0-9a-f]{12}\.css)"', body)[1].decode()
    status, headers, _body = get(stack.port, stylesheet, **{"Accept-Encoding": "gzip, br"})
    assert status == 200
    assert headers["content-encoding"] == "br"  # WhiteNoise's copy, not nginx's gzip
    assert headers["cache-control"] == "max-age=315360000, public, immutable"


# -- the address the site sees ------------------------------------------------------------


def sign_in_failure(port: int, forwarded: str) -> int:
    """One failed staff sign-in, through nginx, claiming ``forwarded``."""
    path = reverse("admin:login")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        cookie = SimpleCookie(response.getheader("Set-Cookie"))["csrftoken"].value
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.read())[1]
        form = {"csrfmiddlewaretoken": token.decode(), "username": "editor", "password": "no"}
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "X-Forwarded-For": forwarded,
        }
        connection.request("POST", path, urlencode(form), headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_forwarded_addresses_sent_to_nginx_do_not_change_the_address_counted(stack):
    spoofs = ["203.0.113.1", "203.0.113.2, 203.0.113.3", "unknown", "::1", "10.0.0.1",
              "198.51.100.1:80", "203.0.113.4,203.0.113.5,203.0.113.6"]  # fmt: skip
    statuses = [sign_in_failure(stack.port, spoof) for spoof in spoofs]
    # One address (the reader's, 127.0.0.1) made every failure: paused at the fifth.
    assert statuses == [200, 200, 200, 200, 429, 429, 429]


# -- gunicorn only behind nginx -----------------------------------------------------------


def test_readers_reach_nginx_and_gunicorn_only_through_it(stack):
    _status, headers, _body = get(stack.port, "/")
    assert headers["server"] == "nginx"
    assert stack.socket.is_socket()
    assert oct(stack.socket.parent.stat().st_mode & 0o777) == "0o700"
    # gunicorn listens on no TCP port at all: only its socket.
    listening = subprocess.run(
        ["ss", "-Hltnp"], capture_output=True, text=True, timeout=TIMEOUT
    ).stdout
    assert f"pid={stack.pid}," not in listening
    assert f"pid={stack.nginx_pid}," in listening


def test_the_config_passes_the_readers_host_and_address_and_the_real_scheme(tmp_path):
    config = nginx_config(tmp_path, 18400, tmp_path / "g.sock")
    assert "proxy_set_header Host $http_host;" in config
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config
    assert "listen 127.0.0.1:18400;" in config
    assert f"server unix:{tmp_path / 'g.sock'};" in config
    assert str(tmp_path / "client_body") in config


# -- make serve itself: stopping ----------------------------------------------------------

# `python -m tools.serve` on the prepared database: no .env written into the checkout,
# and the preparation already done.
MAKE_SERVE = """
import functools, sys
from pathlib import Path
import tools.serve as serve
serve.ensure_env_file = lambda: False
serve.serve_environment = functools.partial(serve.serve_environment, env_file=Path(sys.argv[1]))
serve.prepare_commands = lambda: []
serve.main()
"""


@contextmanager
def make_serve(prepared: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen, Path]]:
    port = free_port()
    output = tmp_path / "serve.log"
    env = {**prepared, "PORT": str(port), "DJANGO_SITE_DOMAIN": f"127.0.0.1:{port}"}
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", MAKE_SERVE, str(tmp_path / "absent.env")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while "Serving at" not in output.read_text():
                assert process.poll() is None, output.read_text()
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.2)
            yield process, output
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def children(pid: int) -> dict[str, int]:
    """The servers a process started, by name: {"gunicorn": pid, "nginx": pid}."""
    found = {}
    for child in subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, timeout=TIMEOUT
    ).stdout.split():
        command = Path(f"/proc/{child}/cmdline").read_bytes()
        found["nginx" if b"nginx" in command.split(b"\0")[0] else "gunicorn"] = int(child)
    return found


def gone(pid: int) -> bool:
    deadline = time.monotonic() + STOP_TIMEOUT
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        # A zombie until its parent reaps it: stopped all the same.
        if "State:\tZ" in Path(f"/proc/{pid}/status").read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return not Path(f"/proc/{pid}").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_make_serve_stops_nginx_and_gunicorn(prepared, tmp_path, signum):
    with make_serve(prepared, tmp_path) as (process, output):
        servers = children(process.pid)
        assert set(servers) == {"gunicorn", "nginx"}
        runtime = Path(re.search(r"unix:(\S+)/gunicorn\.sock", output.read_text())[1])
        assert runtime.is_dir()
        process.send_signal(signum)  # Ctrl-C in the terminal, or a service manager's stop
        assert process.wait(timeout=STOP_TIMEOUT) == 0
        assert "Stopped." in output.read_text()
        assert gone(servers["gunicorn"]) and gone(servers["nginx"])
        assert group_gone(servers["gunicorn"]) and group_gone(servers["nginx"])
        assert not runtime.exists()


@pytest.mark.parametrize("victim", ["gunicorn", "nginx"])
def test_when_one_server_dies_make_serve_stops_the_other(prepared, tmp_path, victim):
    with make_serve(prepared, tmp_path) as (process, output):
        servers = children(process.pid)
        os.kill(servers[victim], signal.SIGKILL)
        assert process.wait(timeout=STOP_TIMEOUT) == 1
        assert f"{victim} stopped" in output.read_text()
        survivor = servers["nginx" if victim == "gunicorn" else "gunicorn"]
        assert gone(survivor)
        # Nothing of either left behind: nginx's workers outlive a killed master.
        for leader in servers.values():
            assert group_gone(leader)


def group_gone(pgid: int) -> bool:
    """No process is left in the group (zombies awaiting their parent count as gone)."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        members = subprocess.run(
            ["pgrep", "-g", str(pgid)], capture_output=True, text=True, timeout=TIMEOUT
        ).stdout.split()
        alive = [pid for pid in members if "State:\tZ" not in _status(pid)]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def _status(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text(errors="replace")
    except FileNotFoundError:
        return "State:\tZ"


def test_without_nginx_make_serve_says_how_to_install_it_and_starts_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(nginx_module.shutil, "which", lambda _name: None)
    monkeypatch.setattr(nginx_module, "DEBIAN_NGINX", tmp_path / "no-nginx")
    monkeypatch.setattr(serve_module, "ensure_env_file", lambda: False)
    started = []
    monkeypatch.setattr(serve_module.subprocess, "run", lambda *a, **k: started.append(a))
    monkeypatch.setattr(serve_module.subprocess, "Popen", lambda *a, **k: started.append(a))
    with pytest.raises(SystemExit, match=r"apt-get install nginx"):
        serve_module.main()
    with pytest.raises(NginxMissing), running_stack({}, 18499):
        pass
    assert started == []


# -- the page cache behind nginx ----------------------------------------------------------


def test_anonymous_pages_through_nginx_come_from_the_page_cache(stack, prepared):
    """The Host nginx passes on is the one the cache stores pages under (issue 14,
    item 7): a title changed behind the site's back (no new content token) is not seen
    until the token changes, which only a page served from the cache can show."""
    import sqlite3

    database = prepared["DATABASE_URL"].removeprefix("sqlite:///")
    _status, _headers, before = get(stack.port, "/")
    with sqlite3.connect(database) as db:
        [(pk, title)] = db.execute("SELECT id, title FROM blog_post WHERE title != '' LIMIT 1")
        db.execute("UPDATE blog_post SET title = ? WHERE id = ?", ("Behind the cache", pk))
    try:
        _status, _headers, cached = get(stack.port, "/")
        # The same page but for the CSRF token of its forms, each reader's own.
        assert without_csrf_tokens(cached) == without_csrf_tokens(before)
        assert b"Behind the cache" not in cached
    finally:
        with sqlite3.connect(database) as db:
            db.execute("UPDATE blog_post SET title = ? WHERE id = ?", (title, pk))


# -- nginx's own page cache ---------------------------------------------------------------


def form_tokens(page: bytes) -> list[str]:
    return [t.decode() for t in re.findall(rb'name="csrfmiddlewaretoken" value="([^"]*)"', page)]


def csrf_cookie(headers: dict[str, str]) -> str | None:
    cookie = SimpleCookie(headers.get("set-cookie", ""))
    return cookie[settings.CSRF_COOKIE_NAME].value if settings.CSRF_COOKIE_NAME in cookie else None


def front_status(port: int, path: str, **headers: str) -> tuple[str, dict[str, str], bytes]:
    _status, headers_, body = get(port, path, **headers)
    return headers_.get("x-front-cache-status", ""), headers_, body


def kept(port: int, path: str) -> tuple[str, dict[str, str], bytes]:
    """The page as nginx serves it from its cache. A page built in the first fifth of
    a second is not kept (FRONT_KEEP_AFTER): asked again until it is, for 2 s at most."""
    deadline = time.monotonic() + 2
    while True:
        answer = front_status(port, path)
        if answer[0] == "HIT" or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


@pytest.fixture
def front(stack) -> Running:
    if not nginx_module.lua_available():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx's Lua module is missing: make nginx installs it")
        pytest.skip("no libnginx-mod-http-lua: nginx keeps no pages")
    return stack


def test_nginx_keeps_anonymous_pages_and_gives_each_reader_their_own_token(front):
    from django.middleware.csrf import _does_token_match

    path = reverse("blog:archive-month", args=[2014, 4])
    front_status(front.port, path)
    seen: set[str] = set()
    for _ in range(3):
        status, headers, body = front_status(front.port, path)
        assert status in ("HIT", "UPDATING", "MISS", "EXPIRED")
        assert "x-front-csrf" not in headers
        assert "x-accel-expires" not in headers
        assert int(headers["content-length"]) == len(body)
        # A reader with no cookie is given one, and the page's tokens are of its secret.
        secret = csrf_cookie(headers)
        tokens = form_tokens(body)
        assert secret and tokens
        assert all(_does_token_match(token, secret) for token in tokens)
        seen.update(tokens)
    assert kept(front.port, path)[0] == "HIT"
    assert len(seen) == 3 * len(tokens)  # masked afresh every time (BREACH)

    # A reader with a cookie keeps it: no new one, and tokens of their secret.
    secret = "a" * 20 + "B" * 12
    for cookie in (secret, django_masked(secret)):
        _status, headers, body = front_status(
            front.port, path, Cookie=f"{settings.CSRF_COOKIE_NAME}={cookie}"
        )
        assert csrf_cookie(headers) is None
        assert all(_does_token_match(token, secret) for token in form_tokens(body))
    # A cookie Django would not read is replaced.
    _status, headers, body = front_status(
        front.port, path, Cookie=f"{settings.CSRF_COOKIE_NAME}=not-a-secret"
    )
    new = csrf_cookie(headers)
    assert new and all(_does_token_match(token, new) for token in form_tokens(body))


def test_a_browser_without_a_csrf_cookie_is_never_sent_304(front):
    """A page the browser kept carries tokens of the secret it had then: a browser whose
    cookie is gone gets the page again, with a new cookie, not "Not Modified"."""
    from django.middleware.csrf import _does_token_match

    path = reverse("blog:tag-list")
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    front_status(front.port, path, **browser)
    _status, headers, _body = front_status(front.port, path, **browser)
    etag, secret = headers["etag"], csrf_cookie(headers)
    cookie = f"{settings.CSRF_COOKIE_NAME}={secret}"
    kept = {**browser, "If-None-Match": etag}
    assert get(front.port, path, **kept, Cookie=cookie)[0] == 304
    status, headers, body = get(front.port, path, **kept)
    assert status == 200
    new = csrf_cookie(headers)
    assert new and all(_does_token_match(token, new) for token in form_tokens(body))
    # Feeds carry no token: a 304 for a feed reader, with no cookie.
    feed = reverse("blog:feed-atom")
    front_status(front.port, feed)
    etag = front_status(front.port, feed)[1]["etag"]
    assert get(front.port, feed, **{"If-None-Match": etag})[0] == 304


def django_masked(secret: str) -> str:
    from django.middleware.csrf import _mask_cipher_secret

    return _mask_cipher_secret(secret)


def test_compressed_pages_never_carry_the_same_token_twice(front):
    path = reverse("blog:post-index")
    front_status(front.port, path)
    bodies = [
        gzip.decompress(front_status(front.port, path, **{"Accept-Encoding": "gzip"})[2])
        for _ in range(3)
    ]
    tokens = [token for body in bodies for token in form_tokens(body)]
    assert len(tokens) == len(set(tokens)) >= 3
    assert len({without_csrf_tokens(body) for body in bodies}) == 1


def test_a_form_from_a_page_nginx_kept_is_accepted(front):
    """The footer's follow form, posted with the token and cookie nginx gave."""
    path = reverse("blog:post-index")
    status, headers, body = kept(front.port, path)
    assert status == "HIT"
    cookie = csrf_cookie(headers)
    footer = body.split(b"<footer")[1]
    form = re.search(rb'<form[^>]+action="([^"]+)"[^>]*>(.*?)</form>', footer, re.S)
    fields = dict(re.findall(rb'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[2]))
    fields = {name.decode(): value.decode() for name, value in fields.items()}
    fields.update(email="front-cache@example.org", frequency="post")
    connection = http.client.HTTPConnection("127.0.0.1", front.port, timeout=TIMEOUT)
    try:
        connection.request("POST", form[1].decode(), urlencode(fields), {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"{settings.CSRF_COOKIE_NAME}={cookie}",
        })  # fmt: skip
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 303
    # Whoever wrote gets pages from no cache for a few seconds after.
    assert "blog_fresh=1" in response.getheader("Set-Cookie")
    assert front_status(front.port, path, Cookie="blog_fresh=1")[0] == "BYPASS"


def test_readers_with_a_session_are_never_served_by_nginx(front):
    path = reverse("blog:post-index")
    for cookie in ("sessionid=abc", "messages=abc", "blog_fresh=1"):
        assert front_status(front.port, path, Cookie=cookie)[0] == "BYPASS", cookie
    assert front_status(front.port, path, Authorization="Basic eDp5")[0] == "BYPASS"


def test_a_change_reaches_nginx_readers_within_a_second(front, prepared):
    """A change committed behind nginx (a new title and content token, as the write path
    commits them) is served within a second or so: nginx keeps a page to the end of the
    second it was built in."""
    import sqlite3

    database = prepared["DATABASE_URL"].removeprefix("sqlite:///")
    path = reverse("blog:post-index")
    front_status(front.port, path)
    with sqlite3.connect(database) as db:
        [(pk, title)] = db.execute("SELECT id, title FROM blog_post WHERE title != '' LIMIT 1")
        db.execute("UPDATE blog_post SET title = ? WHERE id = ?", ("Seen by nginx", pk))
        db.execute("UPDATE blog_contentversion SET token = ?", ("front-cache-test",))
    changed = time.monotonic()
    try:
        deadline = changed + 5  # the bound of the wait, not of the promise
        while time.monotonic() < deadline and b"Seen by nginx" not in get(front.port, path)[2]:
            time.sleep(0.05)
        # Within 0.8 s of the commit (FRONT_KEEP_AFTER), and the time of one build: 2 s
        # leaves a margin for a loaded machine.
        assert time.monotonic() - changed < 2
    finally:
        with sqlite3.connect(database) as db:
            db.execute("UPDATE blog_post SET title = ? WHERE id = ?", (title, pk))
            db.execute("UPDATE blog_contentversion SET token = ?", ("front-cache-test-2",))


def test_pages_django_does_not_store_nginx_does_not_keep(front):
    from django.middleware.csrf import _does_token_match

    path = reverse("blog:post-index") + "?utm_source=newsletter"  # not a canonical address
    for _ in range(3):
        status, headers, body = front_status(front.port, path)
        assert status in ("MISS", "EXPIRED")
        secret = csrf_cookie(headers)
        assert all(_does_token_match(token, secret) for token in form_tokens(body))
