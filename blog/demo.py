"""Demo data for trying the site at scale (``manage.py seed_demo``).

Two halves: ``plan`` decides everything from the arguments alone (a
``random.Random`` per purpose, dates from fixed anchors, never the clock), so the same
arguments always make the same posts, tags, references and threads; ``write`` puts a
plan into the database with bulk inserts, filling every derived column (rendered HTML,
reference keys, search documents, the library's thread columns) as the saves and
signals it bypasses would have.

Demo data is marked as such: its posts are written by the ``demo-data`` user, their
slugs start with ``demo-``, each body opens by saying where it came from, and its
commenters are "Demo reader N" at addresses under ``example.invalid``.

How the comments are shared out (``comment_counts``): with 1,200 comments or more the
first post (``demo-thread-1000``) gets 1,000 and the second (``demo-thread-200``) 200;
with fewer, those two get five eighths and one eighth of them. The rest go to the other
posts unevenly: about half get none, the others a heavy-tailed share.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import slugify
from django_comments.models import Comment as BaseComment
from django_comments.models import CommentFlag
from django_comments_xtd.conf import settings as xtd_settings
from django_comments_xtd.models import XtdComment
from taggit.models import Tag

from . import pagecache
from .markup import render_markdown
from .models import SLUG_MAX_LENGTH, Comment, Post, Reference, SearchDocument, TaggedPost
from .search import document_fields

DEMO_USERNAME = "demo-data"
SLUG_PREFIX = "demo-"
OPENING = "*Demo data, made by `manage.py seed_demo`: not a real post.*"
READER_DOMAIN = "example.invalid"

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
FAMOUS_WORK_SHARE = 0.05  # references citing one of a few well-known works
MAX_TAGS, MAX_REFERENCES = 4, 4
WITHOUT_COMMENTS_SHARE = 0.5
# The spread of the others' shares: a few get hundreds, most a handful.
COMMENT_WEIGHT_SIGMA = 0.9
# Replies go mostly to recent comments, as conversations do.
RECENT_PARENTS = 8
READERS_PER_COMMENT = 15

BATCH_SIZE = 1000
COMMENT_BATCH_SIZE = 10_000

# The April 2014 fixture's tags first, so its tag pages grow with the demo data.
TAGS = (
    "blame culture", "children’s services", "inspection", "learning organisations",
    "mandatory reporting", "Ofsted", "outsourcing", "profession", "research", "retention",
    "statistics", "workforce",
    "adoption", "agency staff", "assessment", "caseloads", "child protection conferences",
    "domestic abuse", "early help", "family courts", "looked-after children",
    "Munro review", "neglect", "performance indicators", "reflective practice", "risk",
    "safeguarding partnerships", "serious case reviews", "social work education",
    "supervision", "thresholds", "Working Together",
)  # fmt: skip

SUBJECTS = (
    "Social workers", "Local authorities", "Ofsted inspectors", "Ministers",
    "Frontline managers", "Family support workers", "Independent reviewing officers",
    "Children’s services", "Safeguarding partnerships", "Health visitors", "Schools",
    "Family courts", "Agency staff", "Newly qualified social workers", "Team managers",
    "Inspectors", "Researchers", "Parents", "Young people", "Foster carers",
)  # fmt: skip
VERBS = (
    "need", "describe", "question", "depend on", "rarely see", "struggle with",
    "argue for", "worry about", "report on", "underestimate", "value", "measure",
    "inherit", "rely on", "overlook", "have to balance", "talk about", "learn from",
)  # fmt: skip
OBJECTS = (
    "caseloads", "the threshold for intervention", "reflective supervision",
    "the assessment framework", "serious case reviews", "early help",
    "the inspection regime", "mandatory reporting", "staff turnover", "the evidence base",
    "performance indicators", "child protection plans", "care proceedings",
    "multi-agency working", "written records", "home visits", "the duty desk", "risk",
    "the views of children", "mistakes", "the cost of agency staff", "thresholds",
)  # fmt: skip
TAILS = (
    "", "", "", " in practice", " more than ever", " across England",
    " after the last inspection", " without enough time", " when budgets are cut",
    " at the front door", " in the long run", " year after year",
    ", or so the figures suggest", " because the system asks them to",
)  # fmt: skip
OPENERS = (
    "", "", "", "", "However, ", "In my experience, ", "Of course, ", "Even so, ",
    "As I argued before, ", "Put simply, ", "Meanwhile, ", "It seems to me that ",
)  # fmt: skip
TITLES = (
    "{Object} and {object}", "Why {object} matters", "A note on {object}",
    "{Object} – again?", "What {subject} say about {object}", "More on {object}",
    "{Object}: the wrong approach", "Thinking about {object}", "{Object} under pressure",
)  # fmt: skip
COMMENT_OPENERS = (
    "I agree. ", "Thank you for this. ", "I am not so sure. ", "Exactly. ",
    "This rings true. ", "A good question. ", "", "", "",
)  # fmt: skip
QUESTIONS = (
    "How does your team decide what counts as {object}?",
    "What would help your service with {object}?",
    "Has {object} changed where you work?",
)
SURNAMES = (
    "Adams", "Brown", "Clarke", "Davies", "Evans", "Fisher", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Morgan", "Nolan", "Owen", "Patel", "Quinn", "Roberts",
    "Shah", "Taylor", "Usher", "Vaughan", "Walker", "Young",
)  # fmt: skip
PUBLISHERS = (
    "Department for Education", "Ofsted", "NSPCC", "Community Care",
    "British Journal of Social Work", "Child & Family Social Work", "Research in Practice",
    "Local Government Association", "Policy Press",
)  # fmt: skip
# Works many posts cite, so "cited elsewhere" and the reference index have something
# to group.
FAMOUS_WORKS = (
    "Munro, E. (2011) The Munro Review of Child Protection: Final Report. "
    "Department for Education.",
    "Laming, Lord (2003) The Victoria Climbié Inquiry. The Stationery Office.",
    "Laming, Lord (2009) The Protection of Children in England: A Progress Report. "
    "The Stationery Office.",
    "HM Government (2013) Working Together to Safeguard Children. Department for Education.",
    "NSPCC (2014) How safe are our children?",
    "Social Work Reform Board (2010) Building a safe and confident future.",
    "Senge, P. (1990) The Fifth Discipline. Doubleday.",
    "Croisdale-Appleby, D. (2014) Re-visioning social work education.",
)  # fmt: skip


# The plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a comment sits in its post's discussion, as django-comments-xtd stores it,
    with comments named by their index in the order they were written."""

    root: int  # the thread's top-level comment (thread_id)
    parent: int  # the comment replied to; itself for a top-level one (parent_id)
    level: int
    order: int  # position in the thread, depth first, replies in the order written
    nested_count: int  # replies, replies to them, and so on


def thread_places(parents: Sequence[int | None]) -> list[Place]:
    """The library's thread columns for comments written in this order, each replying to
    an earlier one (its index) or to none. django-comments-xtd puts a new reply after
    everything already under its parent and counts it in every ancestor's
    ``nested_count``: a thread's ``order`` is its depth-first order."""
    count = len(parents)
    roots, levels = [0] * count, [0] * count
    children: list[list[int]] = [[] for _ in range(count)]
    for i, parent in enumerate(parents):
        if parent is None:
            roots[i] = i
        else:
            if not 0 <= parent < i:
                raise ValueError(f"Comment {i} replies to {parent}, not an earlier comment.")
            roots[i], levels[i] = roots[parent], levels[parent] + 1
            children[parent].append(i)
    # A reply comes after its parent, so one backward pass adds up each subtree.
    sizes = [1] * count
    for i in range(count - 1, -1, -1):
        if parents[i] is not None:
            sizes[parents[i]] += sizes[i]
    orders = [0] * count
    for root in (i for i, parent in enumerate(parents) if parent is None):
        stack, position = [root], 0
        while stack:
            i = stack.pop()
            position += 1
            orders[i] = position
            stack.extend(reversed(children[i]))
    return [
        Place(
            root=roots[i],
            parent=i if parents[i] is None else parents[i],
            level=levels[i],
            order=orders[i],
            nested_count=sizes[i] - 1,
        )
        for i in range(count)
    ]


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


def _mid_sentence(subject: str) -> str:
    """The subject as written after other words: names keep their capital."""
    return subject if subject.startswith("Ofsted") else subject[0].lower() + subject[1:]


class _Writer:
    """Plausible-looking text from the fixed vocabularies above."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def sentence(self, marker: str = "") -> str:
        choice = self.rng.choice
        opener, subject = choice(OPENERS), choice(SUBJECTS)
        if opener:
            subject = _mid_sentence(subject)
        return f"{opener}{subject} {choice(VERBS)} {choice(OBJECTS)}{choice(TAILS)}{marker}."

    def paragraph(self, sentences: int, markers: Sequence[str] = ()) -> str:
        slots = [""] * sentences
        for marker in markers:
            slots[self.rng.randrange(sentences)] += marker
        return " ".join(self.sentence(slot) for slot in slots)

    def title(self) -> str:
        subject = _mid_sentence(self.rng.choice(SUBJECTS))
        obj = self.rng.choice(OBJECTS)
        return self.rng.choice(TITLES).format(
            subject=subject, object=obj, Object=obj[0].upper() + obj[1:]
        )

    def citation(self) -> PlannedReference:
        rng = self.rng
        if rng.random() < FAMOUS_WORK_SHARE:
            return PlannedReference(0, rng.choice(FAMOUS_WORKS), "")
        words = self.title()
        year = rng.randint(1995, 2018)
        author = f"{rng.choice(SURNAMES)}, {rng.choice('ABCDEFGHJKLMNPRSTW')}."
        citation = f"{author} ({year}) {words}. {rng.choice(PUBLISHERS)}."
        url = ""
        if rng.random() < 0.6:
            url = f"https://{READER_DOMAIN}/{year}/{slugify(words)}"
        return PlannedReference(0, citation, url)


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
        writer = _Writer(rng)
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


def _body(writer: _Writer, numbers: Sequence[int]) -> str:
    rng = writer.rng
    paragraphs = rng.randint(2, 7)
    markers: list[list[str]] = [[] for _ in range(paragraphs)]
    for number in numbers:
        markers[rng.randrange(paragraphs)].append(f" [{number}]")
    text = [writer.paragraph(rng.randint(2, 7), markers[p]) for p in range(paragraphs)]
    return "\n\n".join([OPENING, *text])


def _discussion(
    post: PlannedPost, count: int, n_comments: int, rng: random.Random, writer: _Writer
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
        answers = [c for c in comments if c.parent is None and c.is_public and not c.is_removed]
        for comment in answers[: rng.randint(1, 2)]:
            comment.is_highlighted = True
    return comments


# Writing it -------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    posts: int = 0
    comments: int = 0
    references: int = 0
    taggings: int = 0


class NotOnlyDemoData(Exception):
    """The database holds posts someone wrote: demo data would be mixed in with them."""


def replace_demo_data(n_posts: int, n_comments: int, seed: int, *, force: bool = False) -> Counts:
    """Replace the demo data with the plan for these arguments, all or nothing. Refuses
    (NotOnlyDemoData) when other people's posts are there, unless ``force``."""
    planned = plan(n_posts, n_comments, seed)
    with transaction.atomic():
        if not force:
            check_only_demo_data()
        check_free_slugs(planned)
        author = demo_user()
        remove(author)
        counts = write(planned, author)
        # Bulk inserts send no signals: the cached pages must be dropped here.
        pagecache.invalidate()
    return counts


def demo_user():
    """The demo data's author: no password anyone can use, no access to the admin."""
    user, created = get_user_model().objects.get_or_create(
        username=DEMO_USERNAME,
        defaults={"first_name": "Demo", "last_name": "data", "is_staff": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def other_posts() -> models.QuerySet[Post]:
    """Posts not written by the demo user."""
    return Post.objects.exclude(author__username=DEMO_USERNAME)


def check_only_demo_data() -> None:
    count = other_posts().count()
    if count:
        example = other_posts().order_by("published_at", "pk").first()
        raise NotOnlyDemoData(
            f"The database holds {count} post{'s' if count != 1 else ''} not written by "
            f"{DEMO_USERNAME} (the oldest: “{example.display_title}”, by "
            f"{example.author.get_username()}). Demo data would be mixed in with them; "
            "run again with --force to add it alongside."
        )


def remove(author) -> None:
    """Delete the demo user's posts with their comments, references, taggings and
    search documents (tags stay).

    In single statements that send no signals: deleting through the ORM would load
    every row and, for each, send the signals that re-render, re-index and invalidate
    the page cache (tens of thousands of times); the caller invalidates once instead.
    The tables are emptied children first, as the cascade would."""
    posts = Post.objects.filter(author=author)
    post_keys = posts.order_by().annotate(key=Cast("pk", models.CharField())).values("key")
    comment_ids = BaseComment._base_manager.filter(
        content_type=ContentType.objects.get_for_model(Post), object_pk__in=post_keys
    ).values("pk")
    # Flags are rare and may have dependents of their own: the ORM's way.
    CommentFlag.objects.filter(comment__in=comment_ids).delete()
    for model in (Comment, XtdComment, BaseComment):
        _delete_in_one_statement(model._base_manager.filter(pk__in=comment_ids))
    for relation in Post._meta.related_objects:
        dependents = relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__in": posts.values("pk")}
        )
        if relation.related_model._meta.related_objects:
            dependents.delete()  # rows of their own to cascade to: the ORM's way
        else:
            _delete_in_one_statement(dependents)
    _delete_in_one_statement(posts)


def _delete_in_one_statement(queryset: models.QuerySet) -> None:
    """DELETE the queryset's rows in one statement, with no signals and no cascade."""
    model = queryset.model
    quote = connection.ops.quote_name
    ids_sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(model._meta.db_table)} "  # nosec B608 # quoted names from _meta; values are parameters
            f"WHERE {quote(model._meta.pk.column)} IN ({ids_sql})",
            params,
        )


def check_free_slugs(planned: Iterable[PlannedPost]) -> None:
    taken = set(other_posts().filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True))
    clashes = sorted(taken.intersection(p.slug for p in planned))
    if clashes:
        raise NotOnlyDemoData(
            f"Posts not written by {DEMO_USERNAME} already use the demo addresses "
            f"{', '.join(clashes[:5])}; rename them first."
        )


def write(planned: Sequence[PlannedPost], author) -> Counts:
    """Insert the plan in bulk, in the caller's transaction."""
    posts = [
        Post(
            title=p.title,
            slug=p.slug,
            author=author,
            body=p.body,
            # What Post.save() would store: the body rendered with its reference numbers.
            body_html=render_markdown(p.body, [r.number for r in p.references]),
            status=p.status,
            published_at=p.published_at,
            allow_comments=True,
            call_for_answers=p.call_for_answers,
        )
        for p in planned
    ]
    Post.objects.bulk_create(posts, batch_size=BATCH_SIZE)
    # auto_now stamped the clock; an edit date no later than publication is a fixed one.
    Post.objects.filter(author=author).update(updated_at=F("published_at"))

    references = [
        Reference(post=post, number=r.number, citation=r.citation, url=r.url)
        for post, p in zip(posts, planned, strict=True)
        for r in p.references
    ]
    Reference.objects.bulk_create(references, batch_size=BATCH_SIZE)

    tags = _tags({name for p in planned for name in p.tags})
    taggings = [
        TaggedPost(content_object=post, tag=tags[name])
        for post, p in zip(posts, planned, strict=True)
        for name in p.tags
    ]
    TaggedPost.objects.bulk_create(taggings, batch_size=BATCH_SIZE)

    SearchDocument.objects.bulk_create(
        [
            SearchDocument(
                post=post,
                **document_fields(
                    post, (tags[name].name for name in p.tags), (r.citation for r in p.references)
                ),
            )
            for post, p in zip(posts, planned, strict=True)
        ],
        batch_size=BATCH_SIZE,
    )
    comments = _write_comments(posts, planned)
    return Counts(len(posts), comments, len(references), len(taggings))


def _tags(names: Iterable[str]) -> dict[str, Tag]:
    """The named tags, made when missing; found regardless of case, as taggit does here
    (TAGGIT_CASE_INSENSITIVE)."""
    found = {}
    for name in sorted(names):
        tag = Tag.objects.filter(name__iexact=name).order_by("pk").first()
        found[name] = tag or Tag.objects.create(name=name)
    return found


def _write_comments(posts: Sequence[Post], planned: Sequence[PlannedPost]) -> int:
    """The comments of every post: the library's base rows in bulk (whose ids come
    back), then the two tables below them with the thread columns the library would
    have computed one save at a time."""
    site = Site.objects.get_current()
    content_type = ContentType.objects.get_for_model(Post)
    total, in_batch = 0, 0
    batch: list[tuple[Post, PlannedPost]] = []
    for post, p in zip(posts, planned, strict=True):
        batch.append((post, p))
        total += len(p.comments)
        in_batch += len(p.comments)
        # In batches, so memory stays bounded whatever the number of comments.
        if in_batch >= COMMENT_BATCH_SIZE:
            _write_comment_batch(batch, site, content_type)
            batch, in_batch = [], 0
    if batch:
        _write_comment_batch(batch, site, content_type)
    return total


def _write_comment_batch(
    batch: Sequence[tuple[Post, PlannedPost]], site: Site, content_type: ContentType
) -> None:
    rows = [
        BaseComment(
            content_type=content_type,
            object_pk=str(post.pk),
            site=site,
            user_name=c.user_name,
            user_email=c.user_email,
            user_url="",
            comment=c.text,
            submit_date=c.submit_date,
            is_public=c.is_public,
            is_removed=c.is_removed,
        )
        for post, p in batch
        for c in p.comments
    ]
    BaseComment.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    ids = iter(row.pk for row in rows)
    xtd_rows, blog_rows = [], []
    for _, p in batch:
        pks = [next(ids) for _ in p.comments]
        places = thread_places([c.parent for c in p.comments])
        for pk, place, c in zip(pks, places, p.comments, strict=True):
            xtd_rows.append(
                {
                    "comment_ptr": pk,
                    "thread_id": pks[place.root],
                    "parent_id": pks[place.parent],
                    "level": place.level,
                    "order": place.order,
                    "followup": False,
                    "nested_count": place.nested_count,
                }
            )
            blog_rows.append({"xtdcomment_ptr": pk, "is_highlighted": c.is_highlighted})
    _insert_own_rows(XtdComment, xtd_rows)
    _insert_own_rows(Comment, blog_rows)


def _insert_own_rows(model: type[models.Model], rows: Sequence[dict[str, object]]) -> None:
    """Insert into ``model``'s own table (not its parents'): bulk_create cannot for a
    multi-table model. Columns not given get their field's default. The values given
    are plain integers and booleans, which every backend takes as they are."""
    if not rows:
        return
    fields = model._meta.local_concrete_fields
    unknown = set(rows[0]) - {f.name for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no column for {sorted(unknown)}.")
    given = [f.name for f in fields if f.name in rows[0]]
    missing = [f for f in fields if f.name not in rows[0]]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in missing)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in given)
    columns = ", ".join([columns, *(quote(f.column) for f in missing)])
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # nosec B608 # quoted names from _meta; values are parameters
    values = [tuple(row[name] for name in given) + defaults for row in rows]
    with connection.cursor() as cursor:
        for start in range(0, len(values), BATCH_SIZE):
            cursor.executemany(sql, values[start : start + BATCH_SIZE])
