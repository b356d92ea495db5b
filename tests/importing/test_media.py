"""--fetch-media: images served from a local HTTP server on 127.0.0.1 (a random
port), stored as the editor's uploads are (blog.media.store_upload: once, stripped of
their camera and location data, in renditions) in a temporary MEDIA_ROOT, the body
pointed at the copies, failures listed with their reason and their links left as they
were; an animated GIF kept as a file, its frames re-saved without their comment."""

import http.server
import io
import threading
import time

import pytest
from PIL import Image, ImageSequence

from blog import media as blog_media
from blog.importing import media
from blog.importing.media import localise_images
from blog.models import Image as StoredImage
from blog.models import Rendition

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def png(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), colour).save(out, "PNG")
    return out.getvalue()


PNG = png()


def picture(size=(2000, 1500), colour=(30, 120, 200)) -> Image.Image:
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 50):  # not one colour: a resize shows
        image.paste((x % 255, 40, 90), (x, 0, x + 10, size[1]))
    return image


def gps_jpeg() -> bytes:
    """A photo whose EXIF names the camera and where it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "Phonemaker"  # Make
    exif[0x0110] = "Pocket 12"  # Model
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    out = io.BytesIO()
    picture().save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def encoded(fmt: str, **options) -> bytes:
    out = io.BytesIO()
    picture((640, 480), colour=(200, 10, 10)).save(out, fmt, **options)
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (40, 30), (i * 100, 50, 200 - i * 90)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300],
        loop=0,
        comment=b"taken at 12 Acacia Road",
    )
    return out.getvalue()


def still_gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (30, 20), 5).save(out, "GIF", comment=b"a comment")
    return out.getvalue()


FILES = {
    "/gps.jpg": gps_jpeg(),
    "/picture.bmp": encoded("BMP"),
    "/picture.webp": encoded("WEBP", lossless=True),
    "/still.gif": still_gif(),
    "/animated.gif": animated_gif(),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # http.server's name
        if self.path == "/photo.png" or self.path == "/other-name.png":
            self._send(200, PNG)
        elif self.path in FILES:
            self._send(200, FILES[self.path])
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
    image = StoredImage.objects.get()
    local = blog_media.canonical_url(image)  # what the editor would insert
    assert local.startswith("/media/images/renditions/") and local.endswith("-4.png")
    assert result.body == (
        f"![A photo]({local}) and [big]({url}2) and "
        f'<table><tr><td><img src="{local}"></td></tr></table>'
    )
    # The original and a PNG and a WebP rendition, four pixels wide.
    assert len(stored(media_root)) == 3 and image.renditions.count() == 2
    assert image.alt_text == "A photo"  # the body's words
    # What the write path will find in the body: this image, by the address used.
    assert blog_media.images_in([result.body]) == {local: image}


def test_the_same_image_is_stored_once(server, media_root):
    url = f"{server}/photo.png"
    first = localise_images(f"![]({url})", [url, url], timeout=5)
    files = stored(media_root)
    second = localise_images(f"![]({url})", [url], timeout=5)
    assert first.body == second.body
    assert StoredImage.objects.count() == 1 and stored(media_root) == files
    # Another address with the same picture: the same image.
    other = localise_images(f"![]({server}/other-name.png)", [f"{server}/other-name.png"])
    assert other.body == first.body and StoredImage.objects.count() == 1


def test_a_redirect_is_followed(server, media_root):
    result = localise_images(f"![]({server}/moved)", [f"{server}/moved"], timeout=5)
    assert result.failures == []
    assert result.body.startswith("![](/media/images/renditions/")


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


def no_metadata(path) -> bool:
    with Image.open(path) as image:
        return not image.getexif() and not {"exif", "xmp", "comment", "icc_profile"} & set(
            image.info
        )


def test_a_photo_loses_its_camera_and_location_and_gets_renditions(server, media_root):
    with Image.open(io.BytesIO(FILES["/gps.jpg"])) as sent:
        assert sent.getexif().get_ifd(GPS_IFD)[1] == "N"  # the test's photo has them
    url = f"{server}/gps.jpg"
    result = localise_images(f'<img src="{url}" alt="A garden">', [url], timeout=5)
    assert result.failures == []
    image = StoredImage.objects.get()
    assert (image.format, image.width, image.height) == ("JPEG", 1600, 1200)  # scaled down
    assert image.alt_text == "A garden"  # from the HTML's alt
    assert sorted(image.renditions.values_list("format", "width")) == [
        ("JPEG", 480),
        ("JPEG", 960),
        ("JPEG", 1600),
        ("WEBP", 480),
        ("WEBP", 960),
        ("WEBP", 1600),
    ]
    files = stored(media_root)
    assert len(files) == 7  # the original and its six renditions, nothing else
    assert all(no_metadata(media_root / path) for path in files)
    assert result.body == f'<img src="{blog_media.canonical_url(image)}" alt="A garden">'


@pytest.mark.parametrize("path", ["/picture.bmp", "/picture.webp", "/still.gif"])
def test_other_formats_are_stored_as_png(server, media_root, path):
    url = f"{server}{path}"
    result = localise_images(f"![]({url})", [url], timeout=5)
    assert result.failures == []
    image = StoredImage.objects.get()
    assert image.format == "PNG" and image.file.name.endswith(".png")
    assert set(image.renditions.values_list("format", flat=True)) == {"PNG", "WEBP"}
    assert result.body == f"![]({blog_media.canonical_url(image)})"
    with Image.open(image.file.path) as stored_png, Image.open(io.BytesIO(FILES[path])) as sent:
        assert stored_png.format == "PNG" and stored_png.size == sent.size
        # Lossless: the same pixels.
        assert stored_png.convert("RGB").tobytes() == sent.convert("RGB").tobytes()
    assert all(no_metadata(media_root / p) for p in stored(media_root))


def test_an_animated_gif_keeps_its_frames_and_loses_its_comment(server, media_root):
    url = f"{server}/animated.gif"
    result = localise_images(f"![]({url})", [url], timeout=5)
    assert result.failures == []
    [path] = stored(media_root)
    assert path.startswith("imported/") and path.endswith("/animated.gif")
    assert result.body == f"![](/media/{path})"
    assert not StoredImage.objects.exists()
    sent_bytes = io.BytesIO(FILES["/animated.gif"])
    with Image.open(media_root / path) as kept, Image.open(sent_bytes) as sent:
        assert sent.info["comment"]  # the test's GIF has one
        assert kept.n_frames == 3 and "comment" not in kept.info
        durations = []
        for a, b in zip(ImageSequence.Iterator(kept), ImageSequence.Iterator(sent), strict=True):
            durations.append(a.info["duration"])
            assert a.convert("RGB").tobytes() == b.convert("RGB").tobytes()
        assert durations == [100, 200, 300]
    assert b"Acacia" not in (media_root / path).read_bytes()
    again = localise_images(f"![]({url})", [url], timeout=5)
    assert again.body == result.body and len(stored(media_root)) == 1


def test_the_importers_size_limit_not_the_editors(server, media_root, settings):
    settings.MARKDOWNX_UPLOAD_MAX_SIZE = 100  # far smaller than the photo
    url = f"{server}/gps.jpg"
    result = localise_images(f"![]({url})", [url], timeout=5)
    assert result.failures == [] and StoredImage.objects.count() == 1


def test_too_many_pixels_is_refused_with_the_reason(server, media_root, monkeypatch):
    monkeypatch.setattr(blog_media, "MAX_PIXELS", 1000)
    urls = [f"{server}/gps.jpg", f"{server}/animated.gif"]
    result = localise_images("".join(f"![]({u})" for u in urls), urls, timeout=5)
    assert result.failures == [(u, "the image has too many pixels") for u in urls]
    assert stored(media_root) == [] and not Rendition.objects.exists()


def test_the_editor_still_takes_only_jpeg_and_png():
    from django.core.exceptions import ValidationError
    from django.core.files.base import ContentFile

    for path in ("/picture.webp", "/picture.bmp", "/still.gif"):
        with pytest.raises(ValidationError, match="Only JPEG and PNG"):
            blog_media.check_upload(ContentFile(FILES[path], name="x"))
        assert blog_media.check_upload(ContentFile(FILES[path], name="x"), convert=True)
