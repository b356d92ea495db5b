"""Each new post e-mailed to its followers, once, and the weekly digest.

Who announces a post. blog.writing calls ``announce`` when a scope a PERSON wrote in
closes (``post_writes(user=…)``: the admin's change form, its list's Publish action, a
revision restored); the scope's ``announce`` flag says so, and defaults to whether it
has a user. Writes with no person behind them mail nothing: an import (the commands and
the admin's import page alike), the April 2014 fixture, a backup restored, the demo
data, a rebuilt search index, a shell; nor do the media admin's re-renderings of posts
that show an image (they pass ``announce=False``: no post is published by them).

Which posts. A post published now or scheduled for later, whose publication time is
not more than a day past (``ANNOUNCE_WINDOW``): a post backdated into the archive is
not news, and is not mailed. A post is mailed once (its Mailing is unique): published,
unpublished and published again, it is not mailed a second time.

When. At the post's publication time, by a task (``run_mailing``) enqueued for then
with the write itself: a scheduled post going live needs no cron. The task looks at the
post when it runs: not live (unpublished, or moved later) it does nothing, and a later
task (enqueued when the time was moved) does it. Where the task backend cannot defer
(the unit tests'), `manage.py send_queued_mail` starts what is due (``start_due``).

Exactly once. ``run_mailing`` writes, in one transaction, one OutgoingMail row per
address (unique per mailing and follower, and per mailing and address: the idempotency
record), marks the mailing started and enqueues the rows' delivery (blog.outbox, which
claims each row before sending it and marks it sent as soon as the server took it). A
mailing started does not start again; a worker stopped half way through the delivery
leaves the rest queued, and sends them when it starts again, each once.

The e-mail. A mailing's rows keep no text: ``message_for`` builds each as it is sent.
What is the same for every follower is rendered once per mailing in a worker process
(``_rendered``, keyed by the mailing and the post's last change); each follower's own
unsubscribe link is then put in by string substitution, so a mailing to 10,000
followers renders its templates a handful of times, not 10,000.

Digest. Followers who chose a weekly digest get, once a week, the posts published that
week (Monday to Sunday on the site's calendar) that match what they follow; a week
with none sends nothing. The digest of a week is a Mailing (unique by week) due the
next Monday at 08:00, made by ``ensure_digest_scheduled`` with its task for then: when
a weekly following is confirmed, by `send_queued_mail`, and by each digest for the
week after it.

Finished. A mailing is finished when none of its e-mails is waiting or being sent:
blog.outbox marks it after each batch (``outbox.finish_mailings``), one UPDATE.
"""

from __future__ import annotations

import datetime
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django_tasks import task

from .. import outbox
from ..discussion.mail import subject as post_subject
from ..discussion.plaintext import one_line
from ..markup import IMG_TAG, absolutize
from ..models import Follower, Mailing, OutgoingMail, Post, TaggedPost
from ..sites import absolute_url
from . import links

# A post published by a person with a publication time further back than this is an
# archive post (backdated): it is not mailed.
ANNOUNCE_WINDOW = datetime.timedelta(days=1)
# Followers read, and rows written, this many at a time: a mailing to 10,000 holds no
# more than this many rows in memory, in 10,000 / CHUNK inserts.
CHUNK = 500
# The digest of a week goes out the Monday after, at this hour on the site's clock.
DIGEST_HOUR = 8
# What stands for each follower's own unsubscribe link in an e-mail rendered once for
# all of them: letters and dashes only, so that escaping leaves it as it is.
UNSUBSCRIBE_MARK = "cpsw-unsubscribe-link-7f3c9a"
# E-mails rendered (one per mailing and kind of following), kept in this process.
RENDERED_KEPT = 64

Kind = OutgoingMail.Kind


# Announcing and starting a post's mailing --------------------------------------------


def announce(posts: Iterable[Post]) -> list[Mailing]:
    """Give each post published (now or for later) within ``ANNOUNCE_WINDOW`` its
    mailing, and enqueue its start for its publication time. Mailings already started
    are left alone; one not yet started follows its post's time. Returns the mailings
    waiting to start. No query for drafts and older posts."""
    now = timezone.now()
    due = {
        post.pk: post.published_at
        for post in posts
        if post.status == Post.Status.PUBLISHED and post.published_at >= now - ANNOUNCE_WINDOW
    }
    if not due:
        return []
    # Unique by post: a mailing made by a concurrent write, or earlier, is kept.
    Mailing.objects.bulk_create(
        [Mailing(kind=Mailing.Kind.POST, post_id=pk, due_at=when) for pk, when in due.items()],
        ignore_conflicts=True,
    )
    waiting = list(Mailing.objects.filter(post_id__in=due, started_at__isnull=True).order_by("pk"))
    moved = [mailing for mailing in waiting if mailing.due_at != due[mailing.post_id]]
    for mailing in moved:
        mailing.due_at = due[mailing.post_id]
    if moved:
        Mailing.objects.bulk_update(moved, ["due_at"])
    for mailing in waiting:
        # Each write enqueues one: a task for a time since changed finds the post not
        # yet live, or the mailing started, and does nothing.
        schedule(mailing)
    return waiting


def schedule(mailing: Mailing) -> bool:
    """Enqueue the start of ``mailing`` for its due time (now, if that has come). False
    when the task backend cannot defer: `send_queued_mail` starts it when due."""
    run_after = mailing.due_at if mailing.due_at > timezone.now() else None
    start = run_digest if mailing.kind == Mailing.Kind.DIGEST else run_mailing
    return outbox.enqueue_task(start, mailing.pk, run_after=run_after)


@task()
def run_mailing(mailing_id: int) -> int:
    """Start a post's mailing if its post is live: one e-mail per follower's address,
    sent by the outbox. Returns the number of e-mails queued (0: not started)."""
    with transaction.atomic():
        mailing = _lock_waiting(mailing_id, Mailing.Kind.POST)
        if mailing is None:
            return 0
        post = Post.objects.filter(pk=mailing.post_id).only("status", "published_at").first()
        if post is None or not post.is_public:
            # Unpublished, or moved later: the task enqueued for its new time starts it.
            return 0
        return _start(mailing, Kind.NEW_POST, post_followers(post))


def post_followers(post: Post) -> QuerySet[Follower]:
    """The confirmed followers of each new post who follow all posts or one of
    ``post``'s tags."""
    tags = TaggedPost.objects.filter(content_object_id=post.pk).values("tag_id")
    return Follower.objects.filter(
        confirmed_at__isnull=False, frequency=Follower.Frequency.EACH_POST
    ).filter(Q(tag__isnull=True) | Q(tag_id__in=tags))


def _lock_waiting(mailing_id: int, kind: str) -> Mailing | None:
    """The mailing, locked for this transaction, if it is of ``kind`` and not started:
    of two workers starting it, the second finds it started and does nothing."""
    return (
        Mailing.objects.select_for_update()
        .filter(pk=mailing_id, kind=kind, started_at__isnull=True)
        .first()
    )


def _start(mailing: Mailing, kind: str, followers: QuerySet[Follower]) -> int:
    """Write one row per address among ``followers`` for ``mailing`` (the following of
    all posts chosen over a tag's, for what the e-mail says and its unsubscribe link),
    mark it started and enqueue the rows. A fixed number of queries, whatever the
    number of followers, but for one insert every CHUNK rows and one task every
    outbox.BATCH_SIZE; CHUNK rows in memory at most, and their ids."""
    now = timezone.now()
    addresses = (
        followers.order_by("email", F("tag_id").asc(nulls_first=True), "pk")
        .values_list("pk", "email")
        .iterator(chunk_size=CHUNK)
    )
    batch: list[OutgoingMail] = []
    last = None
    for pk, email in addresses:
        if email == last:
            continue
        last = email
        batch.append(
            OutgoingMail(
                kind=kind,
                to=email,
                mailing=mailing,
                follower_id=pk,
                next_attempt_at=now,
                created_at=now,
            )
        )
        if len(batch) >= CHUNK:
            OutgoingMail.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        OutgoingMail.objects.bulk_create(batch, ignore_conflicts=True)
    rows = list(
        OutgoingMail.objects.filter(mailing=mailing).order_by("pk").values_list("pk", "status")
    )
    waiting = [pk for pk, status in rows if status == OutgoingMail.Status.QUEUED]
    mailing.started_at = now
    mailing.recipients = len(rows)
    mailing.finished_at = None if waiting else now
    mailing.save(update_fields=["started_at", "recipients", "finished_at"])
    outbox.enqueue(waiting)
    return len(waiting)


# The weekly digest ---------------------------------------------------------------------


def week_of(moment: datetime.datetime) -> datetime.date:
    """The Monday of ``moment``'s week on the site's calendar."""
    day = timezone.localtime(moment).date()
    return day - datetime.timedelta(days=day.weekday())


def week_bounds(week: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The week starting on Monday ``week``: from its midnight to the next Monday's,
    on the site's clock (a week with a change of clocks is an hour shorter or longer)."""
    return _local(week), _local(week + datetime.timedelta(days=7))


def digest_due(week: datetime.date) -> datetime.datetime:
    """When the digest of ``week`` goes out: the next Monday at DIGEST_HOUR."""
    return _local(week + datetime.timedelta(days=7), datetime.time(DIGEST_HOUR))


def _local(day: datetime.date, at: datetime.time = datetime.time.min) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, at))


def ensure_digest_scheduled(week: datetime.date | None = None) -> Mailing | None:
    """The digest of ``week`` (this week by default), made with its task for when it
    is due if there was none. None when no one has a confirmed weekly following: the
    next confirmation calls this again."""
    weekly = Follower.objects.filter(
        confirmed_at__isnull=False, frequency=Follower.Frequency.WEEKLY
    )
    if not weekly.exists():
        return None
    week = week or week_of(timezone.now())
    mailing, created = Mailing.objects.get_or_create(
        week=week, defaults={"kind": Mailing.Kind.DIGEST, "due_at": digest_due(week)}
    )
    if created:
        schedule(mailing)
    return mailing


@task()
def run_digest(mailing_id: int) -> int:
    """Start a week's digest once the week is over: one e-mail per address following
    (weekly) all posts or a tag that one of the week's posts carries; none if no post
    was published that week. Then the next week's digest is scheduled. Returns the
    number of e-mails queued."""
    with transaction.atomic():
        mailing = _lock_waiting(mailing_id, Mailing.Kind.DIGEST)
        if mailing is None or mailing.due_at > timezone.now():
            return 0
        posts = week_posts(mailing.week)
        followers = Follower.objects.none()
        if posts.exists():
            tags = TaggedPost.objects.filter(content_object__in=posts).values("tag_id")
            followers = Follower.objects.filter(
                confirmed_at__isnull=False, frequency=Follower.Frequency.WEEKLY
            ).filter(Q(tag__isnull=True) | Q(tag_id__in=tags))
        queued = _start(mailing, Kind.DIGEST, followers)
        # The week after this one (not "this week": a digest started late must not
        # skip the week between).
        ensure_digest_scheduled(mailing.week + datetime.timedelta(days=7))
    return queued


def week_posts(week: datetime.date) -> QuerySet[Post]:
    start, end = week_bounds(week)
    return Post.objects.published().filter(published_at__gte=start, published_at__lt=end)


# What `send_queued_mail` does for mailings -------------------------------------------


def start_due() -> int:
    """Start every mailing whose time has come and that has not started (where the
    task backend cannot defer, or a worker died before starting one), and make sure
    this week's digest is scheduled. Returns the number of e-mails queued."""
    queued = 0
    due = (
        Mailing.objects.filter(started_at__isnull=True, due_at__lte=timezone.now())
        .order_by("due_at", "pk")
        .values_list("pk", "kind")
    )
    for pk, kind in due:
        start = run_digest if kind == Mailing.Kind.DIGEST else run_mailing
        queued += start.call(pk)
    ensure_digest_scheduled()
    return queued


# The e-mails ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """An e-mail as every follower of one kind gets it, but for UNSUBSCRIBE_MARK."""

    subject: str
    text: str
    html: str


_rendered: OrderedDict[tuple, Rendered] = OrderedDict()


def message_for(row: OutgoingMail) -> EmailMultiAlternatives | None:
    """The e-mail a mailing's row stands for, to its follower; None when the follower
    has gone (unsubscribed: the row is then marked not sent) or is not confirmed.
    Raises outbox.NotSent when there is nothing left to send them (the post withdrawn)."""
    follower = row.follower
    if follower is None or follower.confirmed_at is None:
        return None
    mailing = row.mailing
    if mailing.kind == Mailing.Kind.DIGEST:
        rendered = _digest(mailing, follower)
    else:
        rendered = _new_post(mailing, follower)
    headers = links.unsubscribe_headers(follower)
    url = headers["List-Unsubscribe"][1:-1]  # signed once, for the header and the text
    message = EmailMultiAlternatives(
        rendered.subject,
        rendered.text.replace(UNSUBSCRIBE_MARK, url),
        settings.DEFAULT_FROM_EMAIL,
        [row.to],
        headers=headers,
    )
    message.attach_alternative(rendered.html.replace(UNSUBSCRIBE_MARK, escape(url)), "text/html")
    return message


def forget_rendered() -> None:
    """Forget the e-mails rendered and the weeks read in this process (for the tests,
    whose rolled-back rows give the next test's mailing the same id)."""
    _rendered.clear()
    _weeks.clear()


def _remembered(key: tuple, render) -> Rendered:
    rendered = _rendered.get(key)
    if rendered is None:
        rendered = _rendered[key] = render()
        while len(_rendered) > RENDERED_KEPT:
            _rendered.popitem(last=False)
    else:
        _rendered.move_to_end(key)
    return rendered


def _new_post(mailing: Mailing, follower: Follower) -> Rendered:
    post = mailing.post  # without its text (blog.outbox reads it so): enough to check
    if post is None or not post.is_public:
        raise outbox.NotSent("The post is no longer published.")
    key = ("post", mailing.pk, post.pk, post.updated_at, follower.tag_id)
    return _remembered(key, lambda: render_new_post(post.pk, follower))


def render_new_post(post_id: int, follower: Follower) -> Rendered:
    """The new-post e-mail for followers of ``follower``'s kind (all posts, or its tag),
    with UNSUBSCRIBE_MARK for their link."""
    post = (
        Post.objects.select_related("author__author_profile")
        .prefetch_related("references")
        .get(pk=post_id)
    )
    post_url = absolute_url(post.get_absolute_url())
    context = {
        **_common(follower, digest=False),
        "post": post,
        "post_url": post_url,
        "author_url": absolute_url(post.author_url) if post.author_url else "",
        "body_html": mark_safe(email_body_html(post.body_html, post_url)),  # nosec B308 B703 # the stored body, cleaned by nh3 again in absolutize
        "body_text": email_body_text(post.body),
        "references": list(post.references.all()),
        "subject": post_subject("New post:", post),
    }
    return Rendered(
        subject=context["subject"],
        text=render_to_string("blog/email/new_post.txt", context),
        html=render_to_string("blog/email/new_post.html", context),
    )


# Markdown links and images to the site's own paths: [text](/path) and [ref]: /path.
SITE_PATH_LINK = re.compile(r"(\]\(\s*<?|^\s{0,3}\[[^\]]+\]:\s*<?)(/(?!/))", re.MULTILINE)
# The inline style each image of a post gets in an e-mail, where <style> may be dropped.
IMAGE_STYLE = ' style="max-width:100%;height:auto;border:0;"'


def email_body_html(body_html: str, post_url: str) -> str:
    """A post's stored (sanitised) HTML for an e-mail: every address absolute (a link
    to a reference, #ref-1, leads to the post's page), every image no wider than the
    e-mail."""
    absolute = absolutize(body_html, post_url)
    return IMG_TAG.sub(lambda match: f"<img{match.group(1)}{IMAGE_STYLE}>", absolute)


def email_body_text(body: str) -> str:
    """A post's Markdown as the e-mail's plain text: as written (Markdown reads as
    text), with its links to the site's own pages made full addresses."""
    base = absolute_url("")
    return SITE_PATH_LINK.sub(lambda match: f"{match.group(1)}{base}{match.group(2)}", body)


def _common(follower: Follower, *, digest: bool) -> dict:
    tag = follower.tag if follower.tag_id else None
    return {
        "site_name": settings.SITE_NAME,
        "site_url": absolute_url(reverse("blog:post-index")),
        "tag": tag,
        "tag_url": absolute_url(reverse("blog:tag-detail", args=[tag.slug])) if tag else "",
        "digest": digest,
        "unsubscribe_url": UNSUBSCRIBE_MARK,
    }


# The digest's e-mail ---------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """What a digest's e-mails are made of, read once per mailing in a process: the
    week's posts and, for each address following weekly, the tags it follows (None:
    all posts)."""

    posts: list[Post]
    tags: dict[int, frozenset[int]]
    followings: dict[str, frozenset[int | None]]


_weeks: OrderedDict[int, Week] = OrderedDict()
WEEKS_KEPT = 2


def _week(mailing: Mailing) -> Week:
    week = _weeks.get(mailing.pk)
    if week is None:
        posts = list(
            week_posts(mailing.week)
            .select_related("author__author_profile")
            .order_by("published_at", "pk")
        )
        tags: dict[int, set[int]] = {post.pk: set() for post in posts}
        for post_id, tag_id in TaggedPost.objects.filter(content_object__in=posts).values_list(
            "content_object_id", "tag_id"
        ):
            tags[post_id].add(tag_id)
        followings: dict[str, set[int | None]] = {}
        for email, tag_id in Follower.objects.filter(
            confirmed_at__isnull=False, frequency=Follower.Frequency.WEEKLY
        ).values_list("email", "tag_id"):
            followings.setdefault(email, set()).add(tag_id)
        week = _weeks[mailing.pk] = Week(
            posts=posts,
            tags={pk: frozenset(ids) for pk, ids in tags.items()},
            followings={email: frozenset(ids) for email, ids in followings.items()},
        )
        while len(_weeks) > WEEKS_KEPT:
            _weeks.popitem(last=False)
    return week


def _digest(mailing: Mailing, follower: Follower) -> Rendered:
    week = _week(mailing)
    following = week.followings.get(follower.email, frozenset({follower.tag_id}))
    chosen = tuple(
        post for post in week.posts if None in following or following & week.tags[post.pk]
    )
    if not chosen:
        raise outbox.NotSent("None of the week's posts they follow is published now.")
    key = ("digest", mailing.pk, tuple(post.pk for post in chosen), follower.tag_id)
    return _remembered(key, lambda: render_digest(mailing, chosen, follower))


def render_digest(mailing: Mailing, posts: Iterable[Post], follower: Follower) -> Rendered:
    """The digest of ``mailing``'s week listing ``posts``, for followers of
    ``follower``'s kind, with UNSUBSCRIBE_MARK for their link."""
    posts = list(posts)
    start = mailing.week
    end = start + datetime.timedelta(days=6)
    entries = [
        {
            "post": post,
            "url": absolute_url(post.get_absolute_url()),
            "excerpt": post.excerpt,
        }
        for post in posts
    ]
    count = len(posts)
    title = f"{count} new post{'s' if count != 1 else ''} in the week of {start:%-d %B %Y}"
    context = {
        **_common(follower, digest=True),
        "entries": entries,
        "week_start": start,
        "week_end": end,
        "title": title,
        "subject": one_line(f"{title} – {settings.SITE_NAME}"),
    }
    return Rendered(
        subject=context["subject"],
        text=render_to_string("blog/email/digest.txt", context),
        html=render_to_string("blog/email/digest.html", context),
    )
