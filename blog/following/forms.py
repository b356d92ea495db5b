"""The "Follow by e-mail" form: in every page's footer (all new posts), on each tag's
page (that tag's), and on a page of its own (either, chosen from a list)."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from taggit.models import Tag

from ..models import Follower
from ..tagging import tag_counts
from .addresses import BLOCKED, MAX_LENGTH, is_blocked, normalise_address

NO_SUCH_TAG = (
    "That tag has no posts on the blog, so it cannot be followed. You can follow every "
    "new post instead."
)


class AddressField(forms.CharField):
    """One e-mail address, in the one spelling followings are kept in
    (blog.following.addresses); a clear message for anything else."""

    widget = forms.EmailInput

    def __init__(self, **kwargs) -> None:
        # Not stripped here: normalise_address refuses a line break wherever it is,
        # before it strips the spaces around the address.
        super().__init__(max_length=MAX_LENGTH, strip=False, **kwargs)

    def to_python(self, value: str | None) -> str:
        value = super().to_python(value)
        return normalise_address(value) if value.strip() else ""

    def widget_attrs(self, widget: forms.Widget) -> dict:
        return {**super().widget_attrs(widget), "autocomplete": "email"}


class FollowForm(forms.Form):
    """What a reader sends to follow. ``place`` names the copy on the page, so that
    several (the footer's, a tag page's) have ids of their own."""

    email = AddressField(
        label="Your e-mail address",
        error_messages={
            "required": "Please give your e-mail address.",
            "max_length": f"This is longer than an e-mail address can be "
                          f"({MAX_LENGTH} characters at most).",
        },
    )  # fmt: skip
    # The tag's slug; empty: every new post. Hidden on a tag's page, a list on the
    # form's own page, absent from the footer.
    tag = forms.CharField(
        required=False,
        max_length=255,
        widget=forms.HiddenInput,
        error_messages={"max_length": NO_SUCH_TAG},
    )
    frequency = forms.ChoiceField(
        label="How often",
        choices=Follower.Frequency.choices,
        initial=Follower.Frequency.EACH_POST,
        widget=forms.RadioSelect,
        error_messages={"required": "Please choose how often you want e-mails.",
                        "invalid_choice": "Please choose how often you want e-mails."},
    )  # fmt: skip
    # Left empty by people, who never see it; robots that fill every field give
    # themselves away (as on the comment form).
    honeypot = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, place: str = "follow", tags: Iterable[Tag] | None = None,
                 **kwargs) -> None:  # fmt: skip
        kwargs.setdefault("auto_id", f"{place}-%s")
        super().__init__(*args, **kwargs)
        self.place = place
        self.chosen_tag: Tag | None = None
        if tags is not None:
            self.fields["tag"].label = "What to follow"
            self.fields["tag"].widget = forms.Select(
                choices=[("", "All new posts")]
                + [(tag.slug, f"Posts tagged “{tag.name}”") for tag in tags]
            )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email and is_blocked(email):
            raise forms.ValidationError(BLOCKED, code="blocked")
        return email

    def clean_tag(self) -> str:
        slug = self.cleaned_data["tag"].strip()
        if not slug:
            return ""
        # Only a tag readers can see: one with a published post.
        tag = tag_counts().filter(slug=slug).first()
        if tag is None:
            raise forms.ValidationError(NO_SUCH_TAG, code="no_such_tag")
        self.chosen_tag = tag
        return slug

    def clean_honeypot(self) -> str:
        if self.cleaned_data["honeypot"]:
            raise forms.ValidationError(
                "Nothing was sent: a field meant to stay empty was filled in, which is "
                "what spam robots do. If you are not one, please send the form again.",
                code="honeypot",
            )
        return ""

    @property
    def blocked(self) -> bool:
        return self.has_error("email", "blocked")
