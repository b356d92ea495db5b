"""The media list in the admin ("Media"): each uploaded image with a thumbnail, its
size, its alternative text (flagged when it has none) and the posts and pages that use
it. An image is added through blog.media.store_upload, like the editor's uploads; one
in use is deleted only after a warning naming what uses it, and its files go with it
(blog.media removes them once the deletion is committed).

``ImageAltWarningMixin`` is for the post's (and a page's) admin: a save whose body
shows an image without alternative text says so.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from . import media
from .models import Image, Page, Post, Rendition
from .writing import post_writes


class MissingAltFilter(admin.SimpleListFilter):
    title = "alternative text"
    parameter_name = "alt"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("missing", "Missing alt text"), ("given", "Given")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Image]) -> QuerySet[Image]:
        match self.value():
            case "missing":
                return queryset.filter(alt_text="")
            case "given":
                return queryset.exclude(alt_text="")
        return queryset


class ImageAdminForm(forms.ModelForm):
    upload = forms.FileField(
        label="Image",
        required=False,
        help_text="A JPEG or PNG. It is stored without its camera and location data.",
    )

    class Meta:
        model = Image
        fields = ["alt_text"]

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if self.instance.pk is None:
            if not upload:
                raise forms.ValidationError("Choose an image to upload.")
            media.check_upload(upload)
        return upload


def _count(through) -> Coalesce:
    counted = (
        through.objects.filter(image_id=OuterRef("pk"))
        .values("image_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageAdminForm
    # What an editor looks for first (where it is used, whether it has its text) before
    # what the file is: on a laptop the list is as wide as the screen less the menu.
    list_display = [
        "thumbnail", "name", "uses", "alt_text", "has_alt", "dimensions", "file_size",
        "uploaded_at",
    ]  # fmt: skip
    list_display_links = ["thumbnail", "name"]
    list_filter = [MissingAltFilter]
    search_fields = ["alt_text", "file"]
    list_select_related = ["uploaded_by"]
    readonly_fields = [
        "preview", "name", "dimensions", "file_size", "format", "uploaded_at", "uploaded_by",
        "used_by",
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Image]:
        # Counted by subqueries: joining both many-to-manys would multiply the rows.
        return (
            super()
            .get_queryset(request)
            .annotate(
                post_uses=_count(Image.posts.through),
                page_uses=_count(Image.pages.through),
            )
            .prefetch_related(
                Prefetch("renditions", queryset=Rendition.objects.order_by("width", "format"))
            )
        )

    def get_fields(self, request: HttpRequest, obj: Image | None = None) -> list[str]:
        if obj is None:
            return ["upload", "alt_text"]
        return ["preview", "alt_text", "name", "dimensions", "file_size", "format",
                "uploaded_at", "uploaded_by", "used_by"]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Image | None = None) -> list[str]:
        return [] if obj is None else self.readonly_fields

    # The columns ---------------------------------------------------------------------

    @admin.display(description="Image")
    def thumbnail(self, image: Image) -> str:
        # The list's own text says what it is; the thumbnail repeats the alt text.
        height = max(1, round(80 * image.height / image.width)) if image.width else 80
        return _img(
            media.smallest_rendition(image), image,
            width=80, height=height, loading="lazy", **{"class": "media-thumb"},
        )  # fmt: skip

    @admin.display(description="Preview")
    def preview(self, image: Image) -> str:
        return _img(media.largest_rendition(image), image,
                    style="max-width: 100%; height: auto; max-height: 20rem")  # fmt: skip

    @admin.display(description="File", ordering="file")
    def name(self, image: Image) -> str:
        return image.file.name.rsplit("/", 1)[-1]

    @admin.display(description="Dimensions")
    def dimensions(self, image: Image) -> str:
        return f"{image.width} × {image.height}"

    @admin.display(description="Size", ordering="size")
    def file_size(self, image: Image) -> str:
        return filesizeformat(image.size)

    @admin.display(description="Alt text given", boolean=True, ordering="alt_text")
    def has_alt(self, image: Image) -> bool:
        return bool(image.alt_text)

    @admin.display(description="Uses")
    def uses(self, image: Image) -> int:
        return getattr(image, "post_uses", 0) + getattr(image, "page_uses", 0)

    @admin.display(description="Used in")
    def used_by(self, image: Image) -> str:
        items = _uses(image)
        if not items:
            return "Not used in any post or page."
        return format_html(
            "<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a></li>', items)
        )

    # Adding: through the one upload path ---------------------------------------------

    def save_form(self, request: HttpRequest, form, change: bool) -> Image:
        if change:
            return super().save_form(request, form, change)
        alt_text = form.cleaned_data["alt_text"]
        image = media.store_upload(form.cleaned_data["upload"], request.user, alt_text=alt_text)
        if alt_text:  # the same picture uploaded again: the newer words win
            image.alt_text = alt_text
        return image

    def save_model(self, request: HttpRequest, image: Image, form, change: bool) -> None:
        image.save()
        if change and "alt_text" in form.changed_data:
            # The bodies that show it without alt text of their own take the new one.
            with post_writes(user=request.user, revisions=False, announce=False) as w:
                w.add_many(image.posts.values_list("pk", flat=True))
                for pk in image.pages.values_list("pk", flat=True):
                    w.add_page(pk)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        pass  # no many-to-many of its own to save: the uses are the write path's

    # Deleting: a warning for images in use ---------------------------------------------

    def get_deleted_objects(self, objs, request: HttpRequest):
        result = super().get_deleted_objects(objs, request)
        # The confirmation page (not the confirmed deletion): say what uses them.
        if request.POST.get("post") != "yes":
            for image in objs:
                items = _uses(image)
                if items:
                    self.message_user(
                        request,
                        format_html(
                            "“{}” is used in {}: {}. Deleting it leaves them without it.",
                            image,
                            f"{len(items)} post(s) or page(s)",
                            format_html_join(", ", '<a href="{}">{}</a>', items),
                        ),
                        messages.WARNING,
                    )
        return result

    def delete_model(self, request: HttpRequest, image: Image) -> None:
        self.delete_queryset(request, Image.objects.filter(pk=image.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Image]) -> None:
        # The bodies that showed them are rendered again, without their renditions.
        pks = list(queryset.values_list("pk", flat=True))
        posts = list(Post.objects.filter(images__in=pks).values_list("pk", flat=True))
        pages = list(Page.objects.filter(images__in=pks).values_list("pk", flat=True))
        with post_writes(
            user=request.user, reason="Image deleted", revisions=False, announce=False
        ) as writes:
            Image.objects.filter(pk__in=pks).delete()
            writes.add_many(posts)
            for pk in pages:
                writes.add_page(pk)


def _uses(image: Image) -> list[tuple[str, str]]:
    """The posts and pages that show ``image``: (change page, title)."""
    posts = [
        (reverse("admin:blog_post_change", args=[post.pk]), f"Post: {post.display_title}")
        for post in image.posts.all()
    ]
    pages = []
    for page in image.pages.all():
        try:
            url = reverse("admin:blog_page_change", args=[page.pk])
        except NoReverseMatch:  # pages not in this admin
            url = page.get_absolute_url()
        pages.append((url, f"Page: {page.title}"))
    return posts + pages


class ImageAltWarningMixin:
    """For the admin of posts and pages: a saved body that shows an image without
    alternative text is flagged, naming the image."""

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        missing = media.images_without_alt(obj.body)
        if missing:
            self.message_user(
                request,
                f"{len(missing)} image(s) have no alternative text: write what each shows "
                f"between the brackets, ![like this]({missing[0]}), or give it in Media.",
                messages.WARNING,
            )



def _img(rendition: Rendition | None, image: Image, **attributes: object) -> str:
    """The image shown in the admin, from ``rendition`` (else the stored original), with
    its alternative text and the given ``attributes``, every value escaped."""
    url = rendition.file.url if rendition is not None else image.file.url
    extra = format_html_join(" ", '{}="{}"', attributes.items())
    return format_html('<img src="{}" alt="{}" {}>', url, image.alt_text, extra)
