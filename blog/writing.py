"""The one way a post or a page is written: saved with its references and tags, then
rendered, indexed, kept as a revision and announced to the page cache once.

What readers see of a post is derived from three kinds of rows: the post, its numbered
references (the body's ``[N]`` markers become links only for the numbers that exist) and
its tags (part of the search document). Writers save them one after another: the admin
saves the post, then its references inline, then its tags; the fixture loader and a
restore insert them raw; the demo data and the importers (blog.importing) in bulk. So
nothing is derived while they are being saved. Every writer opens ``post_writes()`` and
names the posts it writes; when the outermost one closes, still inside its transaction,
each post's body is rendered
(``blog.markup.render_markdown``), its search document written (``blog.search``) and
the page cache's token renewed (``blog.pagecache.invalidate``), once.

    with post_writes() as writes:
        post.save()
        post.references.create(number=1, citation="…")
        post.tags.set(["Ofsted"])
        writes.add(post)

``save_post()`` does this for one post. Writes that happen outside any writer we
control (a formset's or taggit's saves inside the admin's scope, loaddata's raw rows, a
shell, a tag renamed in taggit's admin) reach ``post_changed()`` through the receivers
in blog.signals: inside an open scope they only name the post to it; outside one they
run the same steps for that post at once.

A scope a person writes in (``user``: the admin's change form, its list's Publish
action, a revision restored) also announces the posts it publishes to the readers who
follow the blog by e-mail (blog.following.mailing.announce), once they are rendered;
``announce`` says whether a scope does, and defaults to whether it has a user, so that
an import, the fixture loader, a backup restore, the demo data and a rebuilt index
(none of which has one) mail no one. A scope with a user that publishes nothing (the
media admin re-rendering the posts that show an image) passes ``announce=False``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from taggit.models import Tag

from . import media, pagecache, revisions, search
from .following import mailing
from .markup import render_markdown
from .models import Author, Page, Post, Reference, TaggedPost
from .pageslugs import validate_page_slug

BATCH_SIZE = 500
# The scope open in this thread (or task), if any: nested writers join it.
_open: contextvars.ContextVar[PostWrites | None] = contextvars.ContextVar(
    "post_writes", default=None
)


class PostWrites:
    """The posts and pages written in one scope; their derived rows are made, and a
    revision of each is kept, when it closes."""

    def __init__(
        self,
        *,
        user: AbstractBaseUser | None = None,
        reason: str = "",
        revisions: bool = True,
        announce: bool | None = None,
    ) -> None:
        # Every in-memory copy the writers hold, by id: each is given its new HTML, so
        # that code holding a post it has just saved sees what readers will see.
        self._posts: dict[int, list[Post]] = {}
        self._pages: dict[int, list[Page]] = {}
        # Who wrote, and why, for the revisions (blog.revisions): a restore of a backup
        # or a rebuilt search index writes no new revision.
        self.user = user
        self.reason = reason
        self.revisions = revisions
        # Whether the posts published here are e-mailed to their followers: None, when
        # the scope closes, means whether a person (``user``) wrote.
        self.announce = announce

    def add(self, item: Post | Page | int) -> None:
        """Name a post or a page (or a post's id) as written in this scope."""
        if isinstance(item, Page):
            self.add_page(item)
        else:
            _name(self._posts, item)

    def add_page(self, page: Page | int) -> None:
        """Name a page (or its id) as written in this scope."""
        _name(self._pages, page)

    def add_many(self, posts: Iterable[Post | int]) -> None:
        for post in posts:
            self.add(post)

    @property
    def announces(self) -> bool:
        return self.user is not None if self.announce is None else self.announce

    def __len__(self) -> int:
        return len(self._posts) + len(self._pages)

    def finish(self) -> None:
        """Render, index and announce the posts and pages written: one pass over them."""
        if not (self._posts or self._pages):
            return
        ids = sorted(self._posts)
        for start in range(0, len(ids), BATCH_SIZE):
            self._derive_posts(ids[start : start + BATCH_SIZE])
        if self._pages:
            self._derive_pages(sorted(self._pages))
        pagecache.invalidate()

    def _derive_posts(self, ids: list[int]) -> None:
        posts = list(
            Post.objects.filter(pk__in=ids)
            # Whether the byline has an author page to link to: asked in the same query.
            .annotate(_author_has_profile=Exists(Author.objects.filter(user=OuterRef("author"))))
            .prefetch_related("tags", "references", "taggedpost_set__tag")
        )
        # Every author gets a profile (and a page) with their first post, however it
        # was written: the admin, an import, the demo data, a fixture's raw rows.
        Author.objects.ensure_for(
            {post.author_id for post in posts if not post._author_has_profile}
        )
        self._derive(posts, self._posts, lambda post: [r.number for r in post.references.all()])
        search.index_posts(posts)
        if self.announces:
            # Rendered, tagged and indexed first: a mailing due now may be sent at once.
            mailing.announce(posts)

    def _derive_pages(self, ids: list[int]) -> None:
        pages = list(Page.objects.filter(pk__in=ids))
        self._derive(pages, self._pages, lambda page: ())
        search.index_pages(pages)

    def _derive(
        self,
        items: list[Post] | list[Page],
        copies: Mapping[int, list],
        citations: Callable[[Post | Page], Iterable[int]],
    ) -> None:
        """What posts and pages alike derive from their bodies: the HTML (stored where it
        changed, and given to every copy the writers hold), the images they show, a
        revision. ``citations`` names the reference numbers an item's markers may link."""
        images = media.images_in(item.body for item in items)
        rendered = []
        for item in items:
            html = render_markdown(item.body, citations(item), images=images)
            for copy in copies[item.pk]:
                copy.body_html = html
            if html != item.body_html:
                item.body_html = html
                rendered.append(item)
        if items:
            # The base manager: this is the write path's own update, not one to announce.
            type(items[0])._base_manager.bulk_update(rendered, ["body_html"])
        media.record_uses(items, images)
        if self.revisions:
            revisions.record(items, user=self.user, reason=self.reason)


def _name(written: dict[int, list], item: Post | Page | int) -> None:
    """Add ``item`` (or its id) to ``written``, keeping each in-memory copy once."""
    if isinstance(item, int):
        written.setdefault(item, [])
        return
    copies = written.setdefault(item.pk, [])
    if not any(copy is item for copy in copies):
        copies.append(item)


@contextmanager
def post_writes(
    *,
    user: AbstractBaseUser | None = None,
    reason: str = "",
    revisions: bool = True,
    announce: bool | None = None,
) -> Iterator[PostWrites]:
    """A scope for writing posts and pages, atomic. Inside another, it joins it: the
    work is done once, when the outermost closes (and not at all if it fails). ``user``
    and ``reason`` are recorded in the revisions (the first scope to name them wins);
    ``revisions=False``: a write that changes no content (a restored backup, which
    brings its own revisions; a rebuilt index). ``announce``: whether the posts it
    publishes are e-mailed to their followers (by default, if there is a ``user``; the
    first scope to say wins)."""
    writes = _open.get()
    if writes is not None:
        if writes.user is None:
            writes.user = user
        if writes.announce is None:
            writes.announce = announce
        writes.reason = writes.reason or reason
        yield writes
        return
    writes = PostWrites(user=user, reason=reason, revisions=revisions, announce=announce)
    token = _open.set(writes)
    try:
        with transaction.atomic():
            yield writes
            _open.reset(token)
            token = None
            writes.finish()
    finally:
        if token is not None:
            _open.reset(token)


def save_page(page: Page, *, user: AbstractBaseUser | None = None, reason: str = "") -> Page:
    """Save a page through the one path. A slug the site already uses is refused
    (ValidationError), whoever writes: the admin's form says so before it gets here."""
    validate_page_slug(page.slug)
    with post_writes(user=user, reason=reason) as writes:
        page.save()
        writes.add_page(page)
    return page


def save_post(
    post: Post,
    *,
    references: Iterable[Reference] | None = None,
    tags: Iterable[str] | None = None,
    user: AbstractBaseUser | None = None,
    reason: str = "",
) -> Post:
    """Save a post with, when given, all its references (replacing those it had) and
    all its tags, through the one path."""
    with post_writes(user=user, reason=reason) as writes:
        post.save()
        if references is not None:
            post.references.all().delete()
            references = list(references)
            for reference in references:
                reference.post = post
            Reference.objects.bulk_create(references)
        if tags is not None:
            set_tags(post, tags)
        writes.add(post)
    return post


def set_tags(post: Post, names: Iterable[str]) -> None:
    """Give a saved post exactly the tags ``names``, each matched to an existing tag
    case-insensitively (as TAGGIT_CASE_INSENSITIVE asks of taggit) or made new.

    A fixed handful of statements: taggit's manager looks up, creates and links each
    tag on its own, several statements a tag. Sends no m2m_changed: call it inside
    ``post_writes()``, which it joins, and the scope takes the post."""
    with post_writes() as writes:
        tags = set(tags_named(names).values())
        taggings = TaggedPost.objects.filter(content_object=post)
        current = set(taggings.values_list("tag_id", flat=True))
        keep = {tag.pk for tag in tags}
        if current - keep:
            taggings.filter(tag_id__in=current - keep).delete()
        TaggedPost.objects.bulk_create(
            [TaggedPost(content_object=post, tag_id=pk) for pk in sorted(keep - current)]
        )
        if hasattr(post, "_prefetched_objects_cache"):
            post._prefetched_objects_cache.pop("tags", None)
        writes.add(post)


def tag_posts(names: Mapping[int, Iterable[str]]) -> dict[str, Tag]:
    """Give posts that have no tags yet (by id) the tags named for each, matched or made
    as tags_named does: a handful of statements for any number of posts (the bulk
    writers': the demo data, the importers). Returns the tags used, by the names given.
    The posts are the caller's to name to its write scope."""
    wanted = {pk: list(tag_names) for pk, tag_names in names.items()}
    tags = tags_named(sorted({name for tag_names in wanted.values() for name in tag_names}))
    TaggedPost.objects.bulk_create(
        [
            TaggedPost(content_object_id=pk, tag_id=tag_pk)
            for pk, tag_names in wanted.items()
            # Two spellings of one tag ("Ofsted", "OFSTED") tag the post once.
            for tag_pk in sorted({tags[name].pk for name in tag_names})
        ],
        batch_size=BATCH_SIZE,
    )
    return tags


def tags_named(names: Iterable[str]) -> dict[str, Tag]:
    """The tag for each name, matched to an existing tag case-insensitively (as
    TAGGIT_CASE_INSENSITIVE asks of taggit; of two that differ only in case, the older)
    or made new: one look-up and one insert for any number of names."""
    names = list(names)
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(name.casefold(), name)
    if not wanted:
        return {}
    found: dict[str, Tag] = {}
    lowered = [name.lower() for name in wanted.values()]
    # SQLite's LOWER() folds ASCII letters only: "Éducation" stays as it is there, so
    # the usual spellings of each name are looked for as they are too.
    spellings = {
        variant
        for name in wanted.values()
        for variant in (name, name.lower(), name.upper(), name.capitalize(), name.title())
    }
    candidates = Tag.objects.annotate(lowered=Lower("name")).filter(
        Q(lowered__in=lowered) | Q(name__in=spellings)
    )
    for tag in candidates.order_by("pk"):
        found.setdefault(tag.name.casefold(), tag)
    missing = [
        Tag(name=name, slug=Tag().slugify(name)) for key, name in wanted.items() if key not in found
    ]
    if missing:
        try:
            with transaction.atomic():
                Tag.objects.bulk_create(missing)
        except IntegrityError:
            # A slug taken by another tag ("Ofsted’s" and "Ofsteds"): taggit's own
            # save finds a free one, a tag at a time.
            for tag in missing:
                tag.pk = None
                tag.slug = ""
                tag.save()
        found.update((tag.name.casefold(), tag) for tag in missing)
    return {name: found[name.casefold()] for name in names}


def post_changed(post: Post | int) -> None:
    """A post, or a row derived into it, was written: by a writer in an open scope, the
    post is named to it; outside one (a shell, a raw fixture row), it goes the same way
    now, on its own."""
    with post_writes() as writes:
        writes.add(post)


def page_changed(page: Page | int) -> None:
    """A page was written outside the write path's own code (a shell, a raw fixture row)."""
    with post_writes() as writes:
        writes.add_page(page)


def posts_changed(posts: Iterable[Post | int]) -> None:
    with post_writes() as writes:
        writes.add_many(posts)
