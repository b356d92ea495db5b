"""Shareable previews in the admin: on a draft or scheduled post's change form, links
to create (valid for a chosen time), copy and revoke (blog.previews)."""

from __future__ import annotations


class PreviewLinksAdminMixin:
    """Added to PostAdmin."""
