"""Rows derived from the content: a post's search text and the page cache's version."""

from __future__ import annotations

from django.db import models

from .pages import Page
from .posts import Post


class SearchDocument(models.Model):
    """A post's searchable text, one row per post, kept in step with the post, its tags
    and its references by ``blog.search``. The full-text index is built over this
    table: an FTS5 table on SQLite, a GIN index on PostgreSQL (migration 0005)."""

    post = models.OneToOneField(
        Post, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    title = models.TextField(blank=True)
    tags = models.TextField(blank=True)
    body = models.TextField(blank=True)
    citations = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Search text of post {self.post_id}"


class PageSearchDocument(models.Model):
    """A page's searchable text, one row per page (``blog.search.index_pages``). Apart
    from the posts' documents: a page has no tags, references or date, and pages are
    listed apart in the results. An FTS5 table on SQLite (migration 0016); PostgreSQL
    reads it without an index of its own, pages being few."""

    page = models.OneToOneField(
        Page, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    title = models.TextField(blank=True)
    body = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Search text of page {self.page_id}"


class ContentVersion(models.Model):
    """One row: a random token that changes, in the same transaction, with anything a
    reader's page shows (blog.pagecache). Cached pages are stored under it, so a change
    makes every one of them unreachable at once, in every process, without a purge. A
    token rather than a counter: a database restored or rolled back to an earlier state
    can then never meet pages cached from a later one."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()
    # When the published pages next change with no write to announce it (a scheduled
    # post's publication), in seconds since the epoch: read on every request.
    next_change_at = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Content version {self.token}"
