"""Followers' e-mail addresses in the one spelling the site keeps, compares and sends to.

One address per following, and one row per address (and tag): ``Ann@Example.ORG`` and
``ann@example.org`` are the same reader, and the second request finds the first row
(Follower's unique constraints compare this spelling).

- The domain as the comments write it (blog.discussion.hosts): IDNA 2008 with the UTS-46
  mapping, in ASCII and lower case, so that every spelling of a domain (full-width
  letters, other dots, capitals, a trailing dot) is one, and the blocklist sees the
  domain it names.
- The local part (before the @) in lower case. RFC 5321 lets a mail server tell
  ``Ann`` from ``ann``, but none of the mail services readers use does, and without
  this one reader could be subscribed twice, and sent twice as much, by typing their
  address in two ways. Nothing else is changed: dots and ``+tags`` mean different
  mailboxes on most servers, and a reader who follows as ``ann+blog@`` chose to.
- Plain dot-atom addresses only, as Django validates them: no quoted local part
  (``"a b"@example.org``, where quotes could hide commas and angle brackets), no
  domain literal or IP address (a following is of a mailbox at a domain; mail to
  ``[192.0.2.1]`` is what spam checkers look for), no single-label host
  (``localhost``).

Anything else is refused with a message that says what to fix: a line break or other
control character (the address goes into a header: no header injection), a name with
the address (``Ann <ann@example.org>``), several addresses, one too long for e-mail
(254 characters, RFC 5321's limit on a path).
"""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..discussion.forms import refuse_control_characters
from ..discussion.hosts import BadHost, ip_address, normalise_host
from ..discussion.moderation import is_blocklisted

# RFC 5321: a forward path holds at most 256 characters, two of them the angle brackets.
MAX_LENGTH = 254

EXAMPLE = "ann@example.org"
NOT_AN_ADDRESS = f"This is not an e-mail address: it should look like {EXAMPLE}."
BAD_DOMAIN = "The e-mail address's domain is not one that mail can be sent to."
BLOCKED = "Following by e-mail is not open to addresses at this domain."


def normalise_address(value: str) -> str:
    """``value`` as the one spelling of its address (see the module's docstring), or
    ValidationError saying what is wrong with it."""
    # Before anything strips them: a line break is refused wherever it is.
    refuse_control_characters(value, "The e-mail address")
    address = value.strip()
    if not address:
        raise ValidationError("Please give your e-mail address.", code="required")
    if len(address) > MAX_LENGTH:
        raise ValidationError(
            f"This is longer than an e-mail address can be ({MAX_LENGTH} characters at most).",
            code="max_length",
        )
    if any(mark in address for mark in '<>"'):
        raise ValidationError(
            f"Please give the address alone, without a name, quotation marks or angle "
            f"brackets: {EXAMPLE}.",
            code="display_name",
        )
    if address.count("@") > 1 or any(mark in address for mark in ",;"):
        raise ValidationError(
            "Please give one e-mail address only: each address follows on its own.",
            code="several",
        )
    if any(char.isspace() for char in address):
        raise ValidationError(
            "An e-mail address has no spaces in it: please check it.", code="spaces"
        )
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValidationError(NOT_AN_ADDRESS, code="invalid")
    if domain.startswith("[") or ip_address(domain):
        raise ValidationError(
            "Please give an address at a domain name, not at an IP address.", code="ip_literal"
        )
    try:
        host = normalise_host(domain)
    except BadHost:
        raise ValidationError(BAD_DOMAIN, code="bad_host") from None
    if ip_address(host):  # written with full-width digits, say
        raise ValidationError(
            "Please give an address at a domain name, not at an IP address.", code="ip_literal"
        )
    if "." not in host:
        raise ValidationError(BAD_DOMAIN, code="bad_host")
    normalised = f"{local.lower()}@{host}"
    # Punycode may lengthen a domain past the limit.
    if len(normalised) > MAX_LENGTH:
        raise ValidationError(
            f"This is longer than an e-mail address can be ({MAX_LENGTH} characters at most).",
            code="max_length",
        )
    try:
        validate_email(normalised)
    except ValidationError:
        raise ValidationError(NOT_AN_ADDRESS, code="invalid") from None
    return normalised


def is_blocked(address: str) -> bool:
    """Whether ``address`` (normalised) is at a domain on the comments' blocklist, kept
    in the admin (a domain blocks its subdomains too)."""
    return is_blocklisted(address, "")


def spellings(value: str) -> set[str]:
    """What ``value`` may be stored as, for look-ups by staff (erasure): the address as
    typed, in lower case, and its normal spelling when it has one."""
    typed = value.strip().lower()
    found = {typed} if typed else set()
    with contextlib.suppress(ValidationError):
        found.add(normalise_address(value))
    return found
