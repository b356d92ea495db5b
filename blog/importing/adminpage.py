"""Importing from the admin: upload an export, read what it would do, then confirm.

The page runs the same import as the commands (``import_file``), in two steps: a dry
run of the uploaded file, whose report staff read, then the import itself when they
confirm. Between the two the file waits in a private directory, named by a random
token that the confirmation carries signed (with the platform and the chosen
author), so that a confirmation imports exactly the file that was checked, and only
for an hour. Uploads are capped (``BLOG_IMPORT_UPLOAD_MAX_BYTES``): a larger export
is for the command, on the server, and the page says so.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import format_lazy

from ..people import display_name
from . import import_file
from .records import ImportFileError
from .report import Report

PERMISSION = "blog.import_posts"
PLATFORMS = [("blogger", "Blogger"), ("wordpress", "WordPress")]
COMMANDS = {"blogger": "import_blogger", "wordpress": "import_wordpress"}
# How long a checked file waits for its confirmation.
CONFIRM_WITHIN = 60 * 60
SIGNING_SALT = "blog.importing.adminpage"
SKIPPED_SHOWN = 100


def upload_limit() -> int:
    return settings.BLOG_IMPORT_UPLOAD_MAX_BYTES


def waiting_directory() -> Path:
    """Where checked uploads wait (BLOG_IMPORT_WAITING_DIR): the project's own, not a
    shared temporary folder another account could have made first; mode 0700."""
    directory = Path(settings.BLOG_IMPORT_WAITING_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def forget_stale_uploads(now: float | None = None) -> None:
    """Uploads checked but never confirmed go after CONFIRM_WITHIN."""
    now = time.time() if now is None else now
    for stale in waiting_directory().glob("*.xml"):
        if now - stale.stat().st_mtime > CONFIRM_WITHIN:
            stale.unlink(missing_ok=True)


class AuthorChoice(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return f"{display_name(user)} ({user.get_username()})"


class ImportForm(forms.Form):
    platform = forms.ChoiceField(
        label="The export is from",
        choices=PLATFORMS,
        help_text="Blogger: Settings › Manage blog › Back up content. "
        "WordPress: Tools › Export › All content.",
    )
    file = forms.FileField(
        label="Export file",
        help_text=format_lazy(
            "Up to {} MB. A larger export is imported with the command on the server (see below).",
            settings.BLOG_IMPORT_UPLOAD_MAX_BYTES // 2**20,
        ),
    )
    author = AuthorChoice(
        queryset=get_user_model().objects.filter(is_staff=True).order_by("username"),
        required=False,
        empty_label="Each post's own author",
        label="Attribute every post to",
        help_text="Left as it is, an account is made for each of the old blog's authors; "
        "they cannot sign in until you set a password.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > upload_limit():
            raise forms.ValidationError(
                f"This file is {upload.size / 2**20:.1f} MB; the page takes up to "
                f"{upload_limit() // 2**20} MB. Import it with the command on the server."
            )
        return upload


class PostImportMixin:
    """PostAdmin's import page, at admin:blog_post_import."""

    def get_urls(self) -> list:
        page = path(
            "import/",
            self.admin_site.admin_view(self.import_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_import",
        )
        return [page, *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        forget_stale_uploads()
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            return self._check(request, form)
        return self._page(request, form=form)

    def _check(self, request: HttpRequest, form: ImportForm) -> HttpResponse:
        """The dry run of the uploaded file, with the confirmation to import it."""
        token = secrets.token_urlsafe(24)
        waiting = waiting_directory() / f"{token}.xml"
        with waiting.open("wb") as out:
            for chunk in form.cleaned_data["file"].chunks():
                out.write(chunk)
        platform = form.cleaned_data["platform"]
        author = form.cleaned_data["author"]
        try:
            report = _run(waiting, platform, author, dry_run=True)
        except ImportFileError as error:
            waiting.unlink(missing_ok=True)
            form.add_error("file", str(error))
            return self._page(request, form=form, status=400)
        confirmation = signing.dumps(
            {"token": token, "platform": platform, "author": author.pk if author else None},
            salt=SIGNING_SALT,
        )
        return self._page(
            request,
            report=report,
            confirmation=confirmation,
            file_name=form.cleaned_data["file"].name,
            platform_name=dict(PLATFORMS)[platform],
            author=author,
        )

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        try:
            data = signing.loads(
                request.POST.get("confirm", ""), salt=SIGNING_SALT, max_age=CONFIRM_WITHIN
            )
        except signing.BadSignature:
            return self._expired(request)
        waiting = waiting_directory() / f"{data['token']}.xml"
        if not waiting.is_file():
            return self._expired(request)
        author = None
        if data["author"] is not None:
            author = get_user_model().objects.filter(pk=data["author"], is_staff=True).first()
            if author is None:
                return self._expired(request)
        try:
            report = _run(waiting, data["platform"], author, dry_run=False)
        except ImportFileError as error:
            form = ImportForm()
            self.message_user(request, f"Nothing was imported: {error}", messages.ERROR)
            return self._page(request, form=form, status=400)
        finally:
            waiting.unlink(missing_ok=True)
        return self._page(request, report=report, done=True)

    def _expired(self, request: HttpRequest) -> HttpResponse:
        self.message_user(
            request,
            "That check has expired or was already imported: upload the file again.",
            messages.WARNING,
        )
        return HttpResponseRedirect(reverse("admin:blog_post_import"))

    def _page(self, request: HttpRequest, *, status: int = 200, **context) -> HttpResponse:
        report: Report | None = context.get("report")
        return TemplateResponse(
            request,
            "admin/blog/post/import.html",
            {
                **self.admin_site.each_context(request),
                "title": "Import a blog",
                "opts": self.opts,
                "upload_limit_mb": upload_limit() // 2**20,
                "commands": COMMANDS,
                "skipped_shown": report.skipped[:SKIPPED_SHOWN] if report else [],
                "skipped_more": max(0, len(report.skipped) - SKIPPED_SHOWN) if report else 0,
                **context,
            },
            status=status,
        )


def _run(file: Path, platform: str, author, *, dry_run: bool) -> Report:
    with file.open("rb") as stream:
        return import_file(stream, platform, author=author, dry_run=dry_run)
