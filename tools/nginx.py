"""nginx in front of gunicorn, as `make serve` runs it: Debian's nginx, unprivileged and in
the foreground, with a configuration written into the run's own directory.

Why a buffering proxy: gunicorn's synchronous workers each serve one connection at a
time, from its first byte to its last. A client that sends its headers a byte at a time
(or a body slowly) holds a worker all along, and a couple of such clients hold them all.
nginx reads every request whole (headers, then the body, to its size limit) before
handing it to gunicorn, and takes the response whole from gunicorn before trickling it
out to a slow reader: gunicorn's workers only ever see complete requests, at loopback
speed. What is too large is refused from the Content-Length alone, before the body is
read.

Nothing outside the run's directory is read or written except nginx's own binary and the
uploaded images it serves (MEDIA_ROOT; the static files WhiteNoise serves, and
docs/serving.md says why): the pid
file, the logs and the temporary files are all in that directory, so no system-wide
configuration is touched and several servers run side by side.
"""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path
from typing import Any, NamedTuple

# The largest legitimate request is the editor's image upload: MARKDOWNX_UPLOAD_MAX_SIZE
# (5 MB) plus the multipart envelope; a megabyte of margin covers it (tests/test_front.py
# checks the two agree).
MAX_BODY_BYTES = 6 * 1024 * 1024
# A reader's browser sends its headers at once; ten seconds is generous for a slow
# phone, and short enough that a trickling client only holds an nginx connection (cheap),
# never a worker, and not for long.
CLIENT_TIMEOUT = 10
# What nginx compresses on the way out (text/html always is). WhiteNoise's static files
# arrive already compressed, with Content-Encoding set, and nginx leaves those alone.
GZIP_TYPES = (
    "text/plain text/css text/xml text/javascript application/javascript application/json "
    "application/xml application/atom+xml application/rss+xml application/manifest+json "
    "image/svg+xml"
)
# Where Debian installs it, for shells without /usr/sbin on their PATH.
DEBIAN_NGINX = Path("/usr/sbin/nginx")
# Debian's Lua module (libnginx-mod-http-lua) and the kit it needs: the front cache fills
# each reader's CSRF token with it (tools/front_csrf.lua).
LUA_MODULES = (
    Path("/usr/lib/nginx/modules/ndk_http_module.so"),
    Path("/usr/lib/nginx/modules/ngx_http_lua_module.so"),
)
TOOLS = Path(__file__).resolve().parent
# The cookies that make a request the reader's own (blog.pagecache): a session, messages
# waiting, a write in the last seconds (FRESH_COOKIE). tests/test_front.py checks them
# against the settings.
SESSION_COOKIE = "sessionid"
MESSAGES_COOKIE = "messages"
FRESH_COOKIE = "blog_fresh"
INSTALL_HINT = (
    "make serve runs Debian's nginx in front of gunicorn, and no nginx was found: "
    "`apt-get install nginx` (as root), or `make nginx`, which does it when run as root."
)


class NginxMissing(RuntimeError):
    pass


def find_nginx() -> str:
    """nginx's binary; NginxMissing, saying how to install it, when there is none."""
    found = shutil.which("nginx") or (str(DEBIAN_NGINX) if DEBIAN_NGINX.exists() else None)
    if found is None:
        raise NginxMissing(INSTALL_HINT)
    return found


class Media(NamedTuple):
    """Where uploaded images are read (MEDIA_URL) and stored (MEDIA_ROOT)."""

    url: str
    root: Path


def lua_available() -> bool:
    return all(module.exists() for module in LUA_MODULES)


def nginx_config(
    runtime: Path,
    port: int,
    socket: Path,
    media: Media | None = None,
    *,
    front_cache: bool = True,
    bench_static: Path | None = None,
) -> str:
    """The whole configuration: nginx on 127.0.0.1:port, gunicorn on the Unix socket,
    the uploaded images (``media``) served from their folder, and, with ``front_cache``
    (and Debian's Lua module installed), anonymous readers' pages kept by nginx
    (``_front_cache``). ``bench_static``: a folder served at /bench-static/, for the
    benchmark's references only (bench/)."""
    front_cache = front_cache and lua_available()
    # Run by root, nginx's workers would become `nobody`, who cannot reach the socket in
    # this run's private directory: they stay the user who started `make serve`.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {runtime / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    modules = "\n".join(f"load_module {module};" for module in LUA_MODULES) if front_cache else ""
    return f"""# Written by tools/nginx.py for one run of `make serve`; not to be edited.
{user}
{modules}
worker_processes auto;
pid {runtime / "nginx.pid"};
error_log stderr warn;

events {{
    worker_connections 1024;
}}

http {{
{temp}
    # Errors only, like gunicorn (GUNICORN_CMD_ARGS="--access-logfile -" for the rest).
    access_log off;
    server_tokens off;
    default_type application/octet-stream;

    # Slow clients: each phase of a request must progress within these, or the
    # connection is closed (and its memory freed at once).
    client_header_timeout {CLIENT_TIMEOUT}s;
    client_body_timeout {CLIENT_TIMEOUT}s;
    send_timeout {CLIENT_TIMEOUT}s;
    keepalive_timeout 15s;
    keepalive_requests 10000;
    reset_timedout_connection on;
    sendfile on;
    # Not tcp_nopush: corked, the last part of a large page waited for the reader's
    # delayed ACK (the 10k Atom feed, 73 KB: 40 ms a request, 96 req/s, against 8,700).
    tcp_nopush off;
    # Larger bodies are refused with 413 from their Content-Length, before any is read.
    client_max_body_size {MAX_BODY_BYTES};

    # Compressed only on the way out. Pages that carry a CSRF token are safe to compress
    # (BREACH) because the token is masked afresh in every response, by Django or, in
    # the pages nginx keeps, by tools/front_csrf.lua.
    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_comp_level 5;
    gzip_min_length 256;
    gzip_types {GZIP_TYPES};

    upstream gunicorn {{
        server unix:{socket};
    }}
{_front_cache_http(runtime) if front_cache else ""}
    server {{
        listen 127.0.0.1:{port};

{_media_location(media) if media else ""}{_bench_location(bench_static) if bench_static else ""}
        location / {{
{_FRONT_CACHE_LOCATION if front_cache else _NO_FRONT_CACHE}
            proxy_pass http://gunicorn;
            # Whole requests to gunicorn, whole responses from it.
            proxy_request_buffering on;
            proxy_buffering on;
            proxy_redirect off;
            # gunicorn restarts a worker silent for 30 s; this is only a backstop.
            proxy_read_timeout 60s;
            # The Host as the reader sent it (port included), for ALLOWED_HOSTS and the
            # page cache; the reader's address appended to X-Forwarded-For, which the site
            # believes from this proxy only (DJANGO_TRUSTED_PROXIES=unix); the scheme
            # replaced, never passed on from the reader.
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def nginx_command(nginx: str, runtime: Path, config: Path) -> list[str]:
    """nginx in the foreground, with every path its own (-p) and errors on stderr (-e):
    even before the configuration is read, nothing is written under /var/log/nginx."""
    return [nginx, "-p", f"{runtime}/", "-c", str(config), "-e", "stderr", "-g", "daemon off;"]


def _media_location(media: Media) -> str:
    """Uploaded images, straight from disk: blog.media names each file after a digest of
    its pixels, so a name never gets other content and browsers may keep it for ever.
    Only the image types the site makes are named; anything else in the folder goes out
    as a download that no browser will sniff into a page."""
    return f"""
        location {media.url} {{
            alias {media.root}/;
            types {{
                image/jpeg jpg jpeg;
                image/png png;
                image/webp webp;
            }}
            default_type application/octet-stream;
            add_header Cache-Control "max-age=31536000, public, immutable";
            add_header X-Content-Type-Options nosniff;
        }}"""


_SKIP_WHEN = ":".join(
    [
        "$request_method",
        *(f"$cookie_{name}" for name in (SESSION_COOKIE, MESSAGES_COOKIE, FRESH_COOKIE)),
        "$http_authorization",
    ]
)


def _front_cache_http(runtime: Path) -> str:
    return f"""
    # The front cache: anonymous readers' pages, kept by nginx (see _FRONT_CACHE_LOCATION).
    lua_package_path "{TOOLS}/?.lua;;";
    init_by_lua_block {{ require("front_csrf") }}
    proxy_cache_path {runtime / "pages"} levels=1:2 keys_zone=pages:16m max_size=512m
                     inactive=10m use_temp_path=off;
    # Requests nginx may answer from its cache: GET or HEAD, by a reader with none of the
    # cookies that make a page their own, and no credentials.
    map "{_SKIP_WHEN}" $front_cache_skip {{
        "~^(GET|HEAD)::::$" 0;
        default 1;
    }}
    map $front_cache_skip $front_cache_request {{
        0 1;
        default "";
    }}
"""


# Why nginx's own cache (proxy_cache), and not nginx reading the pages Django stores
# (srcache, memc, Redis from Lua): it serves a page from memory and the file cache with
# no round trip to anything, so at the rate of a static file; it works whatever cache
# Django has (the default keeps pages in each process's memory, where nginx cannot read
# them); and its "use stale while updating" is the single flight after a change.
#
# Freshness: Django says how long to keep each page (X-Accel-Expires: to the end of the
# second it was built in, unless built in its first fifth: FRONT_KEEP_AFTER), so no one
# is given a page older than 0.8 s, save while its replacement is built: the first
# request after that goes to Django, and the others get the page as it was meanwhile
# (use_stale updating), never longer. A reader with a session, messages, or a write in
# the last few seconds (FRESH_COOKIE) is passed to Django, whose page cache is never
# stale. What Django sends for nginx to keep has the CSRF fields' placeholder in place
# of a token, and nothing of the reader's (no cookie: nginx keeps nothing that comes
# with Set-Cookie); front_csrf.lua fills it.
_FRONT_CACHE_LOCATION = """            proxy_cache pages;
            proxy_cache_key $scheme$http_host$request_uri;
            proxy_cache_bypass $front_cache_skip;
            proxy_no_cache $front_cache_skip;
            proxy_cache_use_stale updating;
            # Only X-Accel-Expires says what is kept: the browser's headers (private,
            # no-cache) are the reader's, and Vary: Cookie is covered by the skip above.
            proxy_ignore_headers Cache-Control Expires Vary;
            proxy_set_header X-Front-Cache $front_cache_request;
            proxy_hide_header X-Front-Csrf;
            # A kept page read in one buffer (up to this size, no more than it needs):
            # front_csrf.lua's body filter then runs once, not once per 32 KB.
            output_buffers 1 128k;
            rewrite_by_lua_block { require("front_csrf").request("csrftoken") }
            header_filter_by_lua_block { require("front_csrf").header() }
            body_filter_by_lua_block { require("front_csrf").body() }
            add_header X-Front-Cache-Status $upstream_cache_status always;"""


# Without it, no reader may ask Django for the page nginx would keep.
_NO_FRONT_CACHE = '            proxy_set_header X-Front-Cache "";'


def _bench_location(folder: Path) -> str:
    return f"""
        location /bench-static/ {{
            alias {folder}/;
            default_type text/html;
        }}"""


def write_config(
    runtime: Path, port: int, socket: Path, media: Media | None = None, **options: Any
) -> Path:
    """``nginx_config(...)`` (``options``: its keyword arguments) in the run's folder."""
    config = runtime / "nginx.conf"
    config.write_text(nginx_config(runtime, port, socket, media, **options))
    return config
