"""The markdownx editor's endpoints, for those who may write posts.

markdownx mounts its preview and upload views for anyone; here they are wrapped so
that only active staff who may add or change posts reach them (403 otherwise: a staff
account kept for moderating comments, say, may not store files on the site), the
preview goes through the site's sanitiser, and an upload is accepted only when Pillow
itself recognises a JPEG or PNG within the size limit. The stored file is re-encoded
from the decoded pixels (dropping EXIF location data and any trailing payload) and
named after the detected format, never the client's file name or content type.
"""

from __future__ import annotations

import uuid
from io import BytesIO

from django import forms
from django.conf import settings
from django.contrib.auth.mixins import UserPassesTestMixin
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.urls import path
from django.views import View
from PIL import Image, ImageOps, UnidentifiedImageError

from .markup import render_markdown

app_name = "editor"

FORMATS = {"JPEG": "jpg", "PNG": "png"}
MAX_PIXELS = 40_000_000


class PostWritersOnlyMixin(UserPassesTestMixin):
    raise_exception = True  # 403, not a redirect: these are XHR endpoints.

    def test_func(self) -> bool:
        user = self.request.user
        return (
            user.is_active
            and user.is_staff
            and (user.has_perm("blog.add_post") or user.has_perm("blog.change_post"))
        )


class PreviewForm(forms.Form):
    content = forms.CharField(required=False, strip=False, max_length=500_000)


class ImageUploadForm(forms.Form):
    image = forms.FileField()

    def clean_image(self) -> UploadedFile:
        upload = self.cleaned_data["image"]
        limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
        if upload.size > limit:
            raise forms.ValidationError(
                f"The image is {filesizeformat(upload.size)}; the limit is {filesizeformat(limit)}."
            )
        try:
            with Image.open(upload) as probe:
                detected = probe.format
                if probe.width * probe.height > MAX_PIXELS:
                    raise forms.ValidationError("The image has too many pixels.")
                probe.verify()
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ):
            raise forms.ValidationError("The file is not an image that can be read.") from None
        if detected not in FORMATS:
            raise forms.ValidationError("Only JPEG and PNG images can be uploaded.")
        upload.seek(0)
        self.detected_format = detected
        return upload

    def save(self) -> str:
        """Store the re-encoded image and return its URL."""
        with Image.open(self.cleaned_data["image"]) as original:
            image = ImageOps.exif_transpose(original)
            image.thumbnail(settings.MARKDOWNX_IMAGE_MAX_SIZE["size"])
            buffer = BytesIO()
            if self.detected_format == "JPEG":
                quality = settings.MARKDOWNX_IMAGE_MAX_SIZE["quality"]
                image.convert("RGB").save(buffer, "JPEG", quality=quality, optimize=True)
            else:
                image.save(buffer, "PNG", optimize=True)
        name = f"{settings.MARKDOWNX_MEDIA_PATH}{uuid.uuid4().hex}.{FORMATS[self.detected_format]}"
        stored = default_storage.save(name, ContentFile(buffer.getvalue()))
        return default_storage.url(stored)


def _errors(form: forms.Form) -> JsonResponse:
    messages = [str(m) for errors in form.errors.values() for m in errors]
    return JsonResponse({"error": " ".join(messages), "errors": form.errors}, status=400)


class PreviewView(PostWritersOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PreviewForm(request.POST)
        if not form.is_valid():
            return _errors(form)
        return HttpResponse(render_markdown(form.cleaned_data["content"]))


class UploadView(PostWritersOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        form = ImageUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return _errors(form)
        return JsonResponse({"image_code": f"![]({form.save()})"})


urlpatterns = [
    path("markdownify/", PreviewView.as_view(), name="preview"),
    path("upload/", UploadView.as_view(), name="upload"),
]
