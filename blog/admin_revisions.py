"""A post's or a page's revisions in the admin: the list, a diff between any two, and
Restore, which saves the chosen revision again through the one write path
(blog.writing) and so is itself a new revision."""

from __future__ import annotations


class RevisionsAdminMixin:
    """Added to the ModelAdmin of each model registered in blog.revisions."""
