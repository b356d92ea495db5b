"""tools/front_csrf.lua on its own, in a small nginx of its own: a page whose CSRF
placeholders fall across the buffers nginx passes the body filter in (1 KB here, as
read from upstream and from the cache file), filled at Django's offsets on a miss and
on a hit, every other byte as it was. The whole stack's front cache is tests/test_front.py.
"""

from __future__ import annotations

import http.client
import os
import pwd
import subprocess
import time
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from tools import nginx as nginx_module
from tools.serve import free_port

from .nginx import require_nginx

PLACEHOLDER = "P" * 64  # as long as a masked token
# Across the first 1 KB boundary, at the start of the third KB, and last in the page.
OFFSETS = (1000, 2048, 3000 - 64)
BUFFER = "1k"


def page() -> bytes:
    body = bytearray(b"x" * 3000)
    for at in OFFSETS:
        body[at : at + 64] = PLACEHOLDER.encode()
    return bytes(body)


def config(folder: Path, upstream: int, front: int) -> str:
    modules = "\n".join(f"load_module {module};" for module in nginx_module.LUA_MODULES)
    header = f"{PLACEHOLDER} {','.join(map(str, OFFSETS))} csrftoken=__secret__; Path=/"
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Run by root, the worker would become `nobody`, who cannot read this test's folder.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    return f"""{modules}
{user}
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
{temp}
    access_log off;
    lua_package_path "{nginx_module.TOOLS}/?.lua;;";
    init_by_lua_block {{ require("front_csrf") }}
    proxy_cache_path {folder / "cache"} keys_zone=test:1m;
    server {{
        listen 127.0.0.1:{upstream};
        location /page {{
            default_type text/html;
            alias {folder / "page.html"};
            add_header X-Front-Csrf "{header}";
            add_header X-Accel-Expires 60;
        }}
    }}
    server {{
        listen 127.0.0.1:{front};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_cache test;
            proxy_buffering on;
            proxy_buffer_size {BUFFER};
            proxy_buffers 8 {BUFFER};
            output_buffers 1 {BUFFER};
            proxy_hide_header X-Front-Csrf;
            header_filter_by_lua_block {{ require("front_csrf").header() }}
            body_filter_by_lua_block {{ require("front_csrf").body() }}
            add_header X-Cache $upstream_cache_status always;
        }}
    }}
}}
"""


@pytest.fixture
def front(tmp_path: Path):
    binary = require_nginx()
    if not nginx_module.lua_available():
        pytest.skip("no libnginx-mod-http-lua")
    (tmp_path / "page.html").write_bytes(page())
    upstream, port = free_port(), free_port()
    (tmp_path / "nginx.conf").write_text(config(tmp_path, upstream, port))
    process = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                get(port, "/started")  # not the page: its first request is to be a miss
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield port, tmp_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def get(port: int, path: str = "/page") -> tuple[str, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        cookie = SimpleCookie(response.getheader("Set-Cookie") or "")
        secret = cookie["csrftoken"].value if "csrftoken" in cookie else ""
        return response.getheader("X-Cache") or "", secret, body
    finally:
        connection.close()


def test_placeholders_across_buffers_are_filled_on_a_miss_and_on_a_hit(front):
    from django.middleware.csrf import _does_token_match

    port, folder = front
    original = page()
    statuses, tokens = [], []
    for _ in range(3):
        status, secret, body = get(port)
        statuses.append(status)
        assert len(body) == len(original) and secret
        for at in OFFSETS:
            token = body[at : at + 64].decode()
            assert _does_token_match(token, secret), (status, at, token)
            tokens.append(token)
        # Every byte but the tokens' as the page has them.
        unfilled = bytearray(body)
        for at in OFFSETS:
            unfilled[at : at + 64] = PLACEHOLDER.encode()
        assert bytes(unfilled) == original
    assert statuses[0] == "MISS" and statuses[-1] == "HIT"
    assert len(set(tokens)) == len(tokens)  # each masked afresh (BREACH)
    assert "front_csrf" not in (folder / "error.log").read_text()
