"""The comments' side of the admin: the moderation queue, and the library's blocklist
of domains. (blog.admin imports this module, so that it is registered.)"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import Truncator
from django_comments.models import CommentFlag
from django_comments_xtd.admin import BlackListedDomainAdmin, XtdCommentsAdmin
from django_comments_xtd.models import BlackListedDomain

from ..models import Comment
from .hosts import BadHost, normalise_host


class ModerationFilter(admin.SimpleListFilter):
    """The moderation queue first: comments waiting for approval."""

    title = "moderation"
    parameter_name = "moderation"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("held", "Awaiting approval"), ("public", "Published"), ("removed", "Removed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> QuerySet[Comment]:
        match self.value():
            case "held":
                return queryset.filter(is_public=False, is_removed=False)
            case "public":
                return queryset.visible()
            case "removed":
                return queryset.filter(is_removed=True)
        return queryset


@admin.register(Comment)
class CommentAdmin(XtdCommentsAdmin):
    list_display = [
        "cid", "post", "user_name", "excerpt", "submit_date", "state", "is_highlighted",
        "followup",
    ]  # fmt: skip
    list_display_links = ["cid", "excerpt"]
    list_filter = [ModerationFilter, "is_highlighted", "followup", "submit_date"]
    list_per_page = 50
    ordering = ["-submit_date"]
    search_fields = ["user_name", "user_email", "user_url", "comment", "ip_address"]
    actions = ["approve_comments", "remove_comments", "highlight_answers", "unhighlight_answers"]
    readonly_fields = ["post", "thread_level", "submit_date", "ip_address"]
    fieldsets = [
        (None, {"fields": ["post", "thread_level"]}),
        ("Content", {"fields": ["user", "user_name", "user_email", "user_url", "comment"]}),
        (
            "Moderation",
            {"fields": ["is_public", "is_removed", "is_highlighted", "followup",
                        "submit_date", "ip_address"]},
        ),
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comment]:
        return super().get_queryset(request).prefetch_related("content_object")

    @admin.display(description="post")
    def post(self, comment: Comment) -> str:
        post = comment.content_object
        if post is None:
            return "-"
        return format_html('<a href="{}">{}</a>', post.get_absolute_url(), post)

    @admin.display(description="comment")
    def excerpt(self, comment: Comment) -> str:
        return Truncator(comment.comment).words(12)

    @admin.display(description="state")
    def state(self, comment: Comment) -> str:
        if comment.is_removed:
            return "Removed"
        return "Published" if comment.is_public else "Awaiting approval"

    # Approving goes through django-contrib-comments' perform_approve, one save per
    # comment, so each publication sends its follow-up e-mails (after the commit).
    @transaction.atomic
    def approve_comments(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        super().approve_comments(request, queryset)

    approve_comments.short_description = "Approve selected comments"

    @transaction.atomic
    def remove_comments(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        super().remove_comments(request, queryset)

    remove_comments.short_description = "Remove selected comments"

    @admin.action(description="Highlight as answers (shown with the call for answers)")
    def highlight_answers(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        visible = queryset.visible()
        count = visible.update(is_highlighted=True)
        self.message_user(request, f"{count} comment(s) highlighted as answers.")
        skipped = queryset.count() - count
        if skipped:
            self.message_user(
                request,
                f"{skipped} comment(s) not shown to readers were left alone.",
                messages.WARNING,
            )

    @admin.action(description="Remove the highlight")
    def unhighlight_answers(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = queryset.update(is_highlighted=False)
        self.message_user(request, f"{count} comment(s) no longer highlighted.")


admin.site.register(CommentFlag)


class BlockedDomainForm(forms.ModelForm):
    class Meta:
        model = BlackListedDomain
        fields = ["domain"]

    def clean_domain(self) -> str:
        """Stored as the blocklist compares it (hosts.py), whatever way it was typed."""
        domain = self.cleaned_data["domain"].strip()
        try:
            return normalise_host(domain.lstrip("*."))
        except BadHost:
            raise forms.ValidationError(
                "This is not a domain name (such as spam.example): it cannot be blocked.",
                code="bad_host",
            ) from None


class BlockedDomainAdmin(BlackListedDomainAdmin):
    form = BlockedDomainForm


admin.site.register(BlackListedDomain, BlockedDomainAdmin)
