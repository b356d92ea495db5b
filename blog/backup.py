"""Backups of the site's content, and restoring one: `manage.py backup`, `manage.py restore`.

A backup is one gzip file of JSON Lines: a header line (this format, its version, the
time, the Django version, the migrations the database was at, the rows of each model),
then every row in Django's own ``jsonl`` serialization. Rows keep their primary keys:
comments point at posts by a generic key holding the post's id, and threads point at
comments by id, so ids are part of the content. Only content types and permissions,
which ``migrate`` creates and whose ids differ from one database to another, are
referred to by natural key; so a backup made on SQLite restores into PostgreSQL and
back.

What is derived from the content is not in the file and is made afresh after a
restore: the search documents (blog.search.rebuild_index) and the page-cache token
(blog.pagecache.invalidate).
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers import jsonl
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Prefetch
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.utils import timezone

FORMAT = "cpsw-blog-backup"
VERSION = 1
FILE_PREFIX = "cpsw-"
FILE_SUFFIX = ".jsonl.gz"

# The models a backup holds, each before the models that refer to it (the order rows
# are written and loaded in). blog.Comment is stored as django-comments' comment,
# comments-xtd's thread fields and the blog's own, one row in each of the three tables.
INCLUDED: tuple[str, ...] = (
    "auth.group",
    "auth.user",
    "sites.site",
    "taggit.tag",
    "taggit.taggeditem",
    "blog.post",
    "blog.reference",
    "blog.taggedpost",
    "django_comments.comment",
    "django_comments_xtd.xtdcomment",
    "blog.comment",
    "django_comments.commentflag",
    "django_comments_xtd.blacklisteddomain",
    # Who changed what in the admin: tied to the users (a restore replaces them), small,
    # and the only record of staff's edits.
    "admin.logentry",
)

# Every other model, and why it is not in a backup (tests/test_backup.py checks that
# each model of the project is in one list or the other).
EXCLUDED: dict[str, str] = {
    "contenttypes.contenttype": "created by migrate; backups refer to it by natural key",
    "auth.permission": "created by migrate; backups refer to it by natural key",
    "sessions.session": "sign-ins, not content; a restore ends them, as it replaces the users",
    "blog.searchdocument": "derived from the posts; rebuilt after a restore",
    "blog.contentversion": "the page-cache token; replaced after a restore",
}
EXCLUDED_APPS: dict[str, str] = {
    "axes": "sign-in attempts: this server's security record, not the site's content",
}

# Rows referred to by natural key: migrate makes them, with ids of its own.
BY_NATURAL_KEY: frozenset[type[models.Model]] = frozenset({ContentType, Permission})
CHUNK_SIZE = 2000


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why, for the user."""


@dataclass(frozen=True)
class Header:
    format: str
    version: int
    created_at: str
    django: str
    database: str
    migrations: dict[str, list[str]]
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def included_models() -> list[type[models.Model]]:
    return [apps.get_model(label) for label in INCLUDED]


def backup_apps() -> list[str]:
    return sorted({model._meta.app_label for model in included_models()})


def applied_migrations() -> dict[str, list[str]]:
    """The migrations applied to the database, by app, for the apps a backup holds."""
    applied = MigrationRecorder(connection).applied_migrations()
    wanted = backup_apps()
    return {app: sorted(name for a, name in applied if a == app) for app in wanted}


def current_counts() -> dict[str, int]:
    return {label: apps.get_model(label)._base_manager.count() for label in INCLUDED}


def holds_content(counts: dict[str, int]) -> bool:
    """Whether a restore would replace anything: the one Site row migrate makes is not
    content."""
    return any(n for label, n in counts.items() if label != "sites.site")


def describe(counts: dict[str, int]) -> str:
    """The counts a person cares about, in words: "7 posts, 12 comments, 2 users"."""
    names = [("blog.post", "post"), ("blog.comment", "comment"), ("auth.user", "user"),
             ("taggit.tag", "tag"), ("blog.reference", "reference")]  # fmt: skip
    return ", ".join(
        f"{counts.get(label, 0)} {noun}{'' if counts.get(label, 0) == 1 else 's'}"
        for label, noun in names
    )


# Writing ------------------------------------------------------------------------


class Encoder(DjangoJSONEncoder):
    """Django's encoder, but times to the microsecond (it cuts them to milliseconds, as
    JavaScript's dates are): comments written in the same millisecond keep their
    order, and every time comes back as it was."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        return super().default(o)


class Serializer(jsonl.Serializer):
    """Django's JSON Lines, with natural keys only for content types and permissions:
    every other row keeps its id, so the rest refer to each other by id, as the
    database does."""

    def handle_fk_field(self, obj: models.Model, field: models.Field) -> None:
        self.use_natural_foreign_keys = field.related_model in BY_NATURAL_KEY
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj: models.Model, field: models.Field) -> None:
        self.use_natural_foreign_keys = field.related_model in BY_NATURAL_KEY
        super().handle_m2m_field(obj, field)


def _rows(model: type[models.Model]) -> Iterator[models.Model]:
    """The model's rows by id, with what the serializer reads of related rows fetched
    in the same queries, and many-to-many values in a fixed order."""
    queryset = model._base_manager.order_by("pk")
    natural = [
        field.name
        for field in model._meta.local_fields
        if field.is_relation and field.related_model in BY_NATURAL_KEY
    ]
    if natural:
        queryset = queryset.select_related(*natural)
    for field in model._meta.local_many_to_many:
        if field.remote_field.through._meta.auto_created:
            related = field.related_model._base_manager.order_by("pk")
            if field.related_model is Permission:
                related = related.select_related("content_type")
            queryset = queryset.prefetch_related(Prefetch(field.name, queryset=related))
    return queryset.iterator(chunk_size=CHUNK_SIZE)


def write_rows(stream, header: Header) -> None:
    stream.write(json.dumps(asdict(header), ensure_ascii=False) + "\n")
    serializer = Serializer()
    for label in INCLUDED:
        serializer.serialize(_rows(apps.get_model(label)), stream=stream, cls=Encoder)


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of every table, even while the site takes comments (SQLite
    gives a transaction one; PostgreSQL, at its default level, one per statement)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _file_name(directory: Path, now: datetime.datetime) -> Path:
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path, n = directory / f"{FILE_PREFIX}{stamp}{FILE_SUFFIX}", 2
    while path.exists():
        path, n = directory / f"{FILE_PREFIX}{stamp}-{n}{FILE_SUFFIX}", n + 1
    return path


def write_backup(directory: Path) -> tuple[Path, Header]:
    """Back up the content to a new file in ``directory``, readable by its owner only
    (it holds password hashes and commenters' e-mail addresses). The file appears whole
    or not at all."""
    directory = Path(directory)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"Cannot create the backup directory {directory}: {error}") from error
    now = timezone.now()
    with _snapshot():
        header = Header(
            format=FORMAT,
            version=VERSION,
            created_at=now.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
            django=django.get_version(),
            database=connection.vendor,
            migrations=applied_migrations(),
            counts=current_counts(),
        )
        # mkstemp makes the file 0600 before anything is written to it.
        descriptor, temporary = tempfile.mkstemp(prefix=".partial-", dir=directory)
        try:
            with (
                os.fdopen(descriptor, "wb") as raw,
                gzip.open(raw, "wt", compresslevel=6, encoding="utf-8", newline="\n") as stream,
            ):
                write_rows(stream, header)
            path = _file_name(directory, now)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return path, header


# Reading ------------------------------------------------------------------------


_DAMAGED = (OSError, EOFError, zlib.error, UnicodeDecodeError)


def read_header(path: Path) -> Header:
    """The backup's header, once the whole file has been read and found complete:
    a missing, damaged or foreign file is refused before anything is changed."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            first = stream.readline()
        header = _parse_header(first, path)
        lines = 0
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                lines += chunk.count(b"\n")
    except gzip.BadGzipFile as error:
        raise BackupError(f"{path} is not a backup: it is not a gzip file ({error}).") from error
    except _DAMAGED as error:
        raise BackupError(
            f"{path} is damaged (cut short or altered: {error}); nothing was restored."
        ) from error
    if lines - 1 != header.total:
        raise BackupError(
            f"{path} is incomplete: its header announces {header.total} rows, "
            f"the file holds {lines - 1}; nothing was restored."
        )
    return header


def _parse_header(line: str, path: Path) -> Header:
    foreign = BackupError(f"{path} is not a backup made by `manage.py backup` of this site.")
    try:
        data = json.loads(line)
    except ValueError:
        raise foreign from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise foreign
    if data.get("version") != VERSION:
        raise BackupError(
            f"{path} is a backup in version {data.get('version')!r} of the format; "
            f"this site reads version {VERSION}."
        )
    try:
        header = Header(**data)
    except TypeError:
        raise foreign from None
    if not isinstance(header.counts, dict) or set(header.counts) - set(INCLUDED):
        raise foreign
    return header


def check_schema(header: Header, path: Path) -> None:
    """Refuse a backup of a database at other migrations: its rows would not fit."""
    here = applied_migrations()
    differences = [
        f"{app}: {_latest(header.migrations.get(app))} in the backup, {_latest(here.get(app))} here"
        for app in sorted(set(here) | set(header.migrations))
        if sorted(header.migrations.get(app) or []) != sorted(here.get(app) or [])
    ]
    if differences:
        raise BackupError(
            f"{path} was made from a database at other migrations than this one "
            f"({'; '.join(differences)}). Restore it with the version of the site that "
            "made it, or bring this database to the same migrations first."
        )


def _latest(names: list[str] | None) -> str:
    return max(names) if names else "no migration"


# Restoring ----------------------------------------------------------------------


@contextmanager
def model_signals_muted() -> Iterator[None]:
    """No save receivers while a backup loads, in this process: the rows go in as they
    were, and what is derived from them is rebuilt once at the end. Through the
    receivers, as loaddata goes, every row is re-rendered, re-indexed or renews the
    page-cache token: 2 min 20 s of CPU for 2,000 posts and 20,000 comments, against
    under 20 s here. (The receivers that send e-mail, blog.moderation's and
    comments-xtd's, return early on raw saves anyway.)"""
    signals = (pre_save, post_save, m2m_changed)
    kept = [signal.receivers for signal in signals]
    try:
        for signal in signals:
            signal.receivers = []
            signal.sender_receivers_cache.clear()
        yield
    finally:
        for signal, receivers in zip(signals, kept, strict=True):
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()


def _replaced_tables() -> list[str]:
    """Every table a restore empties: the content, its many-to-many tables, the search
    documents built from it and the sessions of the users it replaces."""
    tables = []
    for model in included_models():
        tables.append(model._meta.db_table)
        tables += [
            field.remote_field.through._meta.db_table
            for field in model._meta.local_many_to_many
            if field.remote_field.through._meta.auto_created
        ]
    tables.append(apps.get_model("blog.searchdocument")._meta.db_table)
    if apps.is_installed("django.contrib.sessions"):
        tables.append(apps.get_model("sessions.session")._meta.db_table)
    return tables


def _empty_tables() -> None:
    statements = connection.ops.sql_flush(
        no_style(), _replaced_tables(), reset_sequences=False, allow_cascade=False
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL will not TRUNCATE a table with foreign-key checks still pending
            # from earlier writes in the same transaction: settle them first.
            connection.check_constraints()
        for statement in statements:
            cursor.execute(statement)


def _load(lines: Iterable[str]) -> Counter:
    """Save every row as loaddata does (raw, then the references it had to defer)."""
    loaded: Counter = Counter()
    deferred = []
    for row in serializers.deserialize("jsonl", lines, handle_forward_references=True):
        label = row.object._meta.label_lower
        if label not in INCLUDED:
            raise BackupError(f"The backup holds rows of {label}, which no backup includes.")
        row.save(force_insert=True)
        loaded[label] += 1
        if row.deferred_fields:
            deferred.append(row)
    for row in deferred:
        row.save_deferred_fields()
    return loaded


def _reset_sequences() -> None:
    """New rows after a restore get ids above the restored ones (PostgreSQL's sequences
    do not follow rows inserted with their ids; SQLite's do)."""
    statements = connection.ops.sequence_reset_sql(no_style(), included_models())
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _rebuild_derived() -> None:
    from .pagecache import invalidate
    from .search import rebuild_index
    from .sites import sync_site

    rebuild_index()
    # The domain is this server's configuration, not content (as after migrate).
    sync_site()
    invalidate()


def restore_backup(path: Path, header: Header) -> Counter:
    """Replace the content with the backup's, in one transaction: on any error
    nothing has changed. ``header`` is read_header()'s, checked by check_schema()."""
    path = Path(path)
    try:
        with (
            transaction.atomic(),
            model_signals_muted(),
            gzip.open(path, "rt", encoding="utf-8") as stream,
        ):
            stream.readline()  # the header
            _empty_tables()
            loaded = _load(stream)
            if dict(loaded) != {label: n for label, n in header.counts.items() if n}:
                raise BackupError(
                    f"{path} does not hold the rows its header announces; nothing was restored."
                )
            connection.check_constraints(table_names=_replaced_tables())
            _reset_sequences()
            _rebuild_derived()
    except BackupError:
        raise
    except serializers.base.DeserializationError as error:
        raise BackupError(f"{path} has a row this site cannot read ({error}); "
                          "nothing was restored.") from error  # fmt: skip
    except IntegrityError as error:
        raise BackupError(
            f"{path} does not fit this database ({error}); nothing was restored."
        ) from error
    except DatabaseError as error:
        raise BackupError(
            f"The database refused the restore ({error}); nothing was restored."
        ) from error
    except _DAMAGED as error:
        raise BackupError(f"{path} is damaged ({error}); nothing was restored.") from error
    return loaded


def default_directory() -> Path:
    return Path(settings.BLOG_BACKUP_DIR)
