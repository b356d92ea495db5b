"""Host names in the one spelling the blocklist compares, the site stores and the
e-mails and links carry.

The same domain can be typed in many ways that browsers and mail servers all resolve to
one: full-width letters (ｅｘａｍｐｌｅ．ｃｏｍ), other dots (。．｡), capitals, a
trailing dot, invisible soft hyphens, Unicode or its punycode (xn--...) form. Each is
mapped the way resolvers map it (IDNA 2008 with the UTS-46 mapping, by the ``idna``
package, non-transitional as browsers are), then written in ASCII (punycode) and lower
case. A host that cannot be mapped is refused: there is no spelling to compare.

Look-alikes in other scripts (a Cyrillic "е" in "еxample") are different domains; in
their ASCII form they never read as the domain they imitate.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

import idna


class BadHost(ValueError):
    """A host name that no resolver would accept."""


def normalise_host(host: str) -> str:
    """``host`` as its ASCII, lower-case name (``xn--`` labels for Unicode), without a
    trailing dot; an IP address in its standard form. Raises BadHost."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if address := ip_address(bare):
        return address
    try:
        mapped = idna.uts46_remap(bare, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise BadHost(host) from error
    # A trailing dot names the same domain (the DNS root); one only.
    if mapped.endswith("."):
        mapped = mapped[:-1]
    if address := ip_address(mapped):  # full-width digits, say
        return address
    try:
        encoded = idna.encode(mapped, uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise BadHost(host) from error
    return encoded.lower()


def ip_address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def normalise_email(address: str) -> str:
    """``address`` with its domain normalised (its local part is the mailbox's own
    business). A domain literal (``[192.0.2.1]``) keeps its brackets. Raises BadHost."""
    local, at, domain = address.rpartition("@")
    if not at or not local:
        raise BadHost(address)
    host = normalise_host(domain)
    if domain.startswith("["):
        host = f"[{host}]"
    return f"{local}@{host}"


def normalise_url(url: str) -> str:
    """``url`` with its host normalised, the rest as it was. An address with a user name
    or password in it (``https://example.org@elsewhere.example/``, which reads as one
    site and leads to another) is refused, as is a bad port. Raises BadHost."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BadHost(url) from error
    if parts.username is not None or parts.password is not None or not parts.hostname:
        raise BadHost(url)
    host = normalise_host(parts.hostname)
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def host_of_email(address: str) -> str:
    return normalise_host(address.rpartition("@")[2])


def host_of_url(url: str) -> str:
    try:
        hostname = urlsplit(url).hostname
    except ValueError as error:
        raise BadHost(url) from error
    return normalise_host(hostname or "")
