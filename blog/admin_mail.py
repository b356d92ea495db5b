"""What staff see of the e-mail the site sends: every e-mail, waiting, sent or failed
(``OutgoingMailAdmin``, "Outgoing e-mail"), and each mailing of a new post or a weekly
digest with its progress (``MailingAdmin``).

Both are for looking, not writing: the rows are the outbox's (blog.outbox) and the
mailings' (blog.following.mailing). No one adds, edits or deletes them here; the one
thing staff do is "Send again now", for e-mail that failed, waits, or is stuck (being
sent when a worker stopped: whether it went cannot be known, so staff decide).

A mailing's progress is counted for the whole page of the list in its one query
(``Count(..., filter=...)``), not a query per row.
"""

from __future__ import annotations

import datetime

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from . import outbox
from .models import Mailing, OutgoingMail

Status = OutgoingMail.Status
# A row "being sent" for longer than this is taken to be stuck: its worker stopped.
STUCK_AFTER = datetime.timedelta(minutes=10)


def when(moment: datetime.datetime | None) -> str:
    return date_format(timezone.localtime(moment), "j M Y, H:i") if moment else "–"


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list to read and act on, with each row's page shown read-only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # The list's actions need the permission; a row's own page never edits.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# Outgoing e-mail -----------------------------------------------------------------------


class StuckFilter(admin.SimpleListFilter):
    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        minutes = int(STUCK_AFTER.total_seconds() // 60)
        return [("yes", f"Being sent for more than {minutes} minutes")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return stuck(queryset)
        return queryset


def stuck(queryset: QuerySet[OutgoingMail]) -> QuerySet[OutgoingMail]:
    return queryset.filter(status=Status.SENDING, claimed_at__lt=timezone.now() - STUCK_AFTER)


class MailingFilter(admin.SimpleListFilter):
    """One mailing's e-mails (the mailing's page links here): shown only when chosen, as
    a list of every mailing would be long and of little use."""

    title = "mailing"
    parameter_name = "mailing"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        value = self.value()
        if not (value and value.isdigit()):
            return []
        mailing = Mailing.objects.select_related("post").filter(pk=value).first()
        return [(value, str(mailing))] if mailing else []

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(mailing_id=value)
        return queryset


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ReadOnlyAdmin):
    list_display = [
        "kind_name", "to", "what", "state", "attempts", "next_attempt", "sent", "error",
    ]  # fmt: skip
    list_filter = ["status", "kind", StuckFilter, MailingFilter]
    search_fields = ["to"]
    actions = ["send_again"]
    list_select_related = ["mailing__post"]
    fields = [
        "kind", "to", "subject", "mailing", "status", "attempts", "next_attempt_at",
        "claimed_at", "sent_at", "created_at", "last_error", "body",
    ]  # fmt: skip
    readonly_fields = fields
    # 10,000 rows a mailing: the count of a search or a filter is exact, the full
    # count beside it is not asked for.
    show_full_result_count = False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        return super().changelist_view(
            request, {"title": "Outgoing e-mail", **(extra_context or {})}
        )

    @admin.display(description="Kind", ordering="kind")
    def kind_name(self, row: OutgoingMail) -> str:
        return row.get_kind_display()

    @admin.display(description="E-mail")
    def what(self, row: OutgoingMail) -> str:
        if row.mailing_id is not None:
            url = reverse("admin:blog_mailing_change", args=[row.mailing_id])
            return format_html('<a href="{}">{}</a>', url, str(row.mailing))
        return Truncator(row.subject).chars(80)

    @admin.display(description="Status", ordering="status")
    def state(self, row: OutgoingMail) -> str:
        return status_badge(row.status, row.get_status_display())

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, row: OutgoingMail) -> str:
        return when(row.next_attempt_at) if row.status == Status.QUEUED else "–"

    @admin.display(description="Sent", ordering="sent_at")
    def sent(self, row: OutgoingMail) -> str:
        return when(row.sent_at)

    @admin.display(description="Last error")
    def error(self, row: OutgoingMail) -> str:
        return Truncator(row.last_error).chars(120)

    @admin.action(description="Send again now", permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutgoingMail]) -> None:
        rows = list(queryset.only("pk", "status", "mailing_id"))
        count = outbox.send_again(rows)
        skipped = len(rows) - count
        message = f"{count} e-mail(s) queued to be sent now."
        if skipped:
            message += f" {skipped} already sent, left as they are."
        self.message_user(request, message, messages.SUCCESS)


BADGES = {
    Status.QUEUED: "scheduled",
    Status.SENDING: "scheduled",
    Status.SENT: "live",
    Status.FAILED: "removed",
    Status.CANCELLED: "draft",
}


def status_badge(status: str, label: str) -> str:
    return format_html('<span class="badge badge--{}">{}</span>', BADGES[status], label)


# Mailings -----------------------------------------------------------------------------


def with_progress(queryset: QuerySet[Mailing]) -> QuerySet[Mailing]:
    """Each mailing with how many of its e-mails are sent, waiting (or being sent),
    failed and not sent, counted in the same query."""

    def count(*statuses: str) -> Count:
        return Count("mails", filter=Q(mails__status__in=statuses))

    return queryset.annotate(
        sent_count=count(Status.SENT),
        waiting_count=count(Status.QUEUED, Status.SENDING),
        failed_count=count(Status.FAILED),
        cancelled_count=count(Status.CANCELLED),
    )


class MailingStateFilter(admin.SimpleListFilter):
    title = "progress"
    parameter_name = "progress"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("due", "Not started"), ("sending", "Being sent"), ("finished", "Finished")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "due":
                return queryset.filter(started_at__isnull=True)
            case "sending":
                return queryset.filter(started_at__isnull=False, finished_at__isnull=True)
            case "finished":
                return queryset.filter(finished_at__isnull=False)
        return queryset


@admin.register(Mailing)
class MailingAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "due", "started", "progress", "finished"]
    list_filter = ["kind", MailingStateFilter]
    list_select_related = ["post"]
    fields = ["kind", "post", "week", "due_at", "started_at", "recipients", "finished_at"]
    readonly_fields = [*fields, "progress", "emails"]
    actions = None

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [*self.fields[:-1], "progress", "finished_at", "emails"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Mailing]:
        return with_progress(super().get_queryset(request))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        return super().changelist_view(request, {"title": "Mailings", **(extra_context or {})})

    @admin.display(description="Mailing")
    def name(self, mailing: Mailing) -> str:
        return str(mailing)

    @admin.display(description="Due", ordering="due_at")
    def due(self, mailing: Mailing) -> str:
        return when(mailing.due_at)

    @admin.display(description="Started", ordering="started_at")
    def started(self, mailing: Mailing) -> str:
        return when(mailing.started_at)

    @admin.display(description="Finished", ordering="finished_at")
    def finished(self, mailing: Mailing) -> str:
        return when(mailing.finished_at)

    @admin.display(description="Progress")
    def progress(self, mailing: Mailing) -> str:
        if mailing.started_at is None:
            return format_html('<span class="mailing-progress__note">{}</span>', "Not started")
        total = mailing.recipients
        if not total:
            return format_html('<span class="mailing-progress__note">{}</span>', "No followers")
        parts = [
            ("sent", mailing.sent_count),
            ("waiting", mailing.waiting_count),
            ("failed", mailing.failed_count),
            ("cancelled", mailing.cancelled_count),
        ]
        bar = format_html_join(
            "",
            '<span class="mailing-progress__{}" style="width: {}%"></span>',
            ((name, f"{100 * n / total:.2f}") for name, n in parts if n),
        )
        others = [
            f"{number_format(n, force_grouping=True)} {label}"
            for label, n in [
                ("waiting", mailing.waiting_count),
                ("failed", mailing.failed_count),
                ("not sent", mailing.cancelled_count),
            ]
            if n
        ]
        return format_html(
            '<span class="mailing-progress"><span class="mailing-progress__bar" '
            'aria-hidden="true">{}</span><a class="mailing-progress__text" href="{}">'
            "{} of {} sent</a>{}</span>",
            bar,
            emails_url(mailing),
            number_format(mailing.sent_count, force_grouping=True),
            number_format(total, force_grouping=True),
            format_html(' <span class="mailing-progress__note">· {}</span>', " · ".join(others))
            if others
            else "",
        )

    @admin.display(description="Its e-mails")
    def emails(self, mailing: Mailing) -> str:
        links = [("All", emails_url(mailing))] + [
            (label, f"{emails_url(mailing)}&status={status}") for status, label in Status.choices
        ]
        return format_html_join(
            " · ", '<a href="{}">{}</a>', ((url, label) for label, url in links)
        )


def emails_url(mailing: Mailing) -> str:
    return f"{reverse('admin:blog_outgoingmail_changelist')}?mailing={mailing.pk}"
