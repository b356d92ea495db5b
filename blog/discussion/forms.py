"""The reader's comment form: django-comments-xtd's, with plain labels and a reply
target that is checked before anything is written."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxLengthValidator, URLValidator
from django_comments_xtd.forms import XtdCommentForm
from django_comments_xtd.models import max_thread_level_for_content_type

from ..converters import parse_id
from ..models import Comment, Post
from .hosts import BadHost, normalise_email, normalise_url
from .plaintext import control_characters

LATEST_TIMESTAMP = 253_402_300_800  # 10000-01-01, in seconds since 1970


class HostEmailField(forms.EmailField):
    """An e-mail address with its domain in the one spelling the blocklist compares and
    the e-mails use (hosts.py), before Django's checks run on that spelling."""

    def to_python(self, value: str | None) -> str:
        value = super().to_python(value)
        if value:
            refuse_control_characters(value, "The e-mail address")
            try:
                value = normalise_email(value)
            except BadHost:
                raise forms.ValidationError(
                    "The e-mail address's domain is not one that mail can be sent to.",
                    code="bad_host",
                ) from None
        return value


class HostURLField(forms.URLField):
    """A website's address with its host in the one spelling the blocklist compares and
    the page links (hosts.py), before Django's checks run on that spelling."""

    def to_python(self, value: str | None) -> str:
        # First: Python's URL parser drops tabs and line breaks without a word.
        refuse_control_characters(value or "", "The website address")
        value = super().to_python(value)
        if value:
            try:
                value = normalise_url(value)
            except BadHost:
                raise forms.ValidationError(
                    "The website address is not one a browser can open: check its "
                    "domain, and leave out any user name or password.",
                    code="bad_host",
                ) from None
        return value


class CommentForm(XtdCommentForm):
    """A comment on ``target_object`` (a post), optionally a reply to ``comment``.

    Signed-in readers comment under their account's name and address, so those fields
    are not asked of them (the view fills them in).
    """

    email = HostEmailField()

    def __init__(
        self,
        target_object: Post,
        data=None,
        initial: dict | None = None,
        *,
        comment: Comment | None = None,
        user=None,
        **kwargs,
    ) -> None:
        if initial is not None:
            kwargs["initial"] = initial
        super().__init__(target_object, data=data, comment=comment, **kwargs)
        self.parent: Comment | None = comment
        self.signed_in = bool(user and user.is_authenticated)
        fields = self.fields
        fields["name"].widget = forms.TextInput(
            attrs={"autocomplete": "name", "maxlength": fields["name"].max_length}
        )
        email = fields["email"]
        email.label = "E-mail"
        email.help_text = "Never shown, nor shared."
        # The library's field has no length limit, its column has: a longer address
        # passed the form and failed on confirmation (a 500 on PostgreSQL).
        email.max_length = Comment._meta.get_field("user_email").max_length
        email.validators.append(MaxLengthValidator(email.max_length))
        email.widget = forms.EmailInput(
            attrs={"autocomplete": "email", "maxlength": email.max_length}
        )
        fields["url"] = HostURLField(
            label="Website",
            required=False,
            assume_scheme="https",
            max_length=200,
            validators=[URLValidator(schemes=["http", "https"])],
            help_text="Optional: your name will link to it.",
            widget=forms.URLInput(attrs={"autocomplete": "url"}),
        )
        text = fields["comment"]
        text.widget = forms.Textarea(attrs={"rows": 8, "maxlength": text.max_length})
        replying = comment is not None or str((data or {}).get("reply_to") or "0") != "0"
        if replying:
            text.label = "Your reply"
        else:
            text.label = "Your answer" if target_object.call_for_answers else "Comment"
        text.help_text = "Plain text: blank lines start new paragraphs; web addresses become links."
        text.error_messages["max_length"] = (
            "Comments can be at most %(limit_value)d characters long (this one has %(show_value)d)."
        )
        fields["followup"].label = "Notify me of replies"
        fields["followup"].widget.attrs.pop("class", None)
        fields["honeypot"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        fields["reply_to"].error_messages.update(
            {
                "required": "The form did not say which comment you are answering.",
                "invalid": "The form did not say which comment you are answering.",
            }
        )
        if self.signed_in:
            for name in ("name", "email", "url"):
                fields[name].required = False
                fields[name].widget = forms.HiddenInput()

    def clean_timestamp(self) -> int:
        # A forged timestamp too large for a float crashed the library's age check
        # (OverflowError, a 500); no form was made before 1970 or after the year 9999.
        if not 0 <= self.cleaned_data["timestamp"] < LATEST_TIMESTAMP:
            raise forms.ValidationError("Timestamp check failed", code="timestamp")
        return super().clean_timestamp()

    def clean_reply_to(self) -> int:
        """A reply must answer a visible comment on this same post, above the deepest
        level; otherwise the library would save the comment before failing (leaving an
        orphan row), so it is refused here, before anything is written."""
        reply_to = self.cleaned_data["reply_to"]
        if not reply_to:
            return 0
        post = self.target_object
        parent = parse_id(reply_to) and (
            Comment.objects.visible().for_post(post).filter(pk=reply_to).first()
        )
        if parent is None:
            raise forms.ValidationError(
                "The comment you are answering is not on this post, or is no longer shown. "
                "You can post your text as a new comment instead.",
                code="invalid_parent",
            )
        if parent.level >= max_thread_level_for_content_type(parent.content_type):
            raise forms.ValidationError(
                "Replies cannot nest any deeper here. "
                "You can post your text as a new comment instead.",
                code="too_deep",
            )
        self.parent = parent
        return reply_to

    def carried_fields(self) -> list:
        """The hidden fields the page must carry (security data, the comment answered).
        A signed-in reader's name and address are taken from their account on the
        server, so they are never written into the page."""
        account = {"name", "email", "url"} if self.signed_in else set()
        return [field for field in self.hidden_fields() if field.name not in account]

    def clean(self) -> dict:
        cleaned = super().clean()
        # Follow-ups go to the e-mail address: without one there is no one to tell.
        if not cleaned.get("email"):
            cleaned["followup"] = False
        return cleaned

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        refuse_control_characters(name, "Your name")
        return name

    def clean_comment(self) -> str:
        comment = super().clean_comment().strip()
        if not comment:
            raise forms.ValidationError("Please write something.", code="required")
        return comment

    def problems(self) -> list[str]:
        """What went wrong, in words a reader can act on, for the errors that have no
        field of their own on the page (the form's hidden security and reply fields)."""
        messages = []
        if "honeypot" in self.errors:
            messages.append(
                "The comment was not posted: a field meant to stay empty was filled in, "
                "which is what spam robots do."
            )
        if "timestamp" in self.errors:
            messages.append(
                "The form had been open too long, so it expired. It has been renewed: "
                "please send your comment again."
            )
        if (
            "security_hash" in self.errors
            or "content_type" in self.errors
            or ("object_pk" in self.errors)
        ):
            messages.append(
                "The form failed its security check (it may have been altered). "
                "It has been renewed: please send your comment again."
            )
        messages.extend(self.errors.get("reply_to", []))
        if self.signed_in:
            for name in ("name", "email", "url"):
                messages.extend(self.errors.get(name, []))
        return messages


def refuse_control_characters(value: str, what: str) -> None:
    """A name or address with a line break or other control character could start a new
    line of the moderators' e-mail, or reorder what they read; none belongs in one."""
    found = control_characters(value)
    if found:
        shown = ", ".join(f"U+{ord(c):04X}" for c in found[:3])
        raise forms.ValidationError(
            f"{what} contains invisible control characters ({shown}), such as line "
            "breaks; please type it on one line.",
            code="control_characters",
        )
