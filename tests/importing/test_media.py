"""--fetch-media: images served from a local HTTP server on 127.0.0.1 (a random
port), stored by content in a temporary MEDIA_ROOT, the body pointed at the copies,
failures listed with their reason and their links left as they were."""

import http.server
import io
import threading
import time

import pytest
from PIL import Image

from blog.importing import media
from blog.importing.media import localise_images


def png(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), colour).save(out, "PNG")
    return out.getvalue()


PNG = png()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # http.server's name
        if self.path == "/photo.png" or self.path == "/other-name.png":
            self._send(200, PNG)
        elif self.path == "/page.png":
            self._send(200, b"<html>not an image</html>")
        elif self.path == "/big.png":
            self._send(200, b"\0" * 2048)
        elif self.path == "/slow.png":
            time.sleep(1)
            self._send(200, PNG)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/photo.png")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif self.path == "/to-ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/x.png")
            self.end_headers()
        else:
            self._send(404, b"missing")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The fetcher hangs up on purpose (too big, too slow): not the test's failure.
        pass


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_URL = "/media/"
    return tmp_path


def stored(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_an_image_is_stored_and_the_body_rewritten(server, media_root):
    url = f"{server}/photo.png"
    table = f'<table><tr><td><img src="{url}"></td></tr></table>'
    body = f"![A photo]({url}) and [big]({url}2) and {table}"
    result = localise_images(body, [url], timeout=5)
    assert result.fetched == [url] and result.failures == []
    [path] = stored(media_root)
    assert path.startswith("imported/") and path.endswith("/photo.png")
    assert (media_root / path).read_bytes() == PNG
    assert result.body == (
        f"![A photo](/media/{path}) and [big]({url}2) and "
        f'<table><tr><td><img src="/media/{path}"></td></tr></table>'
    )


def test_the_same_image_is_stored_once(server, media_root):
    url = f"{server}/photo.png"
    first = localise_images(f"![]({url})", [url, url], timeout=5)
    second = localise_images(f"![]({url})", [url], timeout=5)
    assert first.body == second.body
    assert len(stored(media_root)) == 1


def test_a_redirect_is_followed(server, media_root):
    result = localise_images(f"![]({server}/moved)", [f"{server}/moved"], timeout=5)
    assert result.failures == []
    assert result.body.startswith("![](/media/imported/")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.png", "HTTP 404"),
        ("/page.png", "not an image"),
        ("/loop", "too many redirects"),
        ("/to-ftp", "redirected to a ftp: address"),
    ],
)
def test_failures_are_listed_and_the_link_kept(server, media_root, path, reason):
    url = f"{server}{path}"
    result = localise_images(f"![x]({url})", [url], timeout=5)
    assert result.failures == [(url, reason)]
    assert result.body == f"![x]({url})"
    assert stored(media_root) == []


def test_too_big_is_refused(server, media_root, monkeypatch):
    monkeypatch.setattr(media, "MAX_BYTES", 1024)
    url = f"{server}/big.png"
    result = localise_images(f"![]({url})", [url], timeout=5)
    assert result.failures == [(url, "too big (2048 bytes)")]


def test_a_slow_server_times_out(server, media_root):
    url = f"{server}/slow.png"
    started = time.monotonic()
    result = localise_images(f"![]({url})", [url], timeout=0.2)
    assert result.failures == [(url, "timed out")]
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x.png", "file:///etc/passwd", "data:image/png;base64,AA"]
)
def test_other_schemes_are_refused(url, media_root):
    result = localise_images(f"![]({url})", [url])
    assert result.failures == [(url, "not an http or https address")]


def test_safe_names():
    assert media.safe_name("http://x/a/Ünïcode%20Name.JPG?x=1") == "unicode-name"
    assert media.safe_name("http://x/../../") == "image"
