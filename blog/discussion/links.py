"""The links e-mailed to readers: one to confirm a comment, one to stop follow-ups.

Each link's key is a token from ``django.core.signing``: JSON, compressed, stamped
with the time it was made, and signed with SECRET_KEY and a salt for its kind, so a
link of one kind is never taken for the other. A token is refused once it is older
than ``settings.BLOG_COMMENT_LINK_MAX_AGE`` (read on every call).

Why not the library's links: django-comments-xtd signs pickles, and unpickling runs
code, so a leaked SECRET_KEY would let anyone run code on the server. A forged JSON
token can at worst carry false values, and these are checked field by field.

Signed is not encrypted: whoever holds a link can read what it carries. The
confirmation token has to carry the unsaved comment (the reader's name, address and
text, as the library's did), since nothing is written before the reader confirms;
the mute token carries only a comment's id, and the database supplies the rest.
"""

from __future__ import annotations

import datetime
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django_comments_xtd.models import TmpXtdComment

from ..converters import parse_id
from ..durations import in_words
from ..models import Post

T = TypeVar("T")

# Named after the module's first home, and kept: a new salt would void every link
# already e-mailed.
CONFIRM_SALT = "blog.links.confirm"
MUTE_SALT = "blog.links.mute"

# What a confirmation token carries: the unsaved comment's fields, with their JSON
# types. Comments are only ever on posts, so the post's id is the whole target; the
# thread fields (thread_id, level, order) are worked out when the comment is saved,
# and only anonymous readers confirm, so there is no user.
CONFIRMATION_FIELDS: dict[str, tuple[type, ...]] = {
    "object_pk": (str,),
    "site_id": (int,),
    "user_name": (str,),
    "user_email": (str,),
    "user_url": (str,),
    "comment": (str,),
    "submit_date": (str,),
    "ip_address": (str, type(None)),
    "is_public": (bool,),
    "followup": (bool,),
    "parent_id": (int,),
}


class BadLink(Exception):
    """Not a link this site made (cut short, altered, signed with another key, a link
    of the other kind, the library's old pickle links), or one that is out of date."""


class ExpiredLink(BadLink):
    """A link this site made, older than the maximum age. ``value`` is what it
    carries: its signature was checked, only its age failed."""

    def __init__(self, value: Any) -> None:
        super().__init__("This link has expired.")
        self.value = value


def max_age() -> datetime.timedelta:
    value = settings.BLOG_COMMENT_LINK_MAX_AGE
    return value if isinstance(value, datetime.timedelta) else datetime.timedelta(seconds=value)


def describe_max_age() -> str:
    """How long links work, in words: "7 days", "12 hours"."""
    return in_words(max_age())


def _dumps(value: dict, salt: str) -> str:
    return signing.dumps(value, salt=salt, compress=True)


def _loads(token: str, salt: str) -> dict:
    try:
        value = signing.loads(token, salt=salt, max_age=max_age())
    except signing.SignatureExpired:
        # The signature is good; only the age failed: read it again without the age.
        raise ExpiredLink(_as_dict(signing.loads(token, salt=salt))) from None
    except (signing.BadSignature, ValueError, zlib.error) as error:
        # ValueError: the JSON, or text that cannot be a token; zlib: the compression.
        # Either is possible only after a good signature, that is, with our key.
        raise BadLink(str(error)) from None
    return _as_dict(value)


def _read(token: str, salt: str, parse: Callable[[dict], T]) -> T:
    """``parse`` of what ``token`` carries; an expired link's payload is still parsed
    (and checked), so that the view can say what it was."""
    try:
        payload = _loads(token, salt)
    except ExpiredLink as expired:
        raise ExpiredLink(parse(expired.value)) from None
    return parse(payload)


def _as_dict(value: Any) -> dict:
    if not isinstance(value, dict):
        raise BadLink("Not a link's payload.")
    return value


# Confirming a comment


def confirmation_token(comment: TmpXtdComment) -> str:
    """The key of the link that publishes ``comment``, the library's unsaved comment
    of an anonymous reader."""
    payload = {name: comment[name] for name in CONFIRMATION_FIELDS
               if name not in ("submit_date", "ip_address")}  # fmt: skip
    payload["submit_date"] = comment.submit_date.isoformat()
    payload["ip_address"] = comment.ip_address  # None when not recorded
    return _dumps(payload, CONFIRM_SALT)


def read_confirmation(token: str) -> TmpXtdComment:
    """The unsaved comment a confirmation link carries, as the library's confirmation
    flow takes it. Raises ExpiredLink (with the comment as its ``value``) or BadLink."""
    return _read(token, CONFIRM_SALT, _pending_comment)


def confirmation_text(token: str) -> str:
    """The comment text a confirmation link carries, "" when the link is not ours. No
    age check, and no query: for the page that says the database failed."""
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT)
    except (signing.BadSignature, ValueError, zlib.error):
        return ""
    text = payload.get("comment") if isinstance(payload, dict) else None
    return text if isinstance(text, str) else ""


def _pending_comment(payload: dict) -> TmpXtdComment:
    if payload.keys() != CONFIRMATION_FIELDS.keys() or not all(
        type(payload[name]) in types for name, types in CONFIRMATION_FIELDS.items()
    ):
        raise BadLink("Not a confirmation link's payload.")
    post_pk = parse_id(payload["object_pk"])
    try:
        submit_date = datetime.datetime.fromisoformat(payload["submit_date"])
    except ValueError:
        submit_date = None
    if post_pk is None or submit_date is None or submit_date.tzinfo is None:
        raise BadLink("Not a confirmation link's payload.")
    comment = TmpXtdComment(
        payload, submit_date=submit_date, content_type=ContentType.objects.get_for_model(Post)
    )
    # The post may have gone since: the view says so, with the reader's text.
    post = Post.objects.filter(pk=post_pk).first()
    if post is not None:
        comment.content_object = post
    return comment


# Stopping follow-up e-mails


def mute_token(comment_pk: int) -> str:
    """The key of the link that stops follow-up e-mails on a post for the author of
    the comment ``comment_pk`` (one of theirs that asked for them)."""
    return _dumps({"comment": comment_pk}, MUTE_SALT)


def read_mute(token: str) -> int:
    """The comment id a mute link carries. Raises ExpiredLink (with the id as its
    ``value``) or BadLink."""
    return _read(token, MUTE_SALT, _muted_comment_pk)


def _muted_comment_pk(payload: dict) -> int:
    pk = payload.get("comment")
    if payload.keys() != {"comment"} or type(pk) is not int or parse_id(pk) is None:
        raise BadLink("Not a mute link's payload.")
    return pk
