"""The backup file of `manage.py backup` and `manage.py restore`: what it holds, its header,
and reading that header back.

A backup is one gzip file of JSON Lines: a header line (this format, its version, the
time, the Django version, the migrations the database was at, the rows of each model),
then every row in Django's own ``jsonl`` serialization. Rows keep their primary keys:
comments point at posts by a generic key holding the post's id, and threads point at
comments by id, so ids are part of the content. Only content types and permissions,
which ``migrate`` creates and whose ids differ from one database to another, are
referred to by natural key; so a backup made on SQLite restores into PostgreSQL and
back.

What is derived from the content is not in the file and is made afresh after a
restore, through the post write path (blog.writing): the rendered bodies, the search
documents and the page-cache token.

Writing a backup is in blog.operations.backup, putting one back in
blog.operations.restore.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.migrations.recorder import MigrationRecorder

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
    "blog.page",
    # Uploaded images (their rows: the files are under MEDIA_ROOT), where they are used,
    # and the authors' profiles, whose photos they are.
    "blog.image",
    "blog.rendition",
    "blog.author",
    # Revisions of posts and pages, with who made them: content, as the posts are.
    "reversion.revision",
    "reversion.version",
    "django_comments.comment",
    "django_comments_xtd.xtdcomment",
    "blog.comment",
    "django_comments.commentflag",
    "django_comments_xtd.blacklisteddomain",
    # The confirmation links already used: without them, a restore would let a link
    # publish again a comment deleted before the backup (digests only, see the model).
    "blog.usedconfirmationlink",
    # The old addresses of an imported blog, and any staff added: links from elsewhere.
    "blog.redirect",
    # Readers who follow by e-mail (after the tags they follow): without them, a restore
    # would silently stop every reader's e-mails, and they could not know to ask again.
    "blog.follower",
    # Which posts (and weeks' digests) have been mailed, or are to be (after the posts):
    # without them, a post restored would be mailed again the next time staff save it.
    "blog.mailing",
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
    "blog.pagesearchdocument": "derived from the pages; rebuilt after a restore",
    "blog.contentversion": "the page-cache token; replaced after a restore",
    "blog.previewlink": "links shared for a short time; a restore ends them, as it ends sign-ins",
    "blog.outgoingmail": "the e-mail sent and waiting (a row per follower per post): the "
    "live site's record, not content; a restore empties it, as it ends sign-ins",
    "django_tasks_database.dbtaskresult": "the task queue; a restore leaves it as it is "
    "(its tasks look at the rows when they run; `send_queued_mail` starts what is due)",
}
EXCLUDED_APPS: dict[str, str] = {
    "axes": "sign-in attempts: this server's security record, not the site's content",
}

# Rows referred to by natural key: migrate makes them, with ids of its own.
BY_NATURAL_KEY: frozenset[type[models.Model]] = frozenset({ContentType, Permission})


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


def default_directory() -> Path:
    return Path(settings.BLOG_BACKUP_DIR)


# Reading ------------------------------------------------------------------------


# What a cut-short or altered file raises while it is read.
DAMAGED = (OSError, EOFError, zlib.error, UnicodeDecodeError)


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
    except DAMAGED as error:
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
