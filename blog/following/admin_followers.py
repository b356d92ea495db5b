"""Followers by e-mail in the admin (People › Followers): who follows what, how often,
since when, with the counts per tag above the list. Staff can see and delete a
following (a reader who writes to ask), never add one nor change it: a following is a
reader's own choice, confirmed by them (blog.following). (blog.admin imports this
module, so that it is registered.)"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format

from ..models import Follower


class ConfirmedFilter(admin.SimpleListFilter):
    title = "confirmed"
    parameter_name = "confirmed"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Confirmed"), ("no", "Waiting for confirmation")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Follower]) -> QuerySet[Follower]:
        if self.value() == "yes":
            return queryset.filter(confirmed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(confirmed_at__isnull=True)
        return queryset


class FollowingFilter(admin.SimpleListFilter):
    """All posts, or one tag: only the tags someone follows."""

    title = "following"
    parameter_name = "following"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        tags = (
            Follower.objects.filter(tag__isnull=False)
            .order_by("tag__name")
            .values_list("tag__slug", "tag__name")
            .distinct()
        )
        return [("all", "All posts"), *((slug, f"Tag: {name}") for slug, name in tags)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Follower]) -> QuerySet[Follower]:
        value = self.value()
        if value is None:
            return queryset
        if value == "all":
            return queryset.filter(tag__isnull=True)
        return queryset.filter(tag__slug=value)


def counts_per_tag() -> dict:
    """The confirmed followers of all posts and of each tag, each post and weekly, and
    how many wait for confirmation: one query."""
    waiting = ExpressionWrapper(Q(confirmed_at__isnull=True), output_field=BooleanField())
    rows = (
        Follower.objects.annotate(waiting=waiting)
        .values("tag__name", "frequency", "waiting")
        .annotate(n=Count("pk"))
        .order_by()
    )
    lines: dict[str | None, dict[str, int]] = {}
    unconfirmed = 0
    for row in rows:
        if row["waiting"]:
            unconfirmed += row["n"]
            continue
        line = lines.setdefault(row["tag__name"], {"post": 0, "weekly": 0})
        line[row["frequency"]] = line.get(row["frequency"], 0) + row["n"]
    ordered = [("All posts", lines.pop(None))] if None in lines else []
    ordered += [(f"Tag “{name}”", lines[name]) for name in sorted(lines, key=str.lower)]
    table = [
        {**line, "label": label, "total": line["post"] + line["weekly"]} for label, line in ordered
    ]
    return {
        "lines": table,
        "confirmed": sum(line["total"] for line in table),
        "waiting": unconfirmed,
    }


@admin.register(Follower)
class FollowerAdmin(admin.ModelAdmin):
    list_display = ["address", "following", "frequency", "confirmed", "asked"]
    list_filter = [ConfirmedFilter, "frequency", FollowingFilter]
    search_fields = ["email"]
    list_select_related = ["tag"]
    readonly_fields = ["address", "following", "frequency", "confirmed", "asked"]
    fields = readonly_fields
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Only a reader can follow: through the form and its confirmation link.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Follower | None = None) -> bool:
        # Nothing to change: the address, what and how often are the reader's to choose.
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        context = {"title": "Followers by e-mail", "counts": counts_per_tag()}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    @admin.display(description="E-mail address", ordering="email")
    def address(self, row: Follower) -> str:
        return row.email

    @admin.display(description="Following", ordering="tag__name")
    def following(self, row: Follower) -> str:
        return f"Tag “{row.tag.name}”" if row.tag_id else "All posts"

    @admin.display(description="Confirmed", ordering="confirmed_at")
    def confirmed(self, row: Follower) -> str:
        if row.confirmed_at is None:
            return "Not yet"
        return date_format(timezone.localtime(row.confirmed_at), "j M Y, H:i")

    @admin.display(description="Asked", ordering="created_at")
    def asked(self, row: Follower) -> str:
        return date_format(timezone.localtime(row.created_at), "j M Y, H:i")
