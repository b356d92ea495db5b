"""The post editor in the admin: its form, its live preview and its publishing buttons.

PostAdmin (blog.admin) takes all of this through ``PostEditorMixin``, PageAdmin through
``PageEditorMixin``: one ``EditorMixin`` and one ``EditorForm`` serve both, with a
page's own buttons (draft or published: a page is never scheduled) and no references
(a page's preview renders its body with nothing to cite, in the page's look). The rest
of those admins (the lists, the actions) is not the editor's business.

- The body is written in markdownx's textarea (kept for its image upload by drag and
  drop, paste and its keyboard shortcuts); beside it, or in a tab on a phone, a preview
  in the site's own stylesheet, inside a sandboxed frame so that neither the admin's CSS
  nor the site's fights the other. static/js/editor.js sends the form as it stands (the
  body and the references' rows, unsaved ones included, rows marked for deletion left
  out) to ``preview/``, which renders it through the same function as the write path
  (``blog.markup.render_markdown``) and the post page's own references fragment.
  markdownx's own preview is replaced, not fed: it sends the body alone, so it cannot
  know which markers have references.
- "Save draft", "Publish now" and "Schedule" (for a live post "Update" and "Unpublish")
  set the status and the time on the server: "Publish now" takes the request's time,
  "Schedule" refuses a time that is not in the future. The save itself is the admin's,
  inside the one write path (PostAdmin.changeform_view).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import RequestDataTooBig
from django.db import models
from django.forms import Textarea
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from markdownx.widgets import AdminMarkdownxWidget
from taggit.forms import TagField, TagWidget

from . import media
from .markup import render_markdown
from .models import Page, Post, Reference
from .models.posts import MAX_REFERENCE_NUMBER, count_words, mark_cited, reading_minutes
from .people import display_name
from .tagging import validate_tag_names

# What the preview endpoint takes: the body as the markdownx preview does, a reference
# for every number there can be, and the model's own bound on a URL.
PREVIEW_MAX_BODY = 500_000
PREVIEW_MAX_CITATION = 10_000
PREVIEW_MAX_URL = Reference._meta.get_field("url").max_length
# markdownx calls its own preview this long after each key (setTimeout's largest delay,
# about 24 days): in practice never. Our preview replaces it (see the module's notes).
MARKDOWNX_NEVER = str(2**31 - 1)

BODY_HELP = (
    "Markdown: <code>## Heading</code>, <code>**bold**</code>, <code>*italic*</code>, "
    "<code>[words](https://…)</code> for a link, <code>[1]</code> to cite reference 1 "
    "below. Drop a JPEG or PNG in to upload it."
)
PAGE_BODY_HELP = (
    "Markdown: <code>## Heading</code>, <code>**bold**</code>, <code>*italic*</code>, "
    "<code>[words](https://…)</code> for a link. Drop a JPEG or PNG in to upload it."
)


# The publishing buttons ---------------------------------------------------------------


class Action(models.TextChoices):
    """What a publishing button asks for (the ``_publish`` value it submits)."""

    DRAFT = "draft", "Save draft"
    PUBLISH = "publish", "Publish now"
    SCHEDULE = "schedule", "Schedule"
    UPDATE = "update", "Update"


class State(models.TextChoices):
    """Where a post or a page stands, as the buttons see it."""

    NEW = "new", "New post, not saved yet"
    DRAFT = "draft", "Draft: readers cannot see it"
    SCHEDULED = "scheduled", "Scheduled"
    LIVE = "live", "Live"


def state_of(post: Post | None) -> State:
    if post is None or post.pk is None:
        return State.NEW
    if post.status == Post.Status.DRAFT:
        return State.DRAFT
    return State.LIVE if post.is_public else State.SCHEDULED


def page_state_of(page: Page | None) -> State:
    """A page is never scheduled: published is live."""
    if page is None or page.pk is None:
        return State.NEW
    return State.LIVE if page.is_public else State.DRAFT


@dataclass(frozen=True)
class Button:
    action: Action
    label: str
    primary: bool = False


# The first button is the one Enter in a text field presses: it keeps the post where it
# stands, never takes it off the site or puts it on.
BUTTONS: dict[State, tuple[Button, ...]] = {
    State.NEW: (
        Button(Action.DRAFT, "Save draft"),
        Button(Action.PUBLISH, "Publish now", primary=True),
        Button(Action.SCHEDULE, "Schedule"),
    ),
    State.DRAFT: (
        Button(Action.DRAFT, "Save draft"),
        Button(Action.PUBLISH, "Publish now", primary=True),
        Button(Action.SCHEDULE, "Schedule"),
    ),
    State.SCHEDULED: (
        Button(Action.SCHEDULE, "Update schedule", primary=True),
        Button(Action.PUBLISH, "Publish now"),
        Button(Action.DRAFT, "Back to draft"),
    ),
    State.LIVE: (
        Button(Action.UPDATE, "Update", primary=True),
        Button(Action.DRAFT, "Unpublish"),
    ),
}


# A page has no time of publication: published or not, as its status says.
PAGE_UNPUBLISHED = (
    Button(Action.DRAFT, "Save draft"),
    Button(Action.PUBLISH, "Publish", primary=True),
)
PAGE_BUTTONS: dict[State, tuple[Button, ...]] = {
    State.NEW: PAGE_UNPUBLISHED,
    State.DRAFT: PAGE_UNPUBLISHED,
    State.LIVE: (
        Button(Action.UPDATE, "Update", primary=True),
        Button(Action.DRAFT, "Unpublish"),
    ),
}


def when(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "j F Y, H:i")


def publish_row(form: EditorForm, buttons: dict[State, tuple[Button, ...]] = BUTTONS,
                noun: str = "post") -> dict:  # fmt: skip
    """The publishing buttons and the words beside them, for the post or page as it
    stood before this request (a refused form does not change them)."""
    state = form.post_state
    label = state.label
    if state == State.NEW:
        label = f"New {noun}, not saved yet"
    elif state == State.SCHEDULED:
        label = f"Scheduled for {when(form.post_published_at)}"
    elif state == State.LIVE and form.post_published_at is not None:
        label = f"Live since {when(form.post_published_at)}"
    row = buttons[state]
    schedulable = any(button.action == Action.SCHEDULE for button in row)
    return {"state": state.value, "label": label, "buttons": row, "schedulable": schedulable}


# The form -----------------------------------------------------------------------------


class PostBodyWidget(AdminMarkdownxWidget):
    """markdownx's textarea, for its image upload by drag and drop and its shortcuts;
    the page around it (admin/blog/post/writing_fieldset.html) adds the preview."""

    class Media:
        css = {"all": ["css/editor.css"]}
        js = ["js/editor.js"]

    def get_context(self, name: str, value, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-markdownx-latency"] = MARKDOWNX_NEVER
        return context


class PublishAtWidget(AdminSplitDateTime):
    """The admin's date and time boxes, each with a name of its own: the admin prints
    "Date:" and "Time:" as bare text beside them, which no screen reader ties to them."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = "Publish at: date (day/month/year)"
        self.widgets[1].attrs["aria-label"] = "Publish at: time (hours:minutes)"


class EditorForm(forms.ModelForm):
    """What the post's and the page's forms share: the title and body, and the status
    set by the publishing button pressed."""

    # Per request (EditorMixin.get_form): the button pressed, if any; the moment the
    # request is handled ("Publish now"); where the post or page stood before it.
    publish_action: Action | None = None
    requested_at: datetime.datetime | None = None
    post_state: State = State.NEW
    post_published_at: datetime.datetime | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "title" in self.fields:
            # A new one starts at its title (not at the first button, the top row's).
            self.fields["title"].widget.attrs["autofocus"] = True
        if "status" in self.fields:  # not for staff who may only view
            self.fields["status"].required = False

    def clean(self) -> dict:
        cleaned = super().clean()
        action = self.publish_action
        status = self._meta.model.Status
        if action is not None:
            cleaned["status"] = status.DRAFT if action == Action.DRAFT else status.PUBLISHED
        elif not cleaned.get("status"):
            cleaned["status"] = self.instance.status
        return cleaned

    def save(self, commit: bool = True) -> Post | Page:
        if self.publish_action is not None:
            # The model form leaves out fields with a default that the request did not
            # send; the button's choice is made whatever was sent.
            self.instance.status = self.cleaned_data["status"]
        return super().save(commit)


class PostAdminForm(EditorForm):
    # A form field, not the model's: the tags are saved by the write path's set_tags()
    # (blog.writing) with the post, not by taggit's manager in save_m2m().
    tags = TagField(
        required=False,
        widget=TagWidget(attrs={"class": "vLargeTextField"}),
        help_text="Comma-separated, e.g. “mandatory reporting, Ofsted”.",
    )

    class Meta:
        model = Post
        fields = [
            "title", "body", "status", "published_at", "author", "slug",
            "allow_comments", "call_for_answers",
        ]  # fmt: skip
        # The buttons set the status; the field stays (hidden) for a save without them.
        widgets = {
            "status": forms.HiddenInput,
            "body": PostBodyWidget,
            "published_at": PublishAtWidget,
        }
        labels = {"published_at": "Publish at"}
        help_texts = {
            "body": BODY_HELP,
            "published_at": "Readers see the post from this moment on. To schedule it, "
            "give a later time and press Schedule; Publish now takes the time you press it.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.is_bound:
            self.initial["tags"] = list(self.instance.tags.all())
        if "author" in self.fields:
            # The name readers will see in the byline, and the login name that tells
            # two accounts of the same name apart.
            field = self.fields["author"]
            field.queryset = field.queryset.select_related("author_profile")
            self.fields["author"].label_from_instance = lambda user: (
                f"{display_name(user)} ({user.get_username()})"
            )
        # Not needed to publish now, nor sent by every client: kept as it was when
        # left out (clean).
        if "published_at" in self.fields:
            self.fields["published_at"].required = False

    def clean_tags(self) -> list[str]:
        names = self.cleaned_data["tags"]
        validate_tag_names(names)
        return names

    def clean(self) -> dict:
        cleaned = super().clean()
        action = self.publish_action
        if action == Action.PUBLISH:
            cleaned["published_at"] = self.requested_at
        elif action == Action.SCHEDULE:
            moment = cleaned.get("published_at")
            if "published_at" in self.errors:
                pass  # the date or time is not one: its own message says so
            elif moment is None or moment <= self.requested_at:
                if moment is None:
                    problem = "To schedule the post, give the date and time to publish it."
                else:
                    problem = (
                        f"To schedule the post, give a time after now "
                        f"({when(self.requested_at)}). To publish it at once, press Publish now."
                    )
                self.add_error("published_at", problem)
                # Also at the top, by the buttons: the field is further down the form.
                self.add_error(None, f"Not scheduled. “Publish at”: {problem}")
        if "published_at" not in self.errors and cleaned.get("published_at") is None:
            cleaned["published_at"] = self.instance.published_at or self.requested_at
        return cleaned

    def save(self, commit: bool = True) -> Post:
        if self.publish_action is not None:
            self.instance.published_at = self.cleaned_data["published_at"]
        return super().save(commit)


class PageAdminForm(EditorForm):
    """A page's form: the post's title and body editor, no references, no dates."""

    class Meta:
        model = Page
        fields = ["title", "body", "status", "slug", "in_navigation", "navigation_order"]
        widgets = {"status": forms.HiddenInput, "body": PostBodyWidget}
        help_texts = {"body": PAGE_BODY_HELP}


class ReferenceInline(admin.TabularInline):
    model = Reference
    extra = 1
    ordering = ["number"]
    fields = ["number", "citation", "url"]
    # A table that fits the form's width, each field labelled, stacked on a phone.
    template = "admin/blog/post/references_inline.html"
    formfield_overrides = {models.TextField: {"widget": Textarea(attrs={"rows": 2, "cols": 40})}}


# The preview --------------------------------------------------------------------------


class PreviewInputError(ValueError):
    """A preview request that cannot be read: answered 400 with its message."""


class PreviewReferenceForm(forms.Form):
    number = forms.IntegerField(min_value=1, max_value=MAX_REFERENCE_NUMBER)
    # The model's own field: a URL the save would refuse is not linked in the preview.
    url = Reference._meta.get_field("url").formfield(required=False)


def _text(row: dict, key: str, limit: int, what: str) -> str:
    value = row.get(key, "")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise PreviewInputError(f"{what} must be text.")
    if len(value) > limit:
        raise PreviewInputError(f"{what} is {len(value):,} characters; at most {limit:,}.")
    return value


def preview_references(rows: object) -> tuple[list[Reference], list[str]]:
    """The references as they stand in the form, and what the save will refuse about
    them. A row without a number is not a reference yet; a number out of range or taken
    twice is left out, a URL the save would refuse is shown unlinked."""
    if not isinstance(rows, list):
        raise PreviewInputError("The references must be a list.")
    if len(rows) > MAX_REFERENCE_NUMBER:
        raise PreviewInputError(f"At most {MAX_REFERENCE_NUMBER} references can be previewed.")
    references: dict[int, Reference] = {}
    problems = []
    for position, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise PreviewInputError("Each reference must be an object.")
        number = _text(row, "number", 10, f"Reference {position}’s number").strip()
        citation = _text(row, "citation", PREVIEW_MAX_CITATION, f"Reference {position}’s citation")
        url = _text(row, "url", PREVIEW_MAX_URL, f"Reference {position}’s URL")
        if not number:
            continue
        form = PreviewReferenceForm({"number": number, "url": url})
        if "number" in form.errors:
            problems.append(f"Reference {position}: {' '.join(form.errors['number'])}")
            continue
        number = form.cleaned_data["number"]
        if number in references:
            problems.append(f"Two references are numbered {number}: the save will refuse that.")
            continue
        if "url" in form.errors:
            problems.append(f"Reference [{number}]: {' '.join(form.errors['url'])}")
        references[number] = Reference(
            number=number, citation=citation, url=form.cleaned_data.get("url") or ""
        )
    return [references[n] for n in sorted(references)], problems


def render_preview(body: str, references: list[Reference]) -> dict[str, str]:
    """The body and the references as the post's page will show them, and the body's
    length as the page counts it (Post.word_count, Post.reading_minutes)."""
    numbers = [reference.number for reference in references]
    html = render_markdown(body, numbers, images=media.images_in([body]))
    fragment = render_to_string(
        "includes/references.html", {"references": mark_cited(references, html)}
    )
    words = count_words(html)
    return {"html": html, "references": fragment, "words": words, "minutes": reading_minutes(words)}


def read_preview_request(request: HttpRequest) -> tuple[str, list[Reference], list[str]]:
    try:
        data = json.loads(request.body)
    except RequestDataTooBig:
        raise PreviewInputError("The preview request is too large.") from None
    except (UnicodeDecodeError, ValueError):
        raise PreviewInputError("The preview request is not JSON.") from None
    if not isinstance(data, dict):
        raise PreviewInputError("The preview request must be a JSON object.")
    body = _text(data, "body", PREVIEW_MAX_BODY, "The body")
    references, problems = preview_references(data.get("references", []))
    return body, references, problems


# The admin ----------------------------------------------------------------------------


class EditorMixin:
    """A change form in the editor: the title and body with the live preview, the
    publishing buttons. PostEditorMixin and PageEditorMixin say what is theirs: the
    form, the buttons for each state, and whether the preview has references."""

    change_form_template = "admin/blog/post/change_form.html"
    save_on_top = True  # the publishing buttons at the top as well as the bottom
    buttons: dict[State, tuple[Button, ...]] = BUTTONS
    # Pages cite nothing: their preview renders the body alone.
    with_references = True

    @staticmethod
    def editor_state(obj: Post | Page | None) -> State:
        return state_of(obj)

    def get_urls(self) -> list:
        # Not admin_view(): that sends whoever may not use the admin to the sign-in
        # page, where a script wants a 403 it can read (preview_view checks the same).
        preview = path(
            "preview/",
            self.preview_view,
            name=f"{self.opts.app_label}_{self.opts.model_name}_preview",
        )
        return [preview, *super().get_urls()]

    def get_form(self, request: HttpRequest, obj: Post | Page | None = None, change: bool = False,
                 **kwargs) -> type[EditorForm]:  # fmt: skip
        # A class made afresh for each call (modelform_factory): its attributes are
        # this request's. get_form() sees the object before the form changes it.
        form = super().get_form(request, obj, change, **kwargs)
        state = self.editor_state(obj)
        # Only what the page offers for the object as it stands ("Update" publishes
        # nothing that was a draft); anything else is a plain save.
        offered = {button.action for button in self.buttons[state]}
        action = request.POST.get("_publish") if request.method == "POST" else None
        form.publish_action = Action(action) if action in offered else None
        form.requested_at = timezone.now()
        form.post_state = state
        form.post_published_at = getattr(obj, "published_at", None)
        return form

    def render_change_form(self, request: HttpRequest, context: dict, add: bool = False,
                           change: bool = False, form_url: str = "",
                           obj: Post | Page | None = None) -> HttpResponse:  # fmt: skip
        can_save = (
            self.has_add_permission(request) if add else self.has_change_permission(request, obj)
        )
        if can_save and not context.get("is_popup"):
            context["publish_row"] = publish_row(
                context["adminform"].form, self.buttons, self.opts.verbose_name
            )
        context["editor_preview_url"] = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_preview"
        )
        context["editor_noun"] = self.opts.verbose_name
        context["editor_references"] = self.with_references
        # The preview's document, written once into the frame's srcdoc (escaped as an
        # attribute); editor.js fills it in as the writer types.
        context["editor_preview_document"] = render_to_string(
            "admin/blog/post/preview_frame.html", {"page_look": not self.with_references}
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # After a publishing button: back to the form, saying what readers now get.

    def response_add(self, request: HttpRequest, obj: Post | Page,
                     post_url_continue: str | None = None) -> HttpResponse:  # fmt: skip
        if self._pressed(request):
            return self._after_publishing(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Post | Page) -> HttpResponse:
        if self._pressed(request):
            return self._after_publishing(request, obj)
        return super().response_change(request, obj)

    def _pressed(self, request: HttpRequest) -> bool:
        return request.POST.get("_publish") in Action.values and IS_POPUP_VAR not in request.POST

    def _after_publishing(self, request: HttpRequest, obj: Post | Page) -> HttpResponse:
        # Not post.display_title: an untitled post's is rendered from the body, and the
        # write path renders it once, when the admin's scope closes.
        name = f"“{obj.title}”" if obj.title else f"The untitled {self.opts.verbose_name}"
        state = self.editor_state(obj)
        if state == State.LIVE:
            message = format_html(
                '{} is published. <a href="{}">View it on the site</a>.',
                name, obj.get_absolute_url(),
            )  # fmt: skip
        elif state == State.SCHEDULED:
            message = f"{name} is scheduled for {when(obj.published_at)}."
        else:
            message = f"{name} is saved as a draft: readers cannot see it."
        self.message_user(request, message, messages.SUCCESS)
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        context = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
        return HttpResponseRedirect(add_preserved_filters(context, url))

    # The preview endpoint: POST (CSRF-checked) JSON {body, references: [{number,
    # citation, url}]}, answered {html, references, problems}. A page's references, if
    # any were sent, are ignored: its body is rendered with nothing to cite.

    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def preview_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            response = JsonResponse({"error": "The preview is sent with POST."}, status=405)
            response["Allow"] = "POST"
            return response
        if not (
            self.admin_site.has_permission(request)
            and (self.has_add_permission(request) or self.has_change_permission(request))
        ):
            noun = self.opts.verbose_name_plural
            return JsonResponse({"error": f"You may not write {noun}."}, status=403)
        try:
            body, references, problems = read_preview_request(request)
        except PreviewInputError as error:
            return JsonResponse({"error": str(error)}, status=400)
        if not self.with_references:
            references, problems = [], []
        return JsonResponse({**render_preview(body, references), "problems": problems})


class PostEditorMixin(EditorMixin):
    """PostAdmin's change form: the editor's form, preview endpoint and buttons, with
    the references beside the body."""

    form = PostAdminForm
    inlines = [ReferenceInline]
    fieldsets = [
        (None, {"fields": ["title", "body", "tags"]}),
        ("Publication", {"fields": ["published_at", "status", "author", "slug"]}),
        ("Discussion", {"fields": ["allow_comments", "call_for_answers"]}),
    ]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}


class PageEditorMixin(EditorMixin):
    """PageAdmin's change form: the post's editor, with a page's buttons (draft or
    published, no schedule), no references, and its place in the navigation."""

    form = PageAdminForm
    buttons = PAGE_BUTTONS
    with_references = False
    fieldsets = [
        (None, {"fields": ["title", "body", "status"]}),
        ("Navigation", {"fields": ["slug", "in_navigation", "navigation_order"]}),
    ]

    @staticmethod
    def editor_state(obj: Post | Page | None) -> State:
        return page_state_of(obj)
