"""Old addresses in the admin (Settings › Old addresses): the table the importers fill
and blog.redirects answers from, for staff to see, correct and add to by hand.
(blog.admin imports this module, so that it is registered.)"""

from __future__ import annotations

from urllib.parse import unquote

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from .models import Redirect
from .redirects import target_of

# What the importers write in ``source``; a row staff added has none.
SOURCE_NAMES = {"blogger": "Blogger", "wordpress": "WordPress", "": "Added by hand"}


def source_name(source: str) -> str:
    return SOURCE_NAMES.get(source, source)


class SourceFilter(admin.SimpleListFilter):
    """Where the rows came from, as they stand: only the sources some row has."""

    title = "source"
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        sources = Redirect.objects.order_by("source").values_list("source", flat=True).distinct()
        # "" is no value to a filter's query string: a row added by hand is "hand".
        return [(source or "hand", source_name(source)) for source in sources]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Redirect]) -> QuerySet[Redirect]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(source="" if value == "hand" else value)


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    list_display = ["old_path", "leads_to", "source_label", "created"]
    list_filter = [SourceFilter]
    search_fields = ["old_path"]
    list_select_related = ["post", "tag"]
    autocomplete_fields = ["post", "tag"]
    fieldsets = [
        (None, {"fields": ["old_path"]}),
        (
            "Leads to",
            {
                "fields": ["post", "tag", "new_path"],
                "description": "One of these: a post, a tag, or any other address on this "
                "site (a feed, the home page /).",
            },
        ),
    ]
    readonly_fields = ["source_label", "created"]

    def get_fieldsets(self, request: HttpRequest, obj: Redirect | None = None) -> list:
        if obj is None:
            return self.fieldsets
        # Where an existing row came from, below what can be changed.
        return [*self.fieldsets, ("Origin", {"fields": ["source_label", "created"]})]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        # "Old addresses", not Django's "Select old address to change".
        return super().changelist_view(request, {"title": "Old addresses", **(extra_context or {})})

    @admin.display(description="Leads to")
    def leads_to(self, row: Redirect) -> str:
        """The new address, as a link readers would follow; said plainly when readers
        are not sent there (a post not public yet, an address off the site)."""
        target = target_of(row)
        if target is None:
            return format_html(
                '{} <span class="redirect-unused">(not followed: {})</span>',
                row.new_path or str(row.post or row.tag),
                _why_not(row),
            )
        # The address as readers read it ("/tags/protección/"), linked as it is sent.
        return format_html('<a href="{}">{}</a>', target, unquote(target))

    @admin.display(description="Source", ordering="source")
    def source_label(self, row: Redirect) -> str:
        return source_name(row.source)

    @admin.display(description="Created", ordering="created_at")
    def created(self, row: Redirect) -> str:
        if row.created_at is None:
            return "—"
        return date_format(timezone.localtime(row.created_at), "j M Y, H:i")


def _why_not(row: Redirect) -> str:
    if row.post_id is not None:
        return "the post is not public"
    if row.tag_id is not None:
        return "the tag has no address"
    return "not an address on this site"
