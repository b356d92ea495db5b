"""What machines read about a page: canonical address, dates, and the schema.org
structured data (JSON-LD) that search engines show a post by.

Every address here is absolute and built from settings (blog.sites.absolute_url), never
from the request's host, so a page fetched through a proxy or an alias still names its
one canonical address.
"""

from __future__ import annotations

import datetime
from urllib.parse import urljoin

from django.conf import settings
from django.core.paginator import Page
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import to_locale

from .markup import images_of

# Not Page: that name is the paginator's page here.
from .models import Page as StandalonePage
from .models import Post
from .sites import absolute_url


def last_modified(post: Post) -> datetime.datetime:
    """When the post last changed for readers: a post scheduled, then edited before it
    went out, was new to them when it appeared, not when it was last saved."""
    return max(post.published_at, post.updated_at)


def iso_datetime(moment: datetime.datetime) -> str:
    """ISO 8601 on the site's calendar (the offset says which), as OG and schema.org
    expect."""
    return timezone.localtime(moment).isoformat()


def language_tag() -> str:
    """The site's language as a BCP 47 tag ("en-GB"), from LANGUAGE_CODE ("en-gb")."""
    return to_locale(settings.LANGUAGE_CODE).replace("_", "-")


def canonical_url(request: HttpRequest, page_obj: Page | None = None) -> str:
    """The page's one address: its path without any query, except the page number of a
    list past its first page (each page of a list is a page of its own)."""
    query = f"?page={page_obj.number}" if page_obj is not None and page_obj.number > 1 else ""
    return absolute_url(request.path + query)


# The site's card for link previews, 1200×630 as Open Graph asks (made once by
# tools/og_image.py): any page without a picture of its own.
DEFAULT_IMAGE = "img/og-default.png"
DEFAULT_IMAGE_SIZE = (1200, 630)


def default_image() -> str:
    return absolute_url(static(DEFAULT_IMAGE))


def post_image(post: Post) -> str:
    """The post's picture for link previews and search engines: its first image, as a
    full address, or the site's card."""
    found = _first_image(post)
    if not found:
        return default_image()
    return urljoin(absolute_url(post.get_absolute_url()), found["src"])


def post_image_size(post: Post) -> dict[str, str]:
    """The width, height and alternative text of the post's first image, as its <img>
    gives them (an uploaded image's widest rendition: blog.markup), for og:image:*;
    empty for a post without one, whose card is the site's."""
    found = _first_image(post)
    return {key: found[key] for key in ("width", "height", "alt") if found.get(key, "").strip()}


def _first_image(post: Post) -> dict[str, str]:
    """The attributes of the first picture in the post's sanitised HTML, or {}."""
    return next((img for img in images_of(post.body_html or "") if img.get("src")), {})


def _publisher() -> dict:
    return {
        "@type": "Organization",
        "name": settings.SITE_NAME,
        "url": absolute_url(reverse("blog:post-index")),
    }


def author_person(post: Post) -> dict:
    """schema.org Person for a post's author, with their page's address when they have one."""
    person = {"@type": "Person", "name": post.author_name}
    if post.author_url:
        person["url"] = absolute_url(post.author_url)
    return person


def blog_posting(post: Post) -> dict:
    """schema.org BlogPosting for a post's page. ``post.comment_count`` is annotated by
    the post page's query (PostQuerySet.with_comment_counts); the tags are prefetched."""
    url = absolute_url(post.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.display_title,
        "description": post.excerpt,
        "datePublished": iso_datetime(post.published_at),
        "dateModified": iso_datetime(last_modified(post)),
        "author": author_person(post),
        "publisher": _publisher(),
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "image": [post_image(post)],
        "isPartOf": {"@type": "Blog", "name": settings.SITE_NAME, "url": _publisher()["url"]},
        "keywords": [tag.name for tag in post.tags.all()],
        "wordCount": post.word_count,
        "inLanguage": language_tag(),
    }
    comment_count = getattr(post, "comment_count", None)
    if comment_count is not None:
        data["commentCount"] = comment_count
    return data


def website() -> dict:
    """schema.org WebSite for the home page: the blog's name, what it is about, where."""
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": settings.SITE_NAME,
        "description": settings.SITE_TAGLINE,
        "url": absolute_url(reverse("blog:post-index")),
        "inLanguage": language_tag(),
        "publisher": _publisher(),
    }


def web_page(page: StandalonePage) -> dict:
    """schema.org WebPage for a standalone page: no date, no author, part of the site."""
    url = absolute_url(page.get_absolute_url())
    return {
        "@context": "https://schema.org",
        "@type": "WebPage",
        "name": page.title,
        "description": page.excerpt,
        "url": url,
        "isPartOf": {"@type": "WebSite", "name": settings.SITE_NAME, "url": _publisher()["url"]},
        "publisher": _publisher(),
        "inLanguage": language_tag(),
    }
