"""Writing a backup (`manage.py backup`): every row the file format holds
(blog.operations.backup_file), from one consistent view of the database, to a file that
appears whole or not at all."""

from __future__ import annotations

import datetime
import gzip
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import django
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.serializers import jsonl
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Prefetch
from django.utils import timezone

from .backup_file import (
    BY_NATURAL_KEY,
    FILE_PREFIX,
    FILE_SUFFIX,
    FORMAT,
    INCLUDED,
    VERSION,
    BackupError,
    Header,
    applied_migrations,
    current_counts,
)

CHUNK_SIZE = 2000


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
