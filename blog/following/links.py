"""The signed links e-mailed to followers: confirm a following, and stop one.

Signed with Django's signing (salted per purpose), carrying the follower's id and
address: a link cannot be made for another reader, and one for an address that has
since unsubscribed and followed again does not act on the new following. Confirmation
links expire (``CONFIRM_MAX_AGE``); unsubscribe links never do, as RFC 8058 expects an
old newsletter's button to keep working.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from .. import outbox
from ..converters import parse_id
from ..models import Follower
from ..sites import absolute_url

CONFIRM_SALT = "blog.following.confirm"
UNSUBSCRIBE_SALT = "blog.following.unsubscribe"
# A request to confirm not followed within a week is forgotten (the row is deleted).
CONFIRM_MAX_AGE = 7 * 24 * 3600


def _payload(follower: Follower) -> list:
    return [follower.pk, follower.email]


def confirm_token(follower: Follower) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign_object(_payload(follower))


def unsubscribe_token(follower: Follower) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(_payload(follower))


class BadLink(Exception):
    """Not a link this site made: cut short, altered, of the other kind."""


class ExpiredLink(BadLink):
    """A confirmation link this site made, older than ``CONFIRM_MAX_AGE``."""


def read_confirm(token: str) -> Follower | None:
    """The follower a confirmation link names; None when that following no longer
    exists (unsubscribed, erased, or forgotten unconfirmed). Raises ExpiredLink or
    BadLink."""
    signer = signing.TimestampSigner(salt=CONFIRM_SALT)
    try:
        payload = signer.unsign_object(token, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise ExpiredLink(token) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise BadLink(token) from None
    return _follower(payload)


def read_unsubscribe(token: str) -> Follower | None:
    """The follower an unsubscribe link names; None when that following no longer
    exists. Raises BadLink."""
    try:
        payload = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadLink(token) from None
    return _follower(payload)


def _follower(payload: object) -> Follower | None:
    # Signed by us, so well formed; checked all the same, as a link made by an older
    # version might not be.
    if not (isinstance(payload, list) and len(payload) == 2):
        raise BadLink("Not a following link's payload.")
    pk, email = payload
    if type(pk) is not int or not isinstance(email, str) or parse_id(pk) is None:
        raise BadLink("Not a following link's payload.")
    return Follower.objects.filter(pk=pk, email=email).select_related("tag").first()


def follower_for_confirm(token: str) -> Follower | None:
    """The follower a confirmation link names, or None: bad, expired, or for a
    following that no longer exists."""
    try:
        return read_confirm(token)
    except BadLink:
        return None


def follower_for_unsubscribe(token: str) -> Follower | None:
    try:
        return read_unsubscribe(token)
    except BadLink:
        return None


def confirm_url(follower: Follower) -> str:
    return absolute_url(reverse("blog:follow-confirm", args=[confirm_token(follower)]))


def unsubscribe_url(follower: Follower) -> str:
    return absolute_url(reverse("blog:unfollow", args=[unsubscribe_token(follower)]))


def unsubscribe_headers(follower: Follower) -> dict[str, str]:
    """RFC 2369 and RFC 8058: a mail program's own "Unsubscribe" button, which posts
    ``List-Unsubscribe=One-Click`` to the link, no sign-in and no page."""
    return outbox.unsubscribe_headers(unsubscribe_url(follower))
