"""Atom and RSS feeds of the posts, of a tag's posts, and of readers' comments.

Built on Django's syndication framework. Every address in a feed (the feed's own, its
entries', and those inside the content) is absolute and built from settings, never from
the request's host: a feed reader has no page to resolve a relative link against, and
a feed fetched through an alias must still name the site's one address.

No e-mail address is ever written: not the authors', not the commenters'. The feeds set
no ``author_email``/``item_author_email``, so Django's generators write a name only.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.contrib.syndication.views import Feed
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from taggit.models import Tag

from .discussion.rendering import render_comment_text
from .markup import absolutize
from .metadata import last_modified
from .models import Author, Comment, Post
from .sites import absolute_url

POSTS_PER_FEED = 20
COMMENTS_PER_FEED = 30


# XML 1.0 cannot carry C0 control characters other than tab and the newlines, nor
# U+FFFE and U+FFFF. A reader's comment or a post may hold one (pasted text); Django's
# generator then refuses the whole feed (a 500 for every reader), so the feeds drop
# them: they are invisible on the pages too.
_NOT_XML = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


def xml_text(value: object) -> object:
    """``value`` (a string, or a list of them) without what XML 1.0 cannot carry."""
    if isinstance(value, str):
        return value.translate(_NOT_XML)
    if isinstance(value, list | tuple):
        return type(value)(xml_text(item) for item in value)
    return value


class XMLTextMixin:
    """For Django's feed generators: every string given to the feed or to an item is
    made something XML can carry."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*map(xml_text, args), **{k: xml_text(v) for k, v in kwargs.items()})

    def add_item(self, *args, **kwargs) -> None:
        super().add_item(*map(xml_text, args), **{k: xml_text(v) for k, v in kwargs.items()})


class RssFeed(XMLTextMixin, Rss201rev2Feed):
    pass


class ContentAtom1Feed(XMLTextMixin, Atom1Feed):
    """Atom with the full text in ``<content type="html">``; Django's generator writes
    only ``<summary>`` (which gets the excerpt)."""

    def add_item_elements(self, handler, item: dict) -> None:
        super().add_item_elements(handler, item)
        if item.get("content") is not None:
            handler.addQuickElement("content", item["content"], {"type": "html"})


def post_content(post: Post) -> str:
    """The post as a feed reader shows it: the sanitised body with its references after
    it (so that the ``[N]`` markers lead somewhere), every address absolute."""
    html = render_to_string(
        "feeds/post_content.html", {"post": post, "references": post.references.all()}
    )
    return absolutize(html, absolute_url(post.get_absolute_url()))


class PostFeed(Feed):
    """The newest published posts, in full (RSS 2.0: the full HTML in <description>)."""

    feed_type = RssFeed
    url_name = "blog:feed-rss"

    def title(self, obj: object) -> str:
        return settings.SITE_NAME

    def subtitle(self, obj: object) -> str:
        return settings.SITE_TAGLINE

    def description(self, obj: object) -> str:
        return settings.SITE_TAGLINE

    def link(self, obj: object) -> str:
        return absolute_url(reverse("blog:post-index"))

    def feed_url(self, obj: object) -> str:
        return absolute_url(reverse(self.url_name))

    def feed_guid(self, obj: object) -> str:
        # The feed's own address: unique to each feed, unlike the page it follows.
        return self.feed_url(obj)

    def author_name(self, obj: object) -> str:
        return settings.SITE_NAME

    def posts(self, obj: object) -> QuerySet[Post]:
        return Post.objects.published()

    def items(self, obj: object) -> QuerySet[Post]:
        return (
            self.posts(obj)
            .select_related("author__author_profile")
            .prefetch_related("tags", "references")[:POSTS_PER_FEED]
        )

    def item_title(self, post: Post) -> str:
        # RSS readers read <title> as HTML (Django escapes it for the same reason).
        return escape(post.display_title)

    def item_description(self, post: Post) -> str:
        return post_content(post)

    def item_link(self, post: Post) -> str:
        return absolute_url(post.get_absolute_url())

    def item_author_name(self, post: Post) -> str:
        return post.author_name

    def item_author_link(self, post: Post) -> str | None:
        return absolute_url(post.author_url) if post.author_url else None

    def item_pubdate(self, post: Post) -> datetime.datetime:
        return post.published_at

    def item_updateddate(self, post: Post) -> datetime.datetime:
        return last_modified(post)

    def item_categories(self, post: Post) -> list[str]:
        return [tag.name for tag in post.tags.all()]


class PostAtomFeed(PostFeed):
    """The same posts in Atom: the excerpt in <summary>, the full HTML in <content>."""

    feed_type = ContentAtom1Feed
    url_name = "blog:feed-atom"

    def item_title(self, post: Post) -> str:
        # Atom titles are text (type="text"): escaping would show the entities.
        return post.display_title

    def item_description(self, post: Post) -> str:
        return escape(post.excerpt)

    def item_extra_kwargs(self, post: Post) -> dict:
        return {"content": post_content(post)}


class TagFeed(PostAtomFeed):
    """A tag's newest published posts (Atom). A tag no published post carries is not a
    page readers can reach, so it has no feed either."""

    def get_object(self, request, slug: str) -> Tag:
        # An EXISTS stops at the tag's newest visible post, where listing the tags of
        # every visible post read them all.
        tagged = Post.objects.published().filter(tags=OuterRef("pk"))
        return Tag.objects.get(Exists(tagged), slug=slug)

    def title(self, tag: Tag) -> str:
        return f"{settings.SITE_NAME}: posts tagged “{tag.name}”"

    def link(self, tag: Tag) -> str:
        return absolute_url(reverse("blog:tag-detail", args=[tag.slug]))

    def feed_url(self, tag: Tag) -> str:
        return absolute_url(reverse("blog:tag-feed", args=[tag.slug]))

    def posts(self, tag: Tag) -> QuerySet[Post]:
        return Post.objects.published().filter(tags=tag)


class AuthorFeed(PostAtomFeed):
    """An author's newest published posts (Atom). An author with no published post has
    no page readers can reach, so no feed either."""

    def get_object(self, request, slug: str) -> Author:
        published = Post.objects.published().filter(author=OuterRef("user"))
        return Author.objects.select_related("user").get(Exists(published), slug=slug)

    def title(self, author: Author) -> str:
        return f"{settings.SITE_NAME}: posts by {author.name}"

    def link(self, author: Author) -> str:
        return absolute_url(author.get_absolute_url())

    def feed_url(self, author: Author) -> str:
        return absolute_url(reverse("blog:author-feed", args=[author.slug]))

    def posts(self, author: Author) -> QuerySet[Post]:
        return Post.objects.published().filter(author=author.user_id)


class CommentFeed(Feed):
    """The newest visible comments on published posts (Atom)."""

    feed_type = ContentAtom1Feed

    def title(self) -> str:
        return f"{settings.SITE_NAME}: comments"

    def subtitle(self) -> str:
        return f"The latest comments on {settings.SITE_NAME}"

    def link(self) -> str:
        return absolute_url(reverse("blog:discussions"))

    def feed_url(self) -> str:
        return absolute_url(reverse("blog:feed-comments"))

    def feed_guid(self) -> str:
        return self.feed_url()

    def author_name(self) -> str:
        return settings.SITE_NAME

    def items(self) -> list[Comment]:
        # A comment stays in the database when its post is unpublished; it must then
        # leave the feed with the post.
        visible_posts = Post.objects.published().values(pk_text=Cast("pk", CharField()))
        return (
            Comment.objects.visible()
            .for_posts()
            .filter(object_pk__in=visible_posts)
            .order_by("-submit_date", "-pk")
            .with_thread_ranks()  # each link goes to the page of the discussion showing it
            .prefetch_related(GenericPrefetch("content_object", [Post.objects.all()]))
        )[:COMMENTS_PER_FEED]

    def item_title(self, comment: Comment) -> str:
        return f"{comment.user_name} on {comment.content_object.display_title}"

    def item_description(self, comment: Comment) -> None:
        # No <summary>: a comment is short, and its text is in <content>.
        return None

    def item_extra_kwargs(self, comment: Comment) -> dict:
        return {"content": render_comment_text(comment.comment)}

    def item_link(self, comment: Comment) -> str:
        return absolute_url(comment.get_absolute_url())

    def item_author_name(self, comment: Comment) -> str:
        return comment.user_name

    def item_pubdate(self, comment: Comment) -> datetime.datetime:
        return comment.submit_date

    def item_updateddate(self, comment: Comment) -> datetime.datetime:
        return comment.submit_date
