"""The plan half of the demo data: everything decided from the arguments alone (a
``random.Random`` per purpose, dates from fixed anchors, never the clock), so the same
arguments always make the same posts, tags, references and threads. tools.demo.write
puts a plan into the database.

How the comments are shared out (``comment_counts``): with 1,200 comments or more the
first post (``demo-thread-1000``) gets 1,000 and the second (``demo-thread-200``) 200;
with fewer, those two get five eighths and one eighth of them. The rest go to the other
posts unevenly: about half get none, the others a heavy-tailed share.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.text import slugify
from django_comments_xtd.conf import settings as xtd_settings

# Where the demo data's comments are placed, kept importable from here.
from blog.discussion.bulk import Place, thread_places  # noqa: F401
from blog.models import SLUG_MAX_LENGTH, Post, is_visible

from .words import COMMENT_OPENERS, OBJECTS, QUESTIONS, READER_DOMAIN, TAGS, Writer

DEMO_USERNAME = "demo-data"
SLUG_PREFIX = "demo-"
OPENING = "*Demo data, made by `manage.py seed_demo`: not a real post.*"

# The two long discussions, on fixed days outside April 2014, so that their addresses
# are the same at every size.
BIG_THREAD = ("demo-thread-1000", 1000, (2015, 6, 10))
MEDIUM_THREAD = ("demo-thread-200", 200, (2015, 6, 11))
FULL_THREADS_FROM = BIG_THREAD[1] + MEDIUM_THREAD[1]
# Below FULL_THREADS_FROM comments, the shares of the two long discussions (in eighths).
BIG_SHARE, MEDIUM_SHARE, EIGHTHS = 5, 1, 8

# Ten years, April 2014 (the fixture's month) among them: the month archive and the tag
# pages grow with the number of posts.
FIRST_DAY = datetime.date(2009, 1, 1)
LAST_DAY = datetime.date(2018, 12, 31)
# Posts go out in the day (no hour lost or repeated at a clock change).
FIRST_HOUR, LAST_HOUR = 7, 22

TOP_LEVEL_SHARE = 0.4
HIDDEN_SHARE = 0.01  # leaf comments held for moderation or removed
DRAFT_SHARE = 0.02
CALL_FOR_ANSWERS_SHARE = 0.05
MAX_TAGS, MAX_REFERENCES = 4, 4
WITHOUT_COMMENTS_SHARE = 0.5
# The spread of the others' shares: a few get hundreds, most a handful.
COMMENT_WEIGHT_SIGMA = 0.9
# Replies go mostly to recent comments, as conversations do.
RECENT_PARENTS = 8
READERS_PER_COMMENT = 15


@dataclass(frozen=True)
class PlannedReference:
    number: int
    citation: str
    url: str


@dataclass
class PlannedComment:
    parent: int | None  # index of the comment replied to, in the post's comments
    submit_date: datetime.datetime
    reader: int
    text: str
    is_public: bool = True
    is_removed: bool = False
    is_highlighted: bool = False

    @property
    def user_name(self) -> str:
        return f"Demo reader {self.reader}"

    @property
    def user_email(self) -> str:
        return f"demo-reader-{self.reader}@{READER_DOMAIN}"


@dataclass
class PlannedPost:
    title: str
    slug: str
    body: str
    published_at: datetime.datetime
    status: str
    call_for_answers: str
    tags: tuple[str, ...]
    references: tuple[PlannedReference, ...]
    comments: list[PlannedComment] = field(default_factory=list)


def london(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """That time of day on the site's calendar (Europe/London)."""
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=timezone.get_default_timezone()
    )


def comment_counts(
    n_posts: int, n_comments: int, rng: random.Random, drafts: Collection[int] = ()
) -> list[int]:
    """How many comments each post gets (see the module's docstring); none for the
    ``drafts``, which readers never saw. With only two posts that can have them, the
    first takes the rest."""
    if n_posts <= 0:
        return []
    if n_posts == 1:
        return [n_comments]
    if n_comments >= FULL_THREADS_FROM:
        big, medium = BIG_THREAD[1], MEDIUM_THREAD[1]
    else:
        big = n_comments * BIG_SHARE // EIGHTHS
        medium = n_comments * MEDIUM_SHARE // EIGHTHS
    rest = n_comments - big - medium
    counts = [big, medium] + [0] * (n_posts - 2)
    others = [i for i in range(2, n_posts) if i not in drafts]
    if not others:
        counts[0] += rest
        return counts
    weights = [
        0.0
        if rng.random() < WITHOUT_COMMENTS_SHARE
        else rng.lognormvariate(0.0, COMMENT_WEIGHT_SIGMA)
        for _ in others
    ]
    for i, share in zip(others, _share_out(rest, weights), strict=True):
        counts[i] = share
    return counts


def _share_out(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders round up)."""
    if not any(weights):
        weights = [1.0] * len(weights)
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def plan(n_posts: int, n_comments: int, seed: int) -> list[PlannedPost]:
    """Everything the demo data holds, from the arguments alone. Post ``i``'s text comes
    from its own random stream, so it is the same at every size."""
    if n_comments and not n_posts:
        raise ValueError("Comments need at least one post.")
    draft_rng = random.Random(f"{seed}:drafts")  # nosec B311 # seeded demo data, not a secret
    drafts = {i for i in range(2, n_posts) if draft_rng.random() < DRAFT_SHARE}
    counts = comment_counts(n_posts, n_comments, random.Random(f"{seed}:counts"), drafts)  # nosec B311 # seeded demo data, not a secret
    days = _post_days(n_posts, random.Random(f"{seed}:days"))  # nosec B311 # seeded demo data, not a secret
    posts = []
    for i in range(n_posts):
        rng = random.Random(f"{seed}:post:{i}")  # nosec B311 # seeded demo data, not a secret
        writer = Writer(rng)
        day = days[i]
        published_at = london(day, rng.randint(FIRST_HOUR, LAST_HOUR), rng.randrange(60))
        title = writer.title()
        if i == 0 or i == 1:
            slug, _, (year, month, dom) = BIG_THREAD if i == 0 else MEDIUM_THREAD
            published_at = london(datetime.date(year, month, dom), 10)
            title = f"Demo discussion: {title[0].lower()}{title[1:]}"
        else:
            slug = f"{SLUG_PREFIX}{i}-{slugify(title)}"[:SLUG_MAX_LENGTH]
        references = tuple(
            PlannedReference(n, ref.citation, ref.url)
            for n, ref in enumerate(
                (writer.citation() for _ in range(rng.randint(0, MAX_REFERENCES))), start=1
            )
        )
        question = ""
        if rng.random() < CALL_FOR_ANSWERS_SHARE:
            question = rng.choice(QUESTIONS).format(object=rng.choice(OBJECTS))
        post = PlannedPost(
            title=title,
            slug=slug,
            body=_body(writer, [n.number for n in references]),
            published_at=published_at,
            status=Post.Status.DRAFT if i in drafts else Post.Status.PUBLISHED,
            call_for_answers=question,
            tags=tuple(rng.sample(TAGS, rng.randint(1, MAX_TAGS))),
            references=references,
        )
        post.comments = _discussion(post, counts[i], n_comments, rng, writer)
        posts.append(post)
    return posts


def _post_days(n_posts: int, rng: random.Random) -> list[datetime.date]:
    """The first two posts' days are fixed (placeholders here); the others spread
    evenly over the ten years, oldest first, each at a random day of its own stretch."""
    others = max(n_posts - 2, 0)
    span = (LAST_DAY - FIRST_DAY).days + 1
    days = [
        FIRST_DAY + datetime.timedelta(days=int((k + rng.random()) * span / others))
        for k in range(others)
    ]
    return [FIRST_DAY] * min(n_posts, 2) + days


def _body(writer: Writer, numbers: Sequence[int]) -> str:
    rng = writer.rng
    paragraphs = rng.randint(2, 7)
    markers: list[list[str]] = [[] for _ in range(paragraphs)]
    for number in numbers:
        markers[rng.randrange(paragraphs)].append(f" [{number}]")
    text = [writer.paragraph(rng.randint(2, 7), markers[p]) for p in range(paragraphs)]
    return "\n\n".join([OPENING, *text])


def _discussion(
    post: PlannedPost, count: int, n_comments: int, rng: random.Random, writer: Writer
) -> list[PlannedComment]:
    """``count`` comments, about 40% starting threads, the others replying (mostly to
    recent comments) down to the library's deepest level."""
    max_level = xtd_settings.COMMENTS_XTD_MAX_THREAD_LEVEL
    readers = max(20, n_comments // READERS_PER_COMMENT)
    parents: list[int | None] = []
    levels: list[int] = []
    can_reply: list[int] = []  # comments above the deepest level
    for i in range(count):
        parent = None
        if can_reply and rng.random() >= TOP_LEVEL_SHARE:
            recent = rng.random() < 0.5
            parent = rng.choice(can_reply[-RECENT_PARENTS:] if recent else can_reply)
        parents.append(parent)
        levels.append(0 if parent is None else levels[parent] + 1)
        if levels[i] < max_level:
            can_reply.append(i)
    has_replies = {p for p in parents if p is not None}
    when = post.published_at + datetime.timedelta(minutes=rng.randint(20, 2 * 24 * 60))
    comments = []
    for i, parent in enumerate(parents):
        # Seconds apart at least: a thread's comments are dated in the order written.
        when += datetime.timedelta(seconds=30 + int(rng.expovariate(1 / (3 * 3600))))
        paragraphs = [writer.paragraph(rng.randint(1, 4)) for _ in range(rng.randint(1, 3))]
        comment = PlannedComment(
            parent=parent,
            submit_date=when,
            reader=1 + int(readers * rng.random() ** 2),
            text=rng.choice(COMMENT_OPENERS) + "\n\n".join(paragraphs),
        )
        # Only comments nobody answered are hidden: replies to a hidden comment would be
        # hidden with it, and the library would shift its thread's counts.
        if i not in has_replies and rng.random() < HIDDEN_SHARE:
            if rng.random() < 0.5:
                comment.is_removed = True
            else:
                comment.is_public = False
        comments.append(comment)
    if post.call_for_answers:
        answers = [c for c in comments if c.parent is None and is_visible(c)]
        for comment in answers[: rng.randint(1, 2)]:
            comment.is_highlighted = True
    return comments
