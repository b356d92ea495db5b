"""An imported post's remote images brought home (``--fetch-media``).

The site shows no images from other sites (its Content-Security-Policy allows
``img-src 'self'``), so an imported body's remote images stay links unless they are
downloaded into MEDIA_ROOT and the body is rewritten to point at the copies.

Each address is untrusted: only http and https, at most MAX_REDIRECTS redirects (to
http or https only), at most MAX_BYTES read, a deadline on the whole download, and
the content must be an image Pillow can open and verify (no SVG: it can hold scripts).

A picture is stored the way the editor's uploads are, by blog.media.store_upload: once
(by its pixels, so a second import of the same images writes nothing new and points at
the same address), its location and camera data stripped, in renditions, an Image row
the admin's Media lists and the write path records the uses of; the body is pointed at
the address the editor would insert (blog.media.canonical_url), with the alternative
text the body gives it. JPEG and PNG stay so; WebP, BMP and a still GIF become PNG
(lossless). The importer's own size limit (MAX_BYTES) applies, not the editor's; a
picture wider than the editor's limit is scaled down, as an upload is.

An animated GIF has no place in the renditions (they are still pictures), and its
first frame alone would lose what it shows: it is kept as a file, ``imported/<sha256
prefix>/<name>.gif``, re-saved frame by frame by Pillow with no comment (a GIF carries
no EXIF; Pillow writes no XMP or other application extension), so it too is stored once.

A failure is listed with its reason and the body keeps the remote address.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import slugify
from PIL import Image, ImageSequence

from blog import media
from blog.markup import images_of

MAX_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
SCHEMES = {"http", "https"}
# What Pillow may call the content, and the extension the stored file gets (the
# address's own extension is not trusted).
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}
FOLDER = "imported"
CHUNK = 64 * 1024


@dataclass
class LocalisedImages:
    body: str  # Markdown, the fetched images' addresses now the stored copies'
    fetched: list[str] = field(default_factory=list)  # remote addresses stored
    failures: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)


class FetchError(Exception):
    """Why an image was not brought home, for the import's report."""


def localise_images(body: str, urls: Sequence[str], *, timeout: float = 10) -> LocalisedImages:
    """Download each of ``urls`` (the images ``body`` shows) into the media storage and
    point ``body`` at the stored copies; carry on past failures, listing them."""
    result = LocalisedImages(body=body)
    for url in dict.fromkeys(urls):  # each once, in order
        try:
            local = store(url, timeout=timeout, alt_text=alt_for(result.body, url))
        except FetchError as error:
            result.failures.append((url, str(error)))
            continue
        result.fetched.append(url)
        result.body = rewrite(result.body, url, local)
    return result


def store(url: str, *, timeout: float, alt_text: str = "") -> str:
    """The stored copy's URL for the image at ``url`` (downloaded, then stored by
    blog.media.store_upload unless it is an animated GIF), the copy already stored if
    the same picture is."""
    data = fetch(url, timeout=timeout)
    extension = image_format(data)
    name = f"{safe_name(url)}.{extension}"
    if extension == FORMATS["GIF"] and _frames(data) > 1:
        return _store_animation(data, name)
    try:
        image = media.store_upload(
            ContentFile(data, name=name), None, alt_text, max_size=MAX_BYTES, convert=True
        )
    except ValidationError as error:
        reason = " ".join(error.messages).rstrip(".")
        raise FetchError(reason[:1].lower() + reason[1:]) from None
    return media.canonical_url(image)


def _frames(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        return getattr(image, "n_frames", 1)


def _store_animation(data: bytes, name: str) -> str:
    """An animated GIF re-saved from its frames (no comment), stored by content."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.n_frames * image.width * image.height > media.MAX_PIXELS:
                raise FetchError("the image has too many pixels")
            frames, durations = [], []
            for frame in ImageSequence.Iterator(image):
                durations.append(frame.info.get("duration", 100))
                copy = frame.copy()
                # Only what drawing needs: the comment (and anything else read) stays behind.
                copy.info = {k: v for k, v in frame.info.items() if k == "transparency"}
                frames.append(copy)
            loop = image.info.get("loop")
        out = io.BytesIO()
        extra = {} if loop is None else {"loop": loop}
        frames[0].save(
            out, "GIF", save_all=True, append_images=frames[1:], duration=durations, **extra
        )
    except FetchError:
        raise
    except Exception:  # Pillow raises many kinds for a broken or hostile file
        raise FetchError("not an image") from None
    clean = out.getvalue()
    path = f"{FOLDER}/{hashlib.sha256(clean).hexdigest()[:16]}/{name}"
    if not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(clean))
    return default_storage.url(path)


def alt_for(body: str, url: str) -> str:
    """The alternative text ``body`` gives the image at ``url`` (Markdown's
    ``![alt](url)`` or HTML's ``<img src="url" alt="alt">``), or ""."""
    for alt, address in media.MARKDOWN_IMAGE.findall(body):
        if address == url and alt.strip():
            return alt.strip()
    for attributes in images_of(body):
        if attributes.get("src") == url and attributes.get("alt", "").strip():
            return attributes["alt"].strip()
    return ""


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        # urllib would follow a redirect to ftp: too.
        if urlsplit(newurl).scheme.lower() not in SCHEMES:
            raise FetchError(f"redirected to a {urlsplit(newurl).scheme or 'relative'}: address")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_Redirects)


def fetch(url: str, *, timeout: float) -> bytes:
    """The bytes at ``url``, within the limits, or FetchError saying which failed."""
    if urlsplit(url).scheme.lower() not in SCHEMES:
        raise FetchError("not an http or https address")
    deadline = time.monotonic() + timeout * 3  # a server dripping bytes still ends
    request = urllib.request.Request(url, headers={"User-Agent": "blog-importer"})
    try:
        with _opener.open(request, timeout=timeout) as response:  # nosec B310 # scheme checked
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise FetchError(f"too big ({int(declared)} bytes)")
            data = bytearray()
            while chunk := response.read(CHUNK):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise FetchError(f"too big (over {MAX_BYTES} bytes)")
                if time.monotonic() > deadline:
                    raise FetchError("timed out")
            return bytes(data)
    except urllib.error.HTTPError as error:
        if error.code in {301, 302, 303, 307, 308}:
            raise FetchError("too many redirects") from None
        raise FetchError(f"HTTP {error.code}") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, FetchError):
            raise error.reason from None
        if isinstance(error.reason, TimeoutError):
            raise FetchError("timed out") from None
        raise FetchError(f"unreachable ({error.reason})") from None
    except TimeoutError:
        raise FetchError("timed out") from None
    except OSError as error:  # connection reset, bad status line…
        raise FetchError(f"unreachable ({error.__class__.__name__})") from None


def image_format(data: bytes) -> str:
    """The extension for ``data`` if Pillow verifies it as one of FORMATS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format or ""
                image.verify()
    except Exception:  # Pillow raises many kinds for a broken or hostile file
        raise FetchError("not an image") from None
    if kind not in FORMATS:
        raise FetchError(f"not an image the site shows ({kind})")
    return FORMATS[kind]


def safe_name(url: str) -> str:
    """A file name from the address's last segment: letters, digits and dashes."""
    stem = PurePosixPath(unquote(urlsplit(url).path)).stem
    return (slugify(stem)[:60].strip("-_")) or "image"


def rewrite(body: str, url: str, local: str) -> str:
    """Every reference to ``url`` in ``body`` made ``local``: Markdown's ``(url`` and
    HTML's ``src="url"`` (escaped), not where it is only the start of a longer address."""
    for written in dict.fromkeys((url, html.escape(url))):
        body = re.sub(re.escape(written) + r"(?=[\s)\"'<>]|$)", lambda m: local, body)
    return body
