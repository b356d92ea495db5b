"""The writer: an export's records (blog.importing.records) put into the site, all in
one transaction, through the one write path (blog.writing.post_writes), so that the
posts are rendered, indexed and the page cache renewed once, at the end.

Records stream through: posts are written in batches as they come, comments too (their
rows first, each in a thread of its own), and only small keys are kept (source id →
row id), so that an export of 10,000 posts and 100,000 comments fits in a bounded
memory. Threads are placed at the end, when every comment is known, since an export
may list a reply before the comment it answers (blog.discussion.bulk).

Decisions:
- A post whose author the export does not name goes to the ``author`` given, else to
  the site's first superuser (the owner, who runs the import: WordPress's own importer
  likewise gives orphan posts to the importing user). A site with no superuser refuses
  the file, saying to give --author: refusing every file for one missing byline would
  let one reader's quirk block the whole import.
- A reply whose parent is left out (spam, trash) goes under the nearest ancestor that
  is imported: it stays in the conversation it was part of; with none, and for a parent
  the file does not hold, it starts a thread.
- An existing post's slug is kept on update: its address may have been linked to since.
- The comments' feed is the site's own (blog:feed-comments); an author's old page
  leads to the home page (the site has no author pages yet).
- A page (About, Contact) becomes a standalone page (blog.models.Page), a draft if it
  was one, at its old slug unless the site uses that address (blog.pageslugs) or
  another page has it; its old addresses lead to it. Its comments are left out: pages
  have no discussion here.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.text import slugify
from taggit.models import Tag

from .. import pagecache
from ..discussion import bulk
from ..models import Author, Comment, Page, Post, Redirect, Reference, TaggedPost
from ..models.base import free_slug
from ..models.pages import PAGE_SLUG_MAX_LENGTH
from ..models.posts import MAX_REFERENCE_NUMBER
from ..pageslugs import page_slug_clash
from ..writing import PostWrites, post_writes, save_page, tag_posts, tags_named
from .limits import max_length
from .records import (
    CommentStatus,
    ImportFileError,
    Kind,
    OldAddress,
    Position,
    PostStatus,
    Record,
    Skipped,
    SourceAuthor,
    SourceBlog,
    SourceComment,
    SourcePost,
)
from .report import Outcome, Report

if TYPE_CHECKING:
    from .media import LocalisedImages

POST_BATCH = 200
COMMENT_BATCH = 2000
HELD_ON_OLD_BLOG = "Held for moderation on the old blog"
PAGE_COMMENTS = "pages have no discussion on this site"
# Longest values the tables take (django-comments' own columns, taggit's tag name).

# blog.importing.media.localise_images: a body and its images → LocalisedImages.
Localise = Callable[[str, tuple[str, ...]], "LocalisedImages"]


class _DryRun(Exception):
    """Raised inside the transaction of a dry run, to undo it."""


def load(
    records: Iterable[Record],
    *,
    author=None,
    dry_run: bool = False,
    fetch_media: bool = False,
    localise: Localise | None = None,
) -> Report:
    """Write ``records`` into the site and say what changed (in a dry run: what would,
    with nothing written). Any failure leaves the site as it was and is raised as an
    ImportFileError saying where in the file it happened."""
    report = Report(dry_run=dry_run)
    if fetch_media and not dry_run and localise is None:
        from .media import localise_images as localise
    loader = _Loader(report, author, localise if fetch_media and not dry_run else None)
    try:
        # Its own savepoint too: inside a caller's write scope, post_writes joins it
        # and would not undo this file's rows by itself.
        with transaction.atomic(), post_writes() as writes:
            loader.writes = writes
            for record in records:
                loader.take(record)
            loader.finish()
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except ImportFileError:
        raise
    except Exception as error:
        raise ImportFileError(f"Nothing was imported: {loader.where}: {error}") from error
    return report


class _Loader:
    def __init__(self, report: Report, author, localise: Localise | None) -> None:
        self.report = report
        self.author = author
        self.localise = localise
        self.writes: PostWrites | None = None
        self.where = "before the first record"
        self.platform = ""
        self.site = Site.objects.get_current()
        self.max_level = settings.COMMENTS_XTD_MAX_THREAD_LEVEL
        self.first_new_tag = (Tag.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
        self.tags_seen: set[int] = set()
        self.authors: dict[str, int] = {}  # SourceAuthor.key → account id
        self.fallback: int | None = None
        self.posts: dict[str, int] = {}  # post source id → row id (this file's and found)
        self.pages: dict[str, str] = {}  # page source id → its address here
        self.left_out_posts: dict[str, str] = {}  # source id → why it was not imported
        self.posts_in_file: set[str] = set()
        self.slugs: set[str] = set()  # given in this file
        self.comments: dict[str, int] = {}  # comment source id → row id
        self.left_out_comments: dict[str, str] = {}  # source id → its parent's source id
        self.new_replies: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.comments_changed = False
        self.redirect_paths: dict[str, tuple] = {}  # old path → its target, this file
        self.author_pages: dict[int, str] = {}  # account id → its author page's path
        self.post_batch: list[SourcePost] = []
        self.comment_batch: list[SourceComment] = []
        self.waiting: list[SourceComment] = []  # comments read before their post

    # Reading ------------------------------------------------------------------------

    def take(self, record: Record) -> None:
        self.where = _where(record)
        if isinstance(record, SourceBlog):
            self.platform = record.platform[:20]
        elif isinstance(record, SourceAuthor):
            self.add_author(record)
        elif isinstance(record, SourcePost):
            if record.is_page:
                self.write_page(record)
                return
            self.post_batch.append(record)
            if len(self.post_batch) >= POST_BATCH:
                self.flush_posts()
        elif isinstance(record, SourceComment):
            self.comment_batch.append(record)
            if len(self.comment_batch) >= COMMENT_BATCH:
                self.flush_comments()
        elif isinstance(record, Skipped):
            self.report.skip(record.kind, record.source_id, record.reason, record.position)

    def finish(self) -> None:
        self.flush_posts()
        self.flush_comments()
        waiting, self.waiting = self.waiting, []
        for start in range(0, len(waiting), COMMENT_BATCH):
            self.write_comments(waiting[start : start + COMMENT_BATCH], last_call=True)
        self.where = "placing the comments in their threads"
        self.place_threads()
        if self.comments_changed:
            # Comments only: the posts' own rows are as they were, so nothing to
            # render; the cached pages showing them are renewed, once.
            pagecache.invalidate()

    # Authors ------------------------------------------------------------------------

    def add_author(self, record: SourceAuthor) -> None:
        if record.key in self.authors:
            return
        if self.author is not None:
            self.authors[record.key] = self.author.pk
            return
        User = get_user_model()
        username = _username(record.username or record.display_name)
        user = User.objects.filter(username=username).first()
        if user is not None:
            self.report.count("authors", Outcome.UNCHANGED)
        else:
            first, _, last = record.display_name.strip().rpartition(" ")
            if not first:
                first, last = last, ""
            user = User(
                username=username,
                first_name=first[: max_length("first_name")],
                last_name=last[: max_length("last_name")],
                email=_email(record.email),
                is_staff=False,
            )
            user.set_unusable_password()
            user.save()
            self.report.count("authors", Outcome.CREATED)
        self.authors[record.key] = user.pk

    def author_of(self, record: SourcePost) -> int:
        if self.author is not None:
            return self.author.pk
        if record.author_key in self.authors:
            return self.authors[record.author_key]
        if self.fallback is None:
            owner = (
                get_user_model()
                .objects.filter(is_superuser=True, is_active=True)
                .order_by("pk")
                .first()
            )
            if owner is None:
                raise ImportFileError(
                    f"{_where(record)}: the post names no author this file describes, and "
                    "the site has no superuser to give it to: give --author USERNAME."
                )
            self.fallback = owner.pk
        return self.fallback

    # Posts --------------------------------------------------------------------------

    def flush_posts(self) -> None:
        batch, self.post_batch = self.post_batch, []
        if not batch:
            return
        self.at_batch("posts", batch)
        self.write_posts(batch)

    def write_posts(self, batch: list[SourcePost]) -> None:
        records: dict[str, SourcePost] = {}
        for record in batch:
            _check_post(record)
            if record.source_id in records or record.source_id in self.posts_in_file:
                self.report.skip(
                    "post", record.source_id, "it appears twice in the file", record.position
                )
                continue
            records[record.source_id] = record
            self.posts_in_file.add(record.source_id)
        found = {
            post.source_id: post
            for post in Post.objects.filter(source_id__in=list(records)).only(
                "pk", "source_id", "source_digest", "slug", "published_at", "body"
            )
        }
        new: list[tuple[Post, SourcePost]] = []
        changed: list[tuple[Post, SourcePost]] = []
        fetched_now: list[Post] = []
        for source_id, record in records.items():
            digest = record.digest()
            post = found.get(source_id)
            if post is not None and post.source_digest == digest:
                # Imported before without --fetch-media: its images are fetched now,
                # into the body as it stands here (staff may have edited it since).
                # (An image that failed before is tried again.)
                remote = [url for url in record.images if url in post.body]
                body = self.localised(post.body, remote, record.position)
                if body != post.body:
                    post.body = body
                    fetched_now.append(post)
                else:
                    self.report.count("posts", Outcome.UNCHANGED)
                continue
            if post is None:
                post = Post(source_id=source_id, author_id=self.author_of(record))
                new.append((post, record))
            else:
                changed.append((post, record))
            post.title = record.title
            post.body = self.localised(record.body, record.images, record.position)
            post.status = Post.Status(record.status.value)
            post.published_at = record.published_at
            post.allow_comments = record.allow_comments
            post.source_digest = digest
        self.give_slugs(new)
        Post.objects.bulk_create([post for post, _ in new])
        fields = ["title", "body", "status", "published_at", "allow_comments", "source_digest"]
        Post._base_manager.bulk_update([post for post, _ in changed], fields)
        Post._base_manager.bulk_update(fetched_now, ["body"])
        self.report.count("posts", Outcome.UPDATED, len(fetched_now))
        for post in fetched_now:
            self.writes.add(post.pk)
        # auto_now stamped the clock on insert: the export's own time (or publication).
        written = new + changed
        for post, record in written:
            post.updated_at = record.updated_at or record.published_at
        Post._base_manager.bulk_update([post for post, _ in written], ["updated_at"])
        self.report.count("posts", Outcome.CREATED, len(new))
        self.report.count("posts", Outcome.UPDATED, len(changed))
        self.write_references(written, replacing=[post.pk for post, _ in changed])
        self.write_tags(written, replacing=[post.pk for post, _ in changed])
        for post, _ in written:
            self.writes.add(post.pk)  # the id: the scope holds no copy of the body
        self.posts.update((source_id, post.pk) for source_id, post in found.items())
        self.posts.update((post.source_id, post.pk) for post, _ in written)
        self.add_redirects(
            OldAddress(a.path, a.kind, a.target or record.source_id)
            for record in batch
            for a in record.old_addresses
        )

    # Pages --------------------------------------------------------------------------

    def write_page(self, record: SourcePost) -> None:
        """A page as a standalone page, through the write path (save_page, which joins
        the import's scope): few in any blog, so one at a time."""
        _check_post(record)
        self.left_out_posts[record.source_id] = PAGE_COMMENTS
        if record.source_id in self.pages:
            self.report.skip("page", record.source_id, "it appears twice in the file",
                             record.position)  # fmt: skip
            return
        digest = record.digest()
        page = Page.objects.filter(source_id=record.source_id).first()
        if page is not None and page.source_digest == digest:
            self.report.count("pages", Outcome.UNCHANGED)
        else:
            created = page is None
            if created:
                page = Page(source_id=record.source_id)
                page.slug = self.free_page_slug(record.slug or record.title)
            page.title = record.title or "Untitled page"
            page.body = self.localised(record.body, record.images, record.position)
            # A page has no schedule: one published for later is published now.
            published = record.status is PostStatus.PUBLISHED
            page.status = Page.Status.PUBLISHED if published else Page.Status.DRAFT
            page.source_digest = digest
            save_page(page)
            self.report.count("pages", Outcome.CREATED if created else Outcome.UPDATED)
        self.pages[record.source_id] = page.get_absolute_url()
        self.add_redirects(
            OldAddress(a.path, a.kind, a.target or record.source_id) for a in record.old_addresses
        )

    def free_page_slug(self, wanted: str) -> str:
        """The slug ``wanted`` (its old address's) if the site has no such address
        and no page has it, else one with "-2", "-3"… (or "page-…" for a number)."""
        base = slugify(wanted)[: PAGE_SLUG_MAX_LENGTH - 4].strip("-") or "page"
        if base.isdigit():
            base = f"page-{base}"

        def taken(slug: str) -> bool:
            return bool(page_slug_clash(slug)) or Page.objects.filter(slug=slug).exists()

        return free_slug(base, taken)

    def localised(self, body: str, images: Sequence[str], position: Position) -> str:
        """``body`` with ``images`` fetched into the media folder (--fetch-media)."""
        if self.localise is None or not images:
            return body
        result = self.localise(body, tuple(images))
        self.report.count("images", Outcome.CREATED, len(result.fetched))
        for url, reason in result.failures:
            self.report.skip("image", url, reason, position)
        return result.body

    def give_slugs(self, new: list[tuple[Post, SourcePost]]) -> None:
        """Each new post the record's slug if free, else one made unique as Post.save
        would (``-2``, ``-3``…): one look-up for the batch, one more per clash."""
        bases = {id(post): post.slug_base(record.slug) for post, record in new}
        taken = set(
            Post.objects.filter(slug__in=set(bases.values())).values_list("slug", flat=True)
        )
        for post, _ in new:
            base = bases[id(post)]
            slug = base
            if slug in taken or slug in self.slugs:
                used = taken | set(
                    Post.objects.filter(slug__startswith=f"{base}-").values_list("slug", flat=True)
                )
                slug = free_slug(base, lambda s, used=used: s in used or s in self.slugs)
            post.slug = slug
            self.slugs.add(slug)

    def write_references(self, written: list[tuple[Post, SourcePost]], replacing: list[int]):
        if replacing:
            Reference.objects.filter(post_id__in=replacing).delete()
        references = []
        for post, record in written:
            numbers: set[int] = set()
            for note in record.notes:
                # The first of a number counts; numbers the site cannot show are left.
                if note.number in numbers or not 1 <= note.number <= MAX_REFERENCE_NUMBER:
                    continue
                numbers.add(note.number)
                url = note.url if len(note.url) <= max_length("reference_url") else ""
                references.append(
                    Reference(post=post, number=note.number, citation=note.citation, url=url)
                )
        Reference.objects.bulk_create(references)

    def write_tags(self, written: list[tuple[Post, SourcePost]], replacing: list[int]) -> None:
        if replacing:
            TaggedPost.objects.filter(content_object_id__in=replacing).delete()
        tags = tag_posts({post.pk: _tag_names(record.tags) for post, record in written})
        for tag in tags.values():
            self.count_tag(tag)

    def count_tag(self, tag: Tag) -> None:
        if tag.pk not in self.tags_seen:
            self.tags_seen.add(tag.pk)
            new = tag.pk >= self.first_new_tag
            self.report.count("tags", Outcome.CREATED if new else Outcome.UNCHANGED)

    # Old addresses ------------------------------------------------------------------

    def add_redirects(self, addresses: Iterable[OldAddress]) -> None:
        wanted: dict[str, tuple] = {}
        for address in addresses:
            target = self.redirect_target(address)
            if target is None:
                continue
            earlier = self.redirect_paths.get(address.path)
            if earlier is not None:
                if earlier != target:
                    self.report.skip(
                        "redirect", address.path, "the file gives it two targets; the first kept"
                    )
                continue
            self.redirect_paths[address.path] = target
            wanted[address.path] = target
        if not wanted:
            return
        found = {r.old_path: r for r in Redirect.objects.filter(old_path__in=list(wanted))}
        new, changed = [], []
        for path, (post_pk, tag_pk, new_path) in wanted.items():
            redirect = found.get(path)
            if redirect is None:
                redirect = Redirect(old_path=path, source=self.platform)
                new.append(redirect)
            elif not redirect.source:
                self.report.skip("redirect", path, "made here by hand; left as it is")
                continue
            elif (redirect.post_id, redirect.tag_id, redirect.new_path) == (
                post_pk,
                tag_pk,
                new_path,
            ):
                self.report.count("redirects", Outcome.UNCHANGED)
                continue
            else:
                changed.append(redirect)
            redirect.post_id, redirect.tag_id, redirect.new_path = post_pk, tag_pk, new_path
        Redirect.objects.bulk_create(new)
        Redirect.objects.bulk_update(changed, ["post", "tag", "new_path"])
        self.report.count("redirects", Outcome.CREATED, len(new))
        self.report.count("redirects", Outcome.UPDATED, len(changed))

    def redirect_target(self, address: OldAddress) -> tuple[int | None, int | None, str] | None:
        """(post id, tag id, path): where the old address now leads; None (said in the
        report) when it leads nowhere here."""
        path = address.path
        if not path.startswith("/") or len(path) > max_length("path"):
            self.report.skip("redirect", path[:80], "not a path this site can answer")
            return None
        if address.kind is Kind.POST:
            post_pk = self.posts.get(address.target)
            if post_pk is None:
                return None  # its post was left out, and said so
            return (post_pk, None, "")
        if address.kind is Kind.PAGE:
            page_path = self.pages.get(address.target)
            return None if page_path is None else (None, None, page_path)
        if address.kind is Kind.TAG:
            names = _tag_names([address.target])
            if not names:
                self.report.skip("redirect", path, "names no tag")
                return None
            tag = tags_named(names)[names[0]]
            self.count_tag(tag)
            return (None, tag.pk, "")
        if address.kind is Kind.FEED:
            # Blogger's feeds are Atom (RSS when asked), WordPress's RSS.
            rss = self.platform == "wordpress" or "rss" in path.lower()
            return (None, None, reverse("blog:feed-rss" if rss else "blog:feed-atom"))
        if address.kind is Kind.COMMENTS_FEED:
            return (None, None, reverse("blog:feed-comments"))
        if address.kind is Kind.AUTHOR and address.target in self.authors:
            return (None, None, self.author_page(self.authors[address.target]))
        # Kind.HOME, and an author the file does not describe.
        return (None, None, reverse("blog:post-index"))

    def author_page(self, user_pk: int) -> str:
        """The path of the account's author page, its profile made now if it has none
        yet (the write path would make it with the account's first post)."""
        if user_pk not in self.author_pages:
            Author.objects.ensure_for([user_pk])
            self.author_pages[user_pk] = Author.objects.get(user=user_pk).get_absolute_url()
        return self.author_pages[user_pk]

    # Comments -----------------------------------------------------------------------

    def flush_comments(self) -> None:
        self.flush_posts()  # their posts first
        batch, self.comment_batch = self.comment_batch, []
        if batch:
            self.write_comments(batch, last_call=False)

    def write_comments(self, batch: list[SourceComment], *, last_call: bool) -> None:
        self.at_batch("comments", batch)
        unknown = {c.post_source_id for c in batch} - set(self.posts) - set(self.left_out_posts)
        if unknown:
            # Posts imported earlier, which this file does not hold again.
            self.posts.update(
                Post.objects.filter(source_id__in=list(unknown)).values_list("source_id", "pk")
            )
        found = {
            row["source_id"]: row
            for row in Comment._base_manager.filter(
                source_id__in=[c.source_id for c in batch]
            ).values("pk", "source_id", "source_digest", "object_pk")
        }
        new: list[bulk.NewComment] = []
        parents: list[str] = []
        for record in batch:
            if len(record.source_id) > max_length("source_id") or not record.source_id:
                raise ImportFileError(f"{_where(record)}: the comment's id is empty or too long.")
            if record.source_id in self.comments or record.source_id in self.left_out_comments:
                self.report.skip(
                    "comment", record.source_id, "it appears twice in the file", record.position
                )
                continue
            reason = self.left_out_reason(record, last_call)
            if reason == "later":
                self.waiting.append(record)
                continue
            if reason:
                self.report.skip("comment", record.source_id, reason, record.position)
                self.left_out_comments[record.source_id] = record.parent_source_id
                continue
            post_pk = self.posts[record.post_source_id]
            digest = record.digest()
            row = found.get(record.source_id)
            if row is not None:
                self.comments[record.source_id] = row["pk"]
                if row["source_digest"] == digest:
                    self.report.count("comments", Outcome.UNCHANGED)
                else:
                    self.update_comment(row["pk"], record, digest)
                continue
            comment = self.new_comment(record, post_pk, digest)
            new.append(comment)
            parents.append(record.parent_source_id)
            self.comments[record.source_id] = -1  # known; its id follows
        pks = bulk.insert_comments(new, [None] * len(new), site=self.site)
        for comment, pk, parent in zip(new, pks, parents, strict=True):
            self.comments[comment.source_id] = pk
            self.new_replies[comment.post_pk].append((pk, parent))
        self.report.count("comments", Outcome.CREATED, len(new))
        self.comments_changed = self.comments_changed or bool(new)

    def left_out_reason(self, record: SourceComment, last_call: bool) -> str:
        if record.status in (CommentStatus.SPAM, CommentStatus.TRASH):
            return f"{record.status.value} on the old blog"
        if record.status not in (CommentStatus.APPROVED, CommentStatus.PENDING):
            return "its status is not one this site knows"
        if record.post_source_id in self.left_out_posts:
            return f"its post was not imported ({self.left_out_posts[record.post_source_id]})"
        if record.post_source_id not in self.posts:
            return "its post is not in the file" if last_call else "later"
        return ""

    def new_comment(self, record: SourceComment, post_pk: int, digest: str) -> bulk.NewComment:
        fields = _comment_fields(record)
        return bulk.NewComment(
            post_pk=post_pk,
            comment=record.text,
            submit_date=record.submit_date,
            ip_address=_ip(record.ip_address),
            user_id=self.commenter(record),
            source_id=record.source_id,
            source_digest=digest,
            **{**fields, "hold_reasons": tuple(fields["hold_reasons"])},
        )

    def update_comment(self, pk: int, record: SourceComment, digest: str) -> None:
        Comment._base_manager.filter(pk=pk).update(
            comment=record.text, source_digest=digest, **_comment_fields(record)
        )
        self.report.count("comments", Outcome.UPDATED)
        self.comments_changed = True

    def commenter(self, record: SourceComment) -> int | None:
        if not record.author_key:
            return None
        if self.author is not None:
            return self.author.pk
        return self.authors.get(record.author_key)

    # Threads ------------------------------------------------------------------------

    def place_threads(self) -> None:
        """Each discussion that got comments, placed afresh with the comments already
        there: the columns django-comments-xtd would have stored saving them one by one
        in the order they were written (blog.discussion.bulk)."""
        self.find_parents_imported_before()
        post_pks = sorted(self.new_replies)
        for start in range(0, len(post_pks), POST_BATCH):
            some = post_pks[start : start + POST_BATCH]
            discussions: dict[int, list] = defaultdict(list)
            for post_pk, member, columns in bulk.discussion_members(some):
                discussions[post_pk].append((member, columns))
            changes: dict[int, bulk.Columns] = {}
            for post_pk in some:
                changes.update(self.place_discussion(post_pk, discussions[post_pk]))
            bulk.update_columns(changes)

    def place_discussion(self, post_pk: int, rows: list) -> dict[int, bulk.Columns]:
        replies = {pk: self.parent_pk(parent) for pk, parent in self.new_replies.pop(post_pk)}
        members = [
            bulk.Member(m.pk, replies[m.pk], m.submit_date) if m.pk in replies else m
            for m, _ in rows
        ]
        placed = bulk.discussion_columns(members, self.max_level)
        threads_with_news = {placed[pk].thread_id for pk in replies}
        for thread in threads_with_news:
            outcome = Outcome.CREATED if thread in replies else Outcome.UPDATED
            self.report.count("threads", outcome)
        return {m.pk: placed[m.pk] for m, columns in rows if placed[m.pk] != columns}

    def parent_pk(self, source_id: str) -> int | None:
        """The comment a reply goes under: its parent, or the nearest ancestor imported."""
        for _ in range(len(self.left_out_comments) + 1):  # bounded: no circle loops
            if not source_id:
                return None
            if source_id in self.comments:
                return self.comments[source_id]
            source_id = self.left_out_comments.get(source_id, "")
        return None

    def find_parents_imported_before(self) -> None:
        """Parents a file does not hold again but an earlier import wrote."""
        wanted = {
            parent
            for replies in self.new_replies.values()
            for _, parent in replies
            if parent and parent not in self.comments and parent not in self.left_out_comments
        }
        wanted_list = sorted(wanted)
        for start in range(0, len(wanted_list), COMMENT_BATCH):
            self.comments.update(
                Comment._base_manager.filter(
                    source_id__in=wanted_list[start : start + COMMENT_BATCH]
                ).values_list("source_id", "pk")
            )

    # Errors -------------------------------------------------------------------------

    def at_batch(self, kind: str, batch: list) -> None:
        """Where to say a failure happened: rows are written a batch at a time."""
        first, last = batch[0], batch[-1]
        self.where = (
            _where(first)
            if len(batch) == 1
            else f"writing the {kind} read from {first.position} ({first.source_id}) "
            f"to {last.position} ({last.source_id})"
        )


def _where(record: Record) -> str:
    position: Position | None = getattr(record, "position", None)
    source_id = getattr(record, "source_id", "") or getattr(record, "key", "")
    kind = type(record).__name__.removeprefix("Source").lower()
    return f"{position or 'the file'}: {kind} {source_id}".rstrip()


def _check_post(record: SourcePost) -> None:
    if not record.source_id or len(record.source_id) > max_length("source_id"):
        raise ImportFileError(f"{_where(record)}: the post's id is empty or too long.")
    if len(record.title) > max_length("title"):
        raise ImportFileError(
            f"{_where(record)}: the title is longer than {max_length('title')} characters."
        )
    if record.published_at.tzinfo is None:
        raise ImportFileError(f"{_where(record)}: the publication time has no time zone.")


def _tag_names(names: Iterable[str]) -> list[str]:
    """The names a tag can have here: trimmed, at most 100 characters, none empty."""
    cleaned = (name.strip()[: max_length("tag")].strip() for name in names)
    return [name for name in cleaned if name]


def _username(name: str) -> str:
    """A login name Django accepts, from what the export calls the author."""
    allowed = "".join(ch for ch in name.strip().replace(" ", "-") if ch.isalnum() or ch in "@.+-_")
    username = allowed[: max_length("username")] or "author"
    UnicodeUsernameValidator()(username)
    return username


def _email(value: str) -> str:
    value = value.strip()
    if not value or len(value) > max_length("email"):
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip())) if value else None
    except ValueError:
        return None


def _comment_fields(record: SourceComment) -> dict[str, Any]:
    """The columns an export's comment sets, made to fit them (a name is cut to 50
    characters; an address too long or not one is left out)."""
    pending = record.status is CommentStatus.PENDING
    url = record.author_url.strip()
    return {
        "user_name": record.author_name.strip()[: max_length("name")],
        "user_email": _email(record.author_email),
        "user_url": url if len(url) <= max_length("url") else "",
        "is_public": not pending,
        "hold_reasons": [HELD_ON_OLD_BLOG] if pending else [],
    }
