"""Keep what is derived from a post in step with it, however it changes (admin, inline,
shell, fixture): its stored HTML, which depends on its references; its search
document, which holds its title, tags, body and references; and the cached pages that
show it."""

import weakref

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django_comments.models import Comment as BaseComment
from django_comments_xtd.models import XtdComment
from taggit.models import Tag

from .models import Comment, Post, Reference, TaggedPost, rows_updated
from .pagecache import invalidate
from .search import index_post


def _cascading_from(origin, model: type) -> bool:
    """Whether the delete that reached here started from a ``model`` row or queryset."""
    return isinstance(origin, model) or (isinstance(origin, QuerySet) and origin.model is model)


@receiver(post_save, sender=Post)
def render_and_index_post(sender, instance: Post, raw: bool, **kwargs) -> None:
    # loaddata saves raw, bypassing Post.save(): render what the fixture brought.
    if raw:
        instance.refresh_body_html()
    index_post(instance)


@receiver(pre_save, sender=Reference)
def fill_reference_keys(sender, instance: Reference, **kwargs) -> None:
    # A receiver, not Reference.save(): loaddata saves raw, bypassing save(), but
    # still sends pre_save.
    instance.fill_keys()


@receiver(post_save, sender=Reference)
@receiver(post_delete, sender=Reference)
def rerender_citing_post(sender, instance: Reference, origin=None, **kwargs) -> None:
    # When the post itself is being deleted its references go with it: nothing to render.
    if _cascading_from(origin, Post):
        return
    post = Post.objects.filter(pk=instance.post_id).first()
    if post is not None:
        post.refresh_body_html()
        index_post(post)


@receiver(m2m_changed, sender=TaggedPost)
def index_retagged_post(sender, instance, action: str, reverse: bool, **kwargs) -> None:
    # taggit sends these for add, remove, set and clear on post.tags.
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, Post):
        index_post(instance)


@receiver(post_save, sender=TaggedPost)
def index_loaded_tagging(sender, instance: TaggedPost, raw: bool, **kwargs) -> None:
    # A fixture's taggings arrive raw, with no m2m_changed.
    if raw:
        index_post(instance.content_object)


@receiver(post_delete, sender=TaggedPost)
def index_post_losing_a_deleted_tag(sender, instance: TaggedPost, origin=None, **kwargs) -> None:
    # Deleting a tag deletes its taggings without m2m_changed; the posts lose the tag.
    if _cascading_from(origin, Tag):
        post = Post.objects.filter(pk=instance.content_object_id).first()
        if post is not None:
            index_post(post)


@receiver(post_save, sender=Tag)
def index_posts_of_a_renamed_tag(sender, instance: Tag, created: bool, raw: bool, **kwargs) -> None:
    if created or raw:
        return
    for post in Post.objects.filter(tags=instance):
        index_post(post)


# Every model a reader's page shows from: any change makes all cached pages unreachable
# (blog.pagecache), in the transaction of the change itself. Deliberately broad: a
# missed dependency would be a stale page, an extra one only a cache miss.
PAGE_SOURCES = [
    Post, Reference, TaggedPost, Tag, Comment, XtdComment, BaseComment, get_user_model(), Site,
]  # fmt: skip


# The deletes that have already changed the token, by identity: one delete (a post
# with its comments, a queryset from the admin) is one transaction, and changes the
# token once rather than once a row.
_invalidating_deletes: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def invalidate_pages(sender, update_fields=None, origin=None, **kwargs) -> None:
    # Signing in stamps the user's last_login, which no page shows.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    if origin is not None:
        if _invalidating_deletes.get(id(origin)) is origin:
            return
        _invalidating_deletes[id(origin)] = origin
    invalidate()


for model in PAGE_SOURCES:
    post_save.connect(invalidate_pages, sender=model, dispatch_uid=f"pages-{model.__name__}")
    post_delete.connect(invalidate_pages, sender=model, dispatch_uid=f"pages-{model.__name__}")


@receiver(m2m_changed, sender=TaggedPost)
def invalidate_pages_of_a_retagged_post(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        invalidate()


@receiver(rows_updated)
def invalidate_pages_of_updated_rows(sender, **kwargs) -> None:
    invalidate()
