"""An imported post's remote images brought home (``--fetch-media``).

The site shows no images from other sites (its Content-Security-Policy allows
``img-src 'self'``), so an imported body's remote images stay links unless they are
downloaded into MEDIA_ROOT and the body is rewritten to point at the copies.

Each address is untrusted: only http and https, at most MAX_REDIRECTS redirects (to
http or https only), at most MAX_BYTES read, a deadline on the whole download, and
the content must be an image Pillow can open and verify (no SVG: it can hold scripts).
Files are stored by content, ``imported/<sha256 prefix>/<name>``, so a second import
of the same images writes nothing new. A failure is listed with its reason and the
body keeps the remote address.
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

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import slugify
from PIL import Image

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
            local = store(url, timeout=timeout)
        except FetchError as error:
            result.failures.append((url, str(error)))
            continue
        result.fetched.append(url)
        result.body = rewrite(result.body, url, local)
    return result


def store(url: str, *, timeout: float) -> str:
    """The stored copy's URL for the image at ``url``, downloading it if no copy of
    the same content is stored yet."""
    data = fetch(url, timeout=timeout)
    extension = image_format(data)
    digest = hashlib.sha256(data).hexdigest()
    path = f"{FOLDER}/{digest[:16]}/{safe_name(url)}.{extension}"
    if not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(data))
    return default_storage.url(path)


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
