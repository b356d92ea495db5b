"""Uploaded images: stored once with their location and camera data stripped, and
made into renditions of several widths and formats when they are uploaded, so that
pages can offer each reader's screen the size it needs (srcset) and reserve its place
(width, height) with no work at request time.

The write path (blog.writing) asks ``images_in()`` which uploaded images the bodies it
renders show, hands them to the renderer (blog.markup), and records where each image
is used (``record_uses``) for the admin's media list.

Every stored file, the original included, is written from the decoded pixels into a
new image: no EXIF (camera, GPS), XMP, comment or colour profile survives. A picture in
another colour space is converted to sRGB first, which is what a browser assumes of an
image without a profile.

The importer's ``--fetch-media`` (blog.importing.media) stores the images it downloads
through ``store_upload`` too, with its own size limit and the formats of other blogs
(WebP, BMP, a still GIF) accepted and stored as PNG (``convert=True``).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from PIL import Image as Pillow
from PIL import ImageCms, ImageOps, UnidentifiedImageError

from .markup import images_of, media_prefix, render_markdown
from .models import Image, Page, Post, Rendition

# What may be uploaded, and the name each is stored under.
FORMATS = {"JPEG": "jpg", "PNG": "png"}
# What an import may also bring (convert=True), stored as CONVERTED_TO: lossless, so
# nothing the old blog showed is lost twice.
CONVERTIBLE = ("WEBP", "BMP", "GIF")
CONVERTED_TO = "PNG"
MAX_PIXELS = 40_000_000
# The renditions' widths: those narrower than the original, and the original's own
# width up to the largest of them (the stored original is no wider: see _decoded).
WIDTHS = (480, 960, 1600)
WEBP = "WEBP"
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", WEBP: "image/webp"}
EXTENSIONS = {**FORMATS, WEBP: "webp"}
WEBP_QUALITY = 80


# Upload --------------------------------------------------------------------------------


def check_upload(upload, *, max_size: int | None = None, convert: bool = False) -> str:
    """The Pillow format of an upload that may be stored (JPEG or PNG, within the size
    and pixel limits, decodable), or ValidationError saying why not. ``max_size`` for
    another limit than the editor's; ``convert`` to accept CONVERTIBLE formats too."""
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE if max_size is None else max_size
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"The image is {filesizeformat(upload.size)}; the limit is {filesizeformat(limit)}."
        )
    try:
        upload.seek(0)
        with Pillow.open(upload) as probe:
            detected = probe.format
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError("The image has too many pixels.")
            probe.verify()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Pillow.DecompressionBombError,
    ):
        raise ValidationError("The file is not an image that can be read.") from None
    finally:
        upload.seek(0)
    if detected not in FORMATS and not (convert and detected in CONVERTIBLE):
        raise ValidationError("Only JPEG and PNG images can be uploaded.")
    return detected


def _decoded(upload, kind: str) -> Pillow.Image:
    """The upload's pixels, turned as the camera meant (EXIF orientation), in sRGB, as
    a new image that carries nothing but pixels."""
    with Pillow.open(upload) as opened:
        opened.load()
        picture = ImageOps.exif_transpose(opened)
        profile = picture.info.get("icc_profile")
        if picture.mode == "P":
            picture = picture.convert("RGBA")
        if kind == "JPEG" or picture.mode not in ("RGB", "RGBA", "L", "LA"):
            picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
        if profile:
            try:
                source = ImageCms.ImageCmsProfile(BytesIO(profile))
                picture = ImageCms.profileToProfile(
                    picture, source, ImageCms.createProfile("sRGB"), outputMode=picture.mode
                )
            except (ImageCms.PyCMSError, OSError, ValueError):
                pass  # an unreadable profile: the pixels as they are
        # The editor's limit (MARKDOWNX_IMAGE_MAX_SIZE): the largest rendition is no
        # wider, so a larger original would only be kept, never shown.
        picture.thumbnail(settings.MARKDOWNX_IMAGE_MAX_SIZE["size"], Pillow.Resampling.LANCZOS)
        # A fresh image from the raw pixels: no info dict, no EXIF, no XMP, no profile.
        return Pillow.frombytes(picture.mode, picture.size, picture.tobytes())


def _encode(picture: Pillow.Image, kind: str) -> bytes:
    buffer = BytesIO()
    if kind == "JPEG":
        quality = settings.MARKDOWNX_IMAGE_MAX_SIZE["quality"]
        picture.convert("RGB").save(
            buffer, "JPEG", quality=quality, optimize=True, progressive=True
        )
    elif kind == "PNG":
        picture.save(buffer, "PNG", optimize=True)
    else:
        picture.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    return buffer.getvalue()


def rendition_widths(width: int) -> list[int]:
    """The widths an image ``width`` pixels wide is made in: never wider than it is."""
    return sorted({w for w in WIDTHS if w < width} | {min(width, WIDTHS[-1])})


@dataclass
class _Stored:
    """The files written so far for one upload, removed if it goes no further."""

    names: list[str]

    def save(self, name: str, content: bytes) -> str:
        stored = default_storage.save(name, ContentFile(content))
        self.names.append(stored)
        return stored

    def remove(self) -> None:
        for name in self.names:
            default_storage.delete(name)


def store_upload(
    upload,
    user: AbstractBaseUser | None = None,
    alt_text: str = "",
    *,
    max_size: int | None = None,
    convert: bool = False,
) -> Image:
    """Store an uploaded JPEG or PNG once, stripped of its metadata, with its
    renditions; the same picture uploaded again returns the Image already stored.
    ValidationError for a file that is not one; nothing is left behind on failure.
    ``max_size`` and ``convert`` as check_upload's (for the importer): a converted
    image (its first frame, if it has several) is stored as CONVERTED_TO."""
    kind = check_upload(upload, max_size=max_size, convert=convert)
    if kind not in FORMATS:
        kind = CONVERTED_TO
    try:
        picture = _decoded(upload, kind)
    except (OSError, ValueError, SyntaxError, Pillow.DecompressionBombError):
        raise ValidationError("The file is not an image that can be read.") from None
    # Of the pixels, not the bytes: a picture re-saved by another program is the same.
    digest = hashlib.sha256(
        f"{picture.mode}:{picture.width}x{picture.height}:".encode() + picture.tobytes()
    ).hexdigest()
    existing = Image.objects.filter(digest=digest).first()
    if existing is not None:
        return _with_alt(existing, alt_text)

    now = timezone.now()
    stem = f"{now:%Y/%m}/{digest[:24]}"
    stored = _Stored([])
    try:
        original = _encode(picture, kind)
        with transaction.atomic():
            image = Image(
                digest=digest,
                width=picture.width,
                height=picture.height,
                format=kind,
                size=len(original),
                alt_text=alt_text.strip(),
                uploaded_at=now,
                uploaded_by=user if user is not None and user.pk else None,
            )
            image.file.name = stored.save(f"images/{stem}.{FORMATS[kind]}", original)
            image.save()
            renditions = []
            for width in rendition_widths(picture.width):
                height = max(1, round(picture.height * width / picture.width))
                resized = (
                    picture
                    if width == picture.width
                    else picture.resize((width, height), Pillow.Resampling.LANCZOS)
                )
                for fmt in (kind, WEBP):
                    name = stored.save(
                        f"images/renditions/{stem}-{width}.{EXTENSIONS[fmt]}", _encode(resized, fmt)
                    )
                    renditions.append(
                        Rendition(image=image, width=width, height=height, format=fmt, file=name)
                    )
            Rendition.objects.bulk_create(renditions)
    except IntegrityError:
        # The same picture, stored by another request at the same moment.
        stored.remove()
        existing = Image.objects.filter(digest=digest).first()
        if existing is None:
            raise
        return _with_alt(existing, alt_text)
    except BaseException:
        stored.remove()
        raise
    return image


def _with_alt(image: Image, alt_text: str) -> Image:
    if alt_text.strip() and not image.alt_text:
        image.alt_text = alt_text.strip()
        image.save(update_fields=["alt_text"])
    return image


def canonical_url(image: Image) -> str:
    """The address an image is put in a body by: its widest rendition in its own format
    (what a reader without srcset, a feed reader, or a link preview gets)."""
    widest = largest_rendition(image)
    return widest.file.url if widest is not None else image.file.url


def largest_rendition(image: Image) -> Rendition | None:
    own = [r for r in image.renditions.all() if r.format == image.format]
    return max(own, key=lambda r: r.width, default=None)


def smallest_rendition(image: Image) -> Rendition | None:
    own = [r for r in image.renditions.all() if r.format == image.format]
    return min(own, key=lambda r: r.width, default=None)


@receiver(post_delete, sender=Image)
@receiver(post_delete, sender=Rendition)
def _remove_file(sender, instance: Image | Rendition, **kwargs) -> None:
    """A deleted image's files go once the deletion is committed (not before: a
    rolled-back deletion keeps its row, and needs its files)."""
    name = instance.file.name
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


# Where the bodies use them --------------------------------------------------------------


def _addresses(body: str) -> list[str]:
    """Every address under the media prefix a body names, in order."""
    prefix = re.escape(media_prefix())
    return [html.unescape(m) for m in re.findall(rf"{prefix}[\w./%-]+", body or "")]


# A Markdown image's alternative text and address: ![alt](address "title").
MARKDOWN_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*)?\)")


def images_in(bodies: Iterable[str]) -> Mapping[str, Image]:
    """The uploaded images the Markdown ``bodies`` show, by the address they use (the
    original's or a rendition's), with their renditions: two queries for any number."""
    prefix = media_prefix()
    addresses = {address for body in bodies for address in _addresses(body)}
    if not addresses:
        return {}
    names = {unquote(address[len(prefix) :]): address for address in addresses}
    images = (
        Image.objects.filter(Q(file__in=names) | Q(renditions__file__in=names))
        .distinct()
        .prefetch_related("renditions")
    )
    found: dict[str, Image] = {}
    for image in images:
        for name in [image.file.name, *(r.file.name for r in image.renditions.all())]:
            if name in names:
                found[names[name]] = image
    return found


def record_uses(objects: Sequence[models.Model], images: Mapping[str, Image]) -> None:
    """Record which of ``images`` each post or page (all of one model) now shows: a
    delete and an insert for any number of them. An image given alternative text in a
    body (``![a child's drawing](…)``) and none of its own takes that text."""
    if not objects:
        return
    model = type(objects[0])
    through = {Post: Image.posts.through, Page: Image.pages.through}[model]
    column = f"{model._meta.model_name}_id"
    rows = []
    described: dict[int, Image] = {}
    for obj in objects:
        shown = {images[a].pk for a in _addresses(obj.body) if a in images}
        rows += [through(image_id=pk, **{column: obj.pk}) for pk in sorted(shown)]
        for alt, address in MARKDOWN_IMAGE.findall(obj.body or ""):
            image = images.get(address)
            if image is not None and alt.strip() and not image.alt_text:
                image.alt_text = alt.strip()[:300]
                described[image.pk] = image
    through.objects.filter(**{f"{column}__in": [obj.pk for obj in objects]}).delete()
    through.objects.bulk_create(rows)
    if described:
        Image.objects.bulk_update(described.values(), ["alt_text"])


def images_without_alt(body: str) -> list[str]:
    """The addresses of the images a body shows with no alternative text: neither in
    the body nor (for an uploaded image) of its own."""

    missing = []
    for attributes in images_of(render_markdown(body, images=images_in([body]))):
        if not attributes.get("alt", "").strip():
            missing.append(attributes.get("src", ""))
    return missing
