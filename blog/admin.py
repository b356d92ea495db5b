from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import DateTimeField, QuerySet, Value
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from markdownx.admin import MarkdownxModelAdmin

from . import admin_authors as _authors_admin  # noqa: F401 (registers the authors' admin)
from . import admin_mail as _mail_admin  # noqa: F401 (registers the outgoing e-mail's admin)
from . import admin_redirects as _redirects_admin  # noqa: F401 (registers the old addresses' admin)
from .admin_editor import PageEditorMixin, PostEditorMixin, state_of
from .admin_media import ImageAltWarningMixin
from .admin_previews import PreviewLinksAdminMixin
from .admin_revisions import RevisionsAdminMixin
from .discussion import admin as _discussion_admin  # noqa: F401 (registers the comments' admin)
from .following import admin_followers as _followers_admin  # noqa: F401 (registers the followers')
from .importing.adminpage import PostImportMixin
from .models import Page, Post
from .tagging import format_tags
from .writing import post_writes, save_page, set_tags

# The posts list (changelist) ---------------------------------------------------------


class VisibilityFilter(admin.SimpleListFilter):
    """What readers get, as the list's badges say it: a draft, a post scheduled for
    later, or a live one (the model's status alone cannot tell the last two apart)."""

    title = "status"
    parameter_name = "visibility"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("draft", "Draft"), ("scheduled", "Scheduled"), ("live", "Live")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Post]) -> QuerySet[Post]:
        match self.value():
            case "draft":
                return queryset.drafts()
            case "scheduled":
                return queryset.scheduled()
            case "live":
                return queryset.published()
        return queryset


class TagsFilter(admin.RelatedOnlyFieldListFilter):
    """Only the tags that have posts: taggit keeps a tag whose last post went, and the
    stock filter listed it. Without the stock filter's "-" (posts without tags): a
    choice no one could read."""

    include_empty_choice = False

    def __init__(self, field, request, params, model, model_admin, field_path) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = "tags"  # as the other filters: "By status", "By tags"


class PostListColumns:
    """The posts list's columns and filters (the change form is PostAdmin's own):
    titles kept to two lines (admin.css), what readers get as a badge, the author by
    the name readers see. The date is filtered by the date hierarchy above the list,
    which offers only the years, months and days that have posts."""

    list_display = [
        "display_title", "visibility", "date", "author_name", "tag_list", "comments",
    ]  # fmt: skip
    list_filter = [VisibilityFilter, ("tags", TagsFilter)]
    search_fields = ["title", "body", "slug"]
    date_hierarchy = "published_at"
    list_select_related = ["author__author_profile"]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        # "Posts", not Django's "Select post to change".
        return super().changelist_view(request, {"title": "Posts", **(extra_context or {})})

    @admin.display(description="Title", ordering="title")
    def display_title(self, post: Post) -> str:
        # The whole title, for readers of the page and screen readers; admin.css
        # shows at most two lines of it.
        return format_html('<span class="post-title">{}</span>', post.display_title)

    @admin.display(description="Status", ordering="status")
    def visibility(self, post: Post) -> str:
        """What readers get: a draft, a post scheduled for later, or a live post."""
        state = state_of(post)  # as the editor's publishing buttons see it
        return format_html(
            '<span class="badge badge--{}">{}</span>', state.value, state.value.capitalize()
        )

    @admin.display(description="Date", ordering="published_at")
    def date(self, post: Post) -> str:
        # Short, so that the list fits beside the menu and the filters.
        return date_format(timezone.localtime(post.published_at), "j M Y, H:i")

    @admin.display(description="Author", ordering="author__last_name")
    def author_name(self, post: Post) -> str:
        return post.author_name  # the byline readers see

    @admin.display(description="Tags")
    def tag_list(self, post: Post) -> str:
        return format_tags(post.tags.all())

    @admin.display(description="Comments", ordering="comment_count")
    def comments(self, post: Post) -> str:
        """The published comments, linked to all of the post's comments in the admin."""
        url = reverse("admin:blog_comment_changelist") + f"?object_pk={post.pk}"
        return format_html('<a href="{}">{}</a>', url, post.comment_count)


# The post's change form and actions ---------------------------------------------------


class WritePathAdminMixin:
    """The change form as one write: the admin saves a post in three steps (save_model,
    the references inline, the tags in save_related), a page in one; either is rendered,
    indexed, kept as a revision by the signed-in editor and announced once, after the
    last of them (blog.writing)."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        with post_writes(user=request.user):
            return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Post)
class PostAdmin(
    PostListColumns,
    ImageAltWarningMixin,
    PostImportMixin,
    RevisionsAdminMixin,
    PreviewLinksAdminMixin,
    WritePathAdminMixin,
    PostEditorMixin,
    MarkdownxModelAdmin,
):
    # The change form (its form, preview, publishing buttons): blog.admin_editor. The
    # import page: blog.importing.adminpage.
    actions = ["publish", "unpublish"]

    def save_model(self, request: HttpRequest, post: Post, form, change: bool) -> None:
        with post_writes() as writes:
            super().save_model(request, post, form, change)
            writes.add(post)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # Not form.save_m2m(): the tags are a post's only many-to-many, and the write
        # path saves them in a few statements, where taggit's manager takes several a tag.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        set_tags(form.instance, form.cleaned_data["tags"])

    def view_on_site(self, post: Post) -> str:
        # Relative, not through the Site domain, so it works on any host and port.
        return post.get_absolute_url()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        return super().get_queryset(request).prefetch_related("tags").with_comment_counts()

    @admin.action(description="Publish the selected posts", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._set_status(request, queryset, Post.Status.PUBLISHED, "published")

    @admin.action(
        description="Unpublish the selected posts (back to draft)", permissions=["change"]
    )
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        self._set_status(request, queryset, Post.Status.DRAFT, "returned to draft")

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[Post], status: str, done: str
    ) -> None:
        # One UPDATE statement: all the selected posts change, or none; each then kept
        # as a revision, by whom and why, through the write path.
        chosen = queryset.exclude(status=status)
        with post_writes(user=request.user, reason=f"{done.capitalize()} from the list") as writes:
            ids = list(chosen.values_list("pk", flat=True))
            now = timezone.now()
            fields = {"status": status, "updated_at": now}
            if status == Post.Status.PUBLISHED:
                # A draft's date is when it was started, never shown: published now, it
                # is dated now (and mailed to followers), as the editor's Publish does.
                # A draft dated in the future is scheduled for then.
                fields["published_at"] = Greatest("published_at", Value(now, DateTimeField()))
            changed = Post.objects.filter(pk__in=ids).update(**fields)
            for pk in ids:
                writes.add(pk)
        self.message_user(request, f"{changed} post(s) {done}.", messages.SUCCESS)


# Standalone pages -------------------------------------------------------------------


@admin.register(Page)
class PageAdmin(RevisionsAdminMixin, WritePathAdminMixin, PageEditorMixin, MarkdownxModelAdmin):
    """About, Contact, a comments policy: the same Markdown editor as posts (its form,
    preview and publishing buttons: blog.admin_editor.PageEditorMixin), saved
    through the one write path (rendered, indexed, kept as a revision, announced to the
    page cache). The slug is checked against the site's own addresses (Page.clean)."""

    list_display = ["title", "slug", "status", "in_navigation", "navigation_order"]
    list_editable = ["navigation_order"]
    list_filter = ["status", "in_navigation"]
    search_fields = ["title", "slug", "body"]
    prepopulated_fields = {"slug": ["title"]}

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        # The navigation order edited in the list: saved through the write path too.
        with post_writes(user=request.user):
            return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, page: Page, form, change: bool) -> None:
        save_page(page, user=request.user)

    def view_on_site(self, page: Page) -> str:
        # Relative, as for posts, so that it works on any host and port.
        return page.get_absolute_url()
