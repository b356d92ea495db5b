"""The markdownx editor's endpoints, for those who may write posts or pages.

markdownx mounts its preview and upload views for anyone; here they are wrapped so
that only active staff who may add or change posts or pages reach them (403 otherwise: a staff
account kept for moderating comments, say, may not store files on the site), the
preview goes through the site's sanitiser, and an upload is accepted only when Pillow
itself recognises a JPEG or PNG within the size limit. It is stored by
blog.media.store_upload: once, re-encoded from the decoded pixels (no EXIF, location
or camera data, nor any trailing payload), in renditions, named after its digest and the
detected format, never the client's file name or content type. The answer is the
Markdown for the image's canonical address, with its alternative text if it has one.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.mixins import UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views import View

from . import media
from .markup import render_markdown
from .models import Image

app_name = "editor"

FORMATS = media.FORMATS
MAX_PIXELS = media.MAX_PIXELS


# Whoever may write a post or a page: both are written in the same editor.
WRITER_PERMISSIONS = ("add_post", "change_post", "add_page", "change_page")


class PostWritersOnlyMixin(UserPassesTestMixin):
    raise_exception = True  # 403, not a redirect: these are XHR endpoints.

    def test_func(self) -> bool:
        user = self.request.user
        return (
            user.is_active
            and user.is_staff
            and any(user.has_perm(f"blog.{perm}") for perm in WRITER_PERMISSIONS)
        )


class PreviewForm(forms.Form):
    content = forms.CharField(required=False, strip=False, max_length=500_000)


class ImageUploadForm(forms.Form):
    image = forms.FileField()
    alt_text = forms.CharField(required=False, max_length=300)

    def clean_image(self) -> UploadedFile:
        upload = self.cleaned_data["image"]
        media.check_upload(upload)
        return upload

    def save(self, user) -> Image:
        """Store the image once, stripped, with its renditions (blog.media)."""
        return media.store_upload(
            self.cleaned_data["image"], user, alt_text=self.cleaned_data["alt_text"]
        )


def _errors(form: forms.Form) -> JsonResponse:
    messages = [str(m) for errors in form.errors.values() for m in errors]
    return JsonResponse({"error": " ".join(messages), "errors": form.errors}, status=400)


class PreviewView(PostWritersOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PreviewForm(request.POST)
        if not form.is_valid():
            return _errors(form)
        content = form.cleaned_data["content"]
        return HttpResponse(render_markdown(content, images=media.images_in([content])))


class UploadView(PostWritersOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        form = ImageUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return _errors(form)
        try:
            image = form.save(request.user)
        except ValidationError as error:
            return JsonResponse({"error": " ".join(error.messages)}, status=400)
        url = media.canonical_url(image)
        # The editor (static/js/editor.js) asks for the alternative text and fills it in.
        alt = " ".join(image.alt_text.replace("[", " ").replace("]", " ").split())
        return JsonResponse({"image_code": f"![{alt}]({url})", "url": url, "alt": image.alt_text})


urlpatterns = [
    path("markdownify/", PreviewView.as_view(), name="preview"),
    path("upload/", UploadView.as_view(), name="upload"),
]
