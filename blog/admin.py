from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from markdownx.admin import MarkdownxModelAdmin

from .admin_editor import PostEditorMixin
from .discussion import admin as _discussion_admin  # noqa: F401 (registers the comments' admin)
from .models import Post
from .tagging import format_tags
from .writing import post_writes, set_tags


@admin.register(Post)
class PostAdmin(PostEditorMixin, MarkdownxModelAdmin):
    # The change form (its form, preview, publishing buttons): blog.admin_editor.
    list_display = [
        "display_title", "visibility", "published_at", "author", "tag_list", "comments",
    ]  # fmt: skip
    list_filter = ["status", "published_at", "tags"]
    search_fields = ["title", "body", "slug"]
    date_hierarchy = "published_at"
    list_select_related = ["author"]
    actions = ["publish", "unpublish"]

    class Media:
        css = {"all": ["css/admin.css"]}

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        # The admin saves a post in three steps (save_model, the references inline, the
        # tags in save_related): one write, rendered, indexed and announced once, after
        # the last of them (blog.writing).
        with post_writes():
            return super().changeform_view(request, object_id, form_url, extra_context)

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

    @admin.display(description="Title", ordering="title")
    def display_title(self, post: Post) -> str:
        return post.display_title

    @admin.display(description="Visibility", ordering="status")
    def visibility(self, post: Post) -> str:
        """What readers get: a draft, a post scheduled for later, or a live post."""
        if post.status == Post.Status.DRAFT:
            return "Draft"
        return "Live" if post.is_public else "Scheduled"

    @admin.display(description="Tags")
    def tag_list(self, post: Post) -> str:
        return format_tags(post.tags.all())

    @admin.display(description="Comments", ordering="comment_count")
    def comments(self, post: Post) -> str:
        """The published comments, linked to all of the post's comments in the admin."""
        url = reverse("admin:blog_comment_changelist") + f"?object_pk={post.pk}"
        return format_html('<a href="{}">{}</a>', url, post.comment_count)

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
        # One UPDATE statement: all the selected posts change, or none.
        changed = queryset.exclude(status=status).update(status=status, updated_at=timezone.now())
        self.message_user(request, f"{changed} post(s) {done}.", messages.SUCCESS)
