"""Revisions of posts and pages, in django-reversion's tables.

Every write of a post or a page through the one write path (blog.writing) records a
revision when its scope closes: who, when, why ("Restored from the revision of …"),
and the whole content: the post's fields, its references and its tags, as one unit.
What is derived from them (the rendered body, the references' keys) is not kept; it
is made again when a revision is restored, through the same write path. Comments are
never part of one: a revision holds no commenter's data.

django-reversion rather than django-simple-history: a reversion revision groups a post
with its references and taggings, which is what "the whole content" of a post is, where
simple-history keeps a history table per model and leaves the grouping to us.

The models are registered with reversion (so that its API reads their versions), but
revisions are written here, in bulk: reversion's own ``create_revision`` checks that
every object still exists, a statement per model per revision, and an import of
thousands of posts would pay that for each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import reversion
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import DEFAULT_DB_ALIAS, models
from django.utils import timezone
from reversion.models import Revision, Version
from taggit.models import Tag

from .models import Page, Post, Reference, TaggedPost

# What each model's version leaves out: what is derived, made again on a restore.
EXCLUDED_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Post: ("body_html", "source_digest"),
    Reference: ("citation_key", "url_key"),
    TaggedPost: (),
    Tag: (),
    Page: ("body_html", "source_digest"),
}
FOLLOWED = {Post: ("references", "taggedpost_set"), TaggedPost: ("tag",)}
BATCH_SIZE = 500


def register_models() -> None:
    """Called once, from BlogConfig.ready()."""
    for model, exclude in EXCLUDED_FIELDS.items():
        reversion.register(model, exclude=exclude, follow=FOLLOWED.get(model, ()))


def _fields(model: type[models.Model]) -> list[str]:
    # As reversion.register names them, so that its API reads ours as its own.
    opts = model._meta.concrete_model._meta
    exclude = EXCLUDED_FIELDS[model]
    return [f.name for f in opts.local_fields + opts.local_many_to_many if f.name not in exclude]


def _unit(obj: models.Model) -> list[models.Model]:
    """The object and what a revision of it holds: a post's references, taggings and
    tags (read from the write path's prefetched rows)."""
    if isinstance(obj, Post):
        taggings = list(obj.taggedpost_set.all())
        return [obj, *obj.references.all(), *taggings, *(tagging.tag for tagging in taggings)]
    return [obj]


def _version(obj: models.Model, revision: Revision, types: dict) -> Version:
    model = type(obj)
    return Version(
        revision=revision,
        content_type=types[model],
        object_id=str(obj.pk),
        db=DEFAULT_DB_ALIAS,
        format="json",
        serialized_data=serializers.serialize("json", (obj,), fields=_fields(model)),
        object_repr=str(obj)[:191],
    )


def record(
    objects: Sequence[models.Model], *, user: AbstractBaseUser | None = None, reason: str = ""
) -> None:
    """One revision for each post or page, as it is now: two statements for any number
    of them, in the caller's transaction (the write path's), and one for the content
    types the first time a process asks (Django keeps them after)."""
    if user is not None and not user.is_authenticated:
        user = None
    types = ContentType.objects.get_for_models(*EXCLUDED_FIELDS)
    now = timezone.now()
    for start in range(0, len(objects), BATCH_SIZE):
        batch = objects[start : start + BATCH_SIZE]
        made = Revision.objects.bulk_create(
            [Revision(date_created=now, user=user, comment=reason) for _ in batch]
        )
        Version.objects.bulk_create(
            [
                _version(part, revision, types)
                for revision, obj in zip(made, batch, strict=True)
                for part in _unit(obj)
            ]
        )


def versions_of(obj: models.Model) -> Iterable[Version]:
    """The object's versions, the newest first, each with its revision."""
    return Version.objects.get_for_object(obj).select_related("revision__user__author_profile")
