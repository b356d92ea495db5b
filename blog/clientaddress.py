"""The address of the reader who sent a request, behind the proxies this site trusts.

Everything that counts or records a reader by address (the comment rate limit, the
staff sign-in pause, the address kept with a comment) asks ``client_address``. Behind a
reverse proxy ``REMOTE_ADDR`` is the proxy's address for everyone, so the reader's is
taken from ``X-Forwarded-For`` — but only when the connection comes from a proxy named
in ``BLOG_TRUSTED_PROXIES``: anyone else can write that header as they please.

``BLOG_TRUSTED_PROXIES`` lists addresses or networks (``127.0.0.1``, ``10.0.0.0/8``,
``::1``), and ``unix`` for a proxy that reaches the server over a Unix socket (gunicorn
then gives no peer address at all). Empty, the default, trusts no one.

From a trusted proxy the header is read from the right: each proxy appends the address
of its own peer, so the right-most entry was written by the proxy that connected here,
the next by the proxy before it, and so on. The first entry (from the right) that is not
itself a trusted proxy is the reader; everything to its left is what the reader sent and
is ignored. An entry that is not an address (garbage, ``unknown``, an obfuscated name)
stops the walk, and the last address vouched for is used instead: a trusted proxy never
writes such an entry, so it can only come from beyond the proxies we trust, and nothing
written there — neither that entry nor any valid-looking one to its left — can be
believed. Skipping it and reading further left would hand the choice of address to
whoever wrote it.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# A peer without an address: gunicorn serving a Unix socket gives REMOTE_ADDR "".
UNIX = "unix"
# Each proxy adds one entry; no honest chain is longer. Past this the header is not
# read further (a request may carry a header of many kilobytes).
MAX_HOPS = 20


def client_address(request: HttpRequest) -> str | None:
    """The reader's address, normalised (``2001:db8::1``, never ``[2001:DB8::1]:80``),
    or None when the request has none (a request made up in code, or a Unix-socket peer
    that is not trusted)."""
    trust = trusted_proxies()
    peer = request.META.get("REMOTE_ADDR") or ""
    if not peer:
        if not trust.unix:
            return None
        vouched: Address | None = None
    else:
        vouched = parse_address(peer)
        if vouched is None or not trust.covers(vouched):
            return None if vouched is None else str(vouched)
    for entry in forwarded_entries(request.META.get("HTTP_X_FORWARDED_FOR", "")):
        address = parse_address(entry)
        if address is None:
            break
        vouched = address
        if not trust.covers(address):
            break
    return None if vouched is None else str(vouched)


def forwarded_entries(header: str) -> list[str]:
    """X-Forwarded-For's entries, right-most first, at most MAX_HOPS of them. Several
    headers arrive joined by commas (gunicorn joins them as RFC 9110 allows)."""
    return header.rsplit(",", MAX_HOPS)[::-1][:MAX_HOPS]


def parse_address(text: str) -> Address | None:
    """An IP address as proxies write them: bare, or with a port (``1.2.3.4:5``,
    ``[2001:db8::1]:5``); None for anything else. IPv4 addresses mapped into IPv6
    (``::ffff:1.2.3.4``, what a dual-stack socket reports) count as the IPv4 address,
    so that one reader is never two."""
    text = text.strip()
    if text.startswith("["):
        text, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not _is_port(rest)):
            return None
    elif text.count(":") == 1:
        text, _colon, port = text.partition(":")
        if not _is_port(":" + port):
            return None
    if "%" in text:  # a scope (fe80::1%eth0) names an interface here, not a reader
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_port(text: str) -> bool:
    port = text[1:]
    return text.startswith(":") and port.isascii() and port.isdigit() and len(port) <= 5


class Trust:
    """The proxies named in BLOG_TRUSTED_PROXIES."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.unix = False
        self.networks: list[Network] = []
        for entry in entries:
            entry = entry.strip()
            if entry.lower() == UNIX:
                self.unix = True
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as error:
                raise ImproperlyConfigured(
                    f"BLOG_TRUSTED_PROXIES: {entry!r} is neither an address, a network "
                    f"nor {UNIX!r}."
                ) from error

    def covers(self, address: Address) -> bool:
        return any(address in network for network in self.networks)


def trusted_proxies() -> Trust:
    return _trust(tuple(settings.BLOG_TRUSTED_PROXIES))


@functools.lru_cache(maxsize=8)
def _trust(entries: tuple[str, ...]) -> Trust:
    return Trust(entries)
