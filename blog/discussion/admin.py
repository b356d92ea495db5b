"""The comments' side of the admin: the moderation queue, and the library's blocklist
of domains. (blog.admin imports this module, so that it is registered.)"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.defaultfilters import linebreaks_filter
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django_comments.models import CommentFlag
from django_comments_xtd.admin import BlackListedDomainAdmin, XtdCommentsAdmin
from django_comments_xtd.models import BlackListedDomain

from ..converters import parse_id
from ..models import Comment
from .hosts import BadHost, normalise_host
from .moderation import reasons_held


class ModerationFilter(admin.SimpleListFilter):
    """The moderation queue first: comments waiting for approval. "All" is a value of
    its own (``?moderation=all``), not the bare list's address, which opens on the
    queue when anything waits (CommentAdmin.changelist_view)."""

    title = "moderation"
    parameter_name = "moderation"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("held", "Awaiting approval"), ("public", "Published"), ("removed", "Removed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> QuerySet[Comment]:
        match self.value():
            case "held":
                return queryset.held()
            case "public":
                return queryset.visible()
            case "removed":
                return queryset.filter(is_removed=True)
        return queryset

    def choices(self, changelist) -> Iterator[dict]:
        current = self.value()
        for value, title in [("all", "All"), *self.lookup_choices]:
            yield {
                "selected": current == value or (value == "all" and current is None),
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }


class CommentAdminForm(forms.ModelForm):
    """The change form, in plain words (django-contrib-comments' labels are its field
    names: "user's URL", "is public")."""

    class Meta:
        model = Comment
        fields = [
            "user", "user_name", "user_email", "user_url", "comment",
            "is_public", "is_removed", "is_highlighted", "followup",
        ]  # fmt: skip
        labels = {
            "user": "Signed-in account",
            "user_name": "Name",
            "user_email": "E-mail address",
            "user_url": "Website",
            "comment": "Text",
            "is_public": "Approved",
            "is_removed": "Removed",
            "is_highlighted": "Highlighted answer",
            "followup": "Follow-up e-mails",
        }
        help_texts = {
            "user": "Set when a member of staff wrote it while signed in.",
            "user_name": "The name shown with the comment.",
            "user_email": "Never shown to readers.",
            "user_url": "Their name links here, if given.",
            "is_public": "Readers see the comment once it is approved (and not removed).",
            "is_removed": "Readers no longer see it; its replies stay.",
            "followup": "E-mail the commenter when someone else comments on the post.",
        }


# Each row's buttons: the list's action each runs, and its address (CommentAdmin.get_urls).
MODERATE_BUTTONS = {"approve_comments": "approve", "remove_comments": "remove"}


@admin.register(Comment)
class CommentAdmin(XtdCommentsAdmin):
    form = CommentAdminForm
    list_display = ["by", "text", "state"]  # and the buttons: get_list_display
    list_display_links = ["by"]
    list_filter = [ModerationFilter, "is_highlighted", "followup", "submit_date"]
    list_per_page = 50
    ordering = ["-submit_date"]
    search_fields = ["user_name", "user_email", "user_url", "comment", "ip_address"]
    actions = ["approve_comments", "remove_comments", "highlight_answers", "unhighlight_answers"]
    readonly_fields = ["post", "reply_depth", "posted", "held_because", "ip_address"]
    fieldsets = [
        (None, {"fields": ["post", "reply_depth"]}),
        ("What they wrote", {"fields": ["user", "user_name", "user_email", "user_url", "comment"]}),
        (
            "Moderation",
            {"fields": ["is_public", "is_removed", "held_because", "is_highlighted", "followup"]},
        ),
        ("Record", {"fields": ["posted", "ip_address"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comment]:
        return super().get_queryset(request).prefetch_related("content_object")

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        # The bare address opens on the queue when anything waits; any choice made in
        # the list (a filter, "All", a search, a page, an order) is kept as it is.
        if request.method == "GET" and not request.GET and Comment.objects.held().exists():
            return redirect(f"{request.path}?{ModerationFilter.parameter_name}=held")
        queue = request.GET.get(ModerationFilter.parameter_name) == "held"
        title = "Comments awaiting approval" if queue else "Comments"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def get_urls(self) -> list:
        # Before the admin's own: its "<path:object_id>/" would take these.
        def moderate(name: str, action: str) -> URLPattern:
            view = self.admin_site.admin_view(partial(self.moderate_view, action=action))
            return path(f"<path:object_id>/{name}/", view, name=f"blog_comment_{name}")

        own = [moderate(name, action) for action, name in MODERATE_BUTTONS.items()]
        return own + super().get_urls()

    def moderate_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """A row's Approve or Remove button: the list's own action (approve_comments,
        remove_comments) on that one comment, then back to the list as it was."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if action not in self.get_actions(request):
            raise PermissionDenied
        comments = self.get_queryset(request).filter(pk=parse_id(object_id) or 0)
        if not comments.exists():
            raise Http404("No such comment.")
        getattr(self, action)(request, comments)
        changelist = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
            current_app=self.admin_site.name,
        )
        # Only a query string, after our own address: never a way off the site.
        query = request.GET.get("_changelist_filters", "")
        return redirect(f"{changelist}?{query}" if query else changelist)

    def get_list_display(self, request: HttpRequest) -> list:
        columns = super().get_list_display(request)
        # Only the buttons of the actions this user has (django_comments.can_moderate).
        allowed = set(MODERATE_BUTTONS) & set(self.get_actions(request))
        if not allowed:
            return columns
        filters = request.GET.urlencode()

        def state(comment: Comment) -> str:
            # The state and, under it, what can be done about it: one narrow column, so
            # that the text keeps the width. The buttons carry the list's filters, so
            # that the list comes back as it was.
            return format_html(
                "{}{}", self.state(comment), self.moderate_buttons(comment, allowed, filters)
            )

        state.short_description = "State"
        return [state if column == "state" else column for column in columns]

    @admin.display(description="From", ordering="user_name")
    def by(self, comment: Comment) -> str:
        return format_html(
            '<span class="comment-by__name">{}</span><span class="comment-by__date">{}</span>',
            comment.user_name or "(no name)",
            date_format(timezone.localtime(comment.submit_date), "j M Y, H:i"),
        )

    @admin.display(description="Comment")
    def text(self, comment: Comment) -> str:
        """The whole text, escaped (web addresses as text: a moderator sees where they
        point before anyone can follow them), the post it answers, and why it waits."""
        reasons = [] if comment.is_public else reasons_held(comment)
        return format_html(
            '<div class="comment-row__post">on {}</div><div class="comment-row__text">{}</div>{}',
            self.post(comment),
            linebreaks_filter(comment.comment, autoescape=True),
            format_html('<p class="comment-row__held">Held because {}.</p>', "; ".join(reasons))
            if reasons and not comment.is_removed
            else "",
        )

    @admin.display(description="State")
    def state(self, comment: Comment) -> str:
        if comment.is_removed:
            state, css = "Removed", "removed"
        elif comment.is_public:
            state, css = "Published", "live"
        else:
            state, css = "Awaiting approval", "held"
        badge = format_html('<span class="badge badge--{}">{}</span>', css, state)
        if comment.is_highlighted:
            badge = format_html('{} <span class="badge">Highlighted</span>', badge)
        return badge

    def moderate_buttons(self, comment: Comment, allowed: set[str], filters: str) -> str:
        """Approve and Remove, as buttons of the list's own form (so its CSRF token
        goes with them) sent to moderate_view."""
        query = urlencode({"_changelist_filters": filters})
        buttons = []
        if "approve_comments" in allowed and not comment.is_public and not comment.is_removed:
            buttons.append(("approve", "Approve", "button--approve"))
        if "remove_comments" in allowed and not comment.is_removed:
            buttons.append(("remove", "Remove", "button--remove"))
        if not buttons:
            return ""
        return format_html(
            '<div class="moderate-buttons">{}</div>',
            format_html_join(
                "",
                '<button type="submit" class="button {}" formaction="{}?{}" formmethod="post" '
                'aria-label="{} the comment by {}">{}</button>',
                (
                    (css, reverse(f"admin:blog_comment_{name}", args=[comment.pk]), query,
                     label, comment.user_name, label)
                    for name, label, css in buttons
                ),
            ),
        )  # fmt: skip

    @admin.display(description="Post")
    def post(self, comment: Comment) -> str:
        post = comment.content_object
        if post is None:
            return "-"
        return format_html('<a href="{}">{}</a>', post.get_absolute_url(), post.display_title)

    @admin.display(description="Reply depth")
    def reply_depth(self, comment: Comment) -> str:
        if not comment.level:
            return "A comment on the post"
        return f"A reply, {comment.level} level{'s' if comment.level > 1 else ''} deep"

    @admin.display(description="Posted")
    def posted(self, comment: Comment) -> str:
        return date_format(timezone.localtime(comment.submit_date), "j F Y, H:i")

    @admin.display(description="Held because")
    def held_because(self, comment: Comment) -> str:
        if comment.is_public or comment.is_removed:
            return "-"
        return "; ".join(reasons_held(comment)) or "Held by a moderator."

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
