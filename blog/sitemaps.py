"""/sitemap.xml: every page a search engine should know, with when it last changed.

Addresses are built from the Site's domain (which follows settings.SITE_DOMAIN) and
settings.SITE_SCHEME, never from the request, and each section costs a fixed number of
queries, however many posts there are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, QuerySet
from django.db.models.functions import Greatest, TruncMonth
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from .metadata import last_modified
from .models import Page, Post
from .pageslugs import PRIVACY_PAGE_SLUG
from .tagging import tag_counts

# Pages that are not posts, archives or tags, by URL name.
STATIC_PAGES = [
    "blog:post-index",
    "blog:tag-list",
    "blog:discussions",
    "blog:references",
    "blog:privacy",
]


class SiteSitemap(Sitemap):
    @property
    def protocol(self) -> str:
        # Read on each request (not at import), so that settings decide, not the request.
        return settings.SITE_SCHEME


class StaticSitemap(SiteSitemap):
    def items(self) -> list[str]:
        return STATIC_PAGES

    def location(self, name: str) -> str:
        return reverse(name)


class PostSitemap(SiteSitemap):
    def items(self) -> QuerySet[Post]:
        return Post.objects.published().only("slug", "published_at", "updated_at")

    def lastmod(self, post: Post) -> datetime.datetime:
        return last_modified(post)


@dataclass(frozen=True)
class Archive:
    year: int
    month: int | None  # None: the year's archive
    lastmod: datetime.datetime

    def get_absolute_url(self) -> str:
        if self.month is None:
            return reverse("blog:archive-year", kwargs={"year": self.year})
        return reverse("blog:archive-month", kwargs={"year": self.year, "month": self.month})


class ArchiveSitemap(SiteSitemap):
    """The year and month archives that have published posts, each last changed when
    the newest change to any of its posts was made."""

    def items(self) -> list[Archive]:
        rows = (
            Post.objects.published()
            .order_by()
            .annotate(month=TruncMonth("published_at"))
            .values("month")
            .annotate(latest=Max(Greatest("published_at", "updated_at")))
            .order_by("-month")
        )
        months = [(timezone.localtime(row["month"]).date(), row["latest"]) for row in rows]
        years: dict[int, datetime.datetime] = {}
        for day, latest in months:
            years[day.year] = max(latest, years.get(day.year, latest))
        return [Archive(year, None, latest) for year, latest in years.items()] + [
            Archive(day.year, day.month, latest) for day, latest in months
        ]

    def lastmod(self, archive: Archive) -> datetime.datetime:
        return archive.lastmod


class TagSitemap(SiteSitemap):
    """Tags with published posts, each last changed with its newest post."""

    def items(self) -> QuerySet[Tag]:
        posts = "blog_taggedpost_items__content_object__"
        return tag_counts().annotate(
            latest=Max(Greatest(f"{posts}published_at", f"{posts}updated_at"))
        )

    def location(self, tag: Tag) -> str:
        return reverse("blog:tag-detail", args=[tag.slug])

    def lastmod(self, tag: Tag) -> datetime.datetime:
        return tag.latest


class PageSitemap(SiteSitemap):
    """Published standalone pages; never a draft. The privacy page's own text is part of
    /privacy/, already listed with the site's pages."""

    def items(self) -> QuerySet[Page]:
        return Page.objects.published().exclude(slug=PRIVACY_PAGE_SLUG).only("slug", "updated_at")

    def lastmod(self, page: Page) -> datetime.datetime:
        return page.updated_at


sitemaps = {
    "static": StaticSitemap,
    "posts": PostSitemap,
    "pages": PageSitemap,
    "archives": ArchiveSitemap,
    "tags": TagSitemap,
}
