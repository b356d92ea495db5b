"""Authors' profiles in the admin (Writing › Authors): the display name on bylines, the
biography and photo on the author page. Staff without the permission to change
profiles may still see and edit their own (never give it to another account).
(blog.admin imports this module, so that it is registered.)"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from .models import Author


def own_profile_id(request: HttpRequest) -> int | None:
    """The signed-in member of staff's own profile, if any: looked up once a request
    (the admin asks for permissions several times a page)."""
    if not hasattr(request, "_own_author_profile"):
        user = request.user
        request._own_author_profile = (
            Author.objects.filter(user=user).values_list("pk", flat=True).first()
            if user.is_active and user.is_staff
            else None
        )
    return request._own_author_profile


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "user", "post_count"]
    list_select_related = ["user"]
    search_fields = ["display_name", "slug", "user__first_name", "user__last_name"]
    fields = ["user", "display_name", "slug", "bio", "photo"]
    prepopulated_fields = {"slug": ["display_name"]}
    # The images' admin is its own page: a raw id and its look-up window is all this
    # form needs of it. The account: one of hundreds of commenters' is possible.
    raw_id_fields = ["user", "photo"]

    def view_on_site(self, author: Author) -> str:
        # Relative, as the posts' admin: it works on any host and port.
        return author.get_absolute_url()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Author]:
        queryset = super().get_queryset(request).annotate(post_count=Count("user__posts"))
        if self._may(request, "view") or self._may(request, "change"):
            return queryset
        return queryset.filter(pk=own_profile_id(request))

    @admin.display(description="Name", ordering="display_name")
    def name(self, author: Author) -> str:
        return author.name

    @admin.display(description="Posts", ordering="post_count")
    def post_count(self, author: Author) -> int:
        return author.post_count

    def get_readonly_fields(self, request: HttpRequest, obj: Author | None = None) -> list:
        # Editing one's own profile is not leave to hand it to another account.
        if obj is not None and not self._may(request, "change"):
            return ["user"]
        return []

    def _may(self, request: HttpRequest, action: str) -> bool:
        return request.user.has_perm(f"blog.{action}_author")

    def _own(self, request: HttpRequest, obj: Author | None) -> bool:
        own = own_profile_id(request)
        return own is not None and (obj is None or obj.pk == own)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or self._own(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Author | None = None) -> bool:
        return super().has_view_permission(request, obj) or self._own(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Author | None = None) -> bool:
        return super().has_change_permission(request, obj) or self._own(request, obj)
