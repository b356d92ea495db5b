"""Receivers for the writes that do not go through the post write path's own code.

A post's writers (the admin, the fixture loader, a restore, the demo data) write through
``blog.writing.post_writes()`` and name the posts they write. What reaches a post
from elsewhere is caught here and sent the same way (``post_changed``):

- rows saved by code that is not ours, inside a writer's scope: the admin's references
  inline (a formset) and its tags (taggit's manager), loaddata's raw rows;
- the same writes outside any scope: a shell, a data migration, a test;
- a tag renamed or deleted in taggit's admin, which changes the posts that carry it.

Everything else readers' pages show (comments, authors, the site) and any bulk UPDATE
renews the page cache's token directly, in the transaction of the change; so does an
old address (a Redirect row, blog.redirects), so that no response kept under the old
token can outlive a change of where it leads.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django_comments.models import Comment as BaseComment
from django_comments_xtd.models import XtdComment
from taggit.models import Tag

from .models import (
    Author,
    Comment,
    Page,
    Post,
    Redirect,
    Reference,
    TaggedPost,
    rows_updated,
)
from .pagecache import invalidate
from .writing import page_changed, post_changed, posts_changed


def _cascading_from(origin, model: type) -> bool:
    """Whether the delete that reached here started from a ``model`` row or queryset."""
    return isinstance(origin, model) or (isinstance(origin, QuerySet) and origin.model is model)


# Posts and what is derived into them ---------------------------------------------


@receiver(post_save, sender=Post)
def post_saved(sender, instance: Post, **kwargs) -> None:
    post_changed(instance)


@receiver(pre_save, sender=Reference)
def key_loaded_reference(sender, instance: Reference, raw: bool, **kwargs) -> None:
    # loaddata saves raw, bypassing Reference.save(), which keys every other save.
    if raw:
        instance.fill_keys()


@receiver(post_save, sender=Reference)
@receiver(post_delete, sender=Reference)
def reference_written(sender, instance: Reference, origin=None, **kwargs) -> None:
    # When the post itself is being deleted its references go with it: nothing to render.
    if _cascading_from(origin, Post):
        return
    # The post the writer holds, when it holds one, is the copy to give the new HTML.
    post_changed(instance._state.fields_cache.get("post") or instance.post_id)


@receiver(m2m_changed, sender=TaggedPost)
def post_retagged(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    # taggit sends these for add, remove, set and clear on post.tags.
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if isinstance(instance, Post):
        post_changed(instance)
    elif pk_set:  # from the tag's side: tag.post_set.add(…)
        posts_changed(pk_set)


@receiver(post_save, sender=TaggedPost)
def tagging_loaded(sender, instance: TaggedPost, raw: bool, **kwargs) -> None:
    # A fixture's taggings arrive raw, with no m2m_changed.
    if raw:
        post_changed(instance.content_object_id)


@receiver(post_delete, sender=TaggedPost)
def tag_deleted_from_post(sender, instance: TaggedPost, origin=None, **kwargs) -> None:
    # Deleting a tag deletes its taggings without m2m_changed; the posts lose the tag.
    if _cascading_from(origin, Tag):
        post_changed(instance.content_object_id)


@receiver(post_save, sender=Tag)
def tag_renamed(sender, instance: Tag, created: bool, raw: bool, **kwargs) -> None:
    # A new tag is on no post yet: nothing shows it.
    if not (created or raw):
        posts_changed(Post.objects.filter(tags=instance).values_list("pk", flat=True))


@receiver(post_delete, sender=Post)
def post_deleted(sender, **kwargs) -> None:
    # Its search document and references go with it; the pages that listed it change.
    invalidate()


@receiver(post_save, sender=Page)
def page_saved(sender, instance: Page, **kwargs) -> None:
    page_changed(instance)


@receiver(post_delete, sender=Page)
def page_deleted(sender, **kwargs) -> None:
    # Its search document goes with it; the header's navigation may change.
    invalidate()


# Everything else a reader's page shows ---------------------------------------------

# Any change makes all cached pages unreachable (blog.pagecache), in the transaction of
# the change itself. Deliberately broad: a missed dependency would be a stale page, an
# extra one only a cache miss.
PAGE_SOURCES = [Comment, XtdComment, BaseComment, get_user_model(), Site, Redirect, Author]


def invalidate_pages(sender, update_fields=None, **kwargs) -> None:
    # Signing in stamps the user's last_login, which no page shows. (A delete of many
    # rows is one transaction, Django's: the token changes once for all of them.)
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    invalidate()


for model in PAGE_SOURCES:
    post_save.connect(invalidate_pages, sender=model, dispatch_uid=f"pages-{model.__name__}")
    post_delete.connect(invalidate_pages, sender=model, dispatch_uid=f"pages-{model.__name__}")


@receiver(rows_updated)
def invalidate_pages_of_updated_rows(sender, **kwargs) -> None:
    # A bulk UPDATE (publishing posts from the admin's list, moderating comments).
    invalidate()
