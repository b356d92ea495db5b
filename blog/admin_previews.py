"""Shareable previews in the admin: on a draft or scheduled post's change form, links
to create (valid for a chosen time), copy and revoke (blog.previews).

The box sits after the post's form, not in it (a form may not hold another form); its
two actions are POST endpoints of their own, CSRF-checked by admin_view, that need the
permission to change the post and send staff back to the form with a message."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from . import previews
from .models import Post, PreviewLink


@dataclass(frozen=True)
class ShownLink:
    """A valid link as the box lists it."""

    link: PreviewLink
    url: str


class PreviewLinksAdminMixin:
    """Added to PostAdmin."""

    def _url_name(self, what: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{what}"

    def get_urls(self) -> list:
        own = [
            path(
                "<path:object_id>/previews/create/",
                self.admin_site.admin_view(self.create_preview_view),
                name=self._url_name("preview_create"),
            ),
            path(
                "<path:object_id>/previews/<int:link_id>/revoke/",
                self.admin_site.admin_view(self.revoke_preview_view),
                name=self._url_name("preview_revoke"),
            ),
        ]
        return [*own, *super().get_urls()]

    def render_change_form(self, request: HttpRequest, context: dict, add: bool = False,
                           change: bool = False, form_url: str = "", obj: Post | None = None,
                           ) -> HttpResponse:  # fmt: skip
        if obj is not None and obj.pk is not None and not context.get("is_popup"):
            context["preview_box"] = self._preview_box(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _preview_box(self, request: HttpRequest, post: Post) -> dict:
        previewable = previews.is_previewable(post)
        links = (
            [
                ShownLink(link, previews.url_for(link))
                for link in post.preview_links.valid().select_related("created_by")
            ]
            if previewable
            else []
        )
        return {
            "previewable": previewable,
            "can_change": self.has_change_permission(request, post),
            "links": links,
            "durations": [(value, label) for value, (label, _) in previews.DURATIONS.items()],
            "create_url": reverse(f"admin:{self._url_name('preview_create')}", args=[post.pk]),
            "revoke_url_name": f"admin:{self._url_name('preview_revoke')}",
        }

    def _post_for_previews(self, request: HttpRequest, object_id: str) -> Post:
        post = self.get_object(request, object_id)
        if post is None:
            raise Http404("No such post.")
        if not self.has_change_permission(request, post):
            raise PermissionDenied
        return post

    def _back_to(self, post: Post) -> HttpResponseRedirect:
        url = reverse(f"admin:{self._url_name('change')}", args=[post.pk])
        return HttpResponseRedirect(f"{url}#preview-links")

    @method_decorator(require_POST)
    @method_decorator(transaction.atomic)
    def create_preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        post = self._post_for_previews(request, object_id)
        choice = previews.DURATIONS.get(request.POST.get("duration", ""))
        if choice is None:
            self.message_user(request, "Choose how long the link should last.", messages.ERROR)
            return self._back_to(post)
        label, lifetime = choice
        try:
            previews.create_link(post, request.user, lifetime)
        except previews.PreviewError as error:
            self.message_user(request, str(error), messages.ERROR)
            return self._back_to(post)
        self.log_change(request, post, f"Made a preview link, valid for {label}.")
        self.message_user(
            request,
            f"Preview link made, valid for {label}: copy it below and send it to your readers.",
            messages.SUCCESS,
        )
        return self._back_to(post)

    @method_decorator(require_POST)
    @method_decorator(transaction.atomic)
    def revoke_preview_view(self, request: HttpRequest, object_id: str, link_id: int
                            ) -> HttpResponse:  # fmt: skip
        post = self._post_for_previews(request, object_id)
        link = get_object_or_404(PreviewLink, pk=link_id, post=post)
        if link.revoked_at is not None or link.expires_at <= timezone.now():
            self.message_user(request, "That preview link was no longer valid.", messages.INFO)
            return self._back_to(post)
        previews.revoke(link, request.user)
        self.log_change(request, post, "Revoked a preview link.")
        self.message_user(
            request, "Preview link revoked: no one can open it any more.", messages.SUCCESS
        )
        return self._back_to(post)
