"""Putting a backup back (`manage.py restore`): the content replaced by the file's, in
one transaction, then what is derived from it made afresh. The file is checked first by
blog.operations.backup_file's read_header() and check_schema()."""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.management.color import no_style
from django.db import DatabaseError, IntegrityError, connection
from django.db.models.signals import m2m_changed, post_save, pre_save

from ..models import Page, Post
from ..sites import sync_site
from ..writing import post_writes
from .backup_file import DAMAGED, INCLUDED, BackupError, Header, included_models


@contextmanager
def model_signals_muted() -> Iterator[None]:
    """No save receivers while a backup loads, in this process: the rows go in as they
    were, and what is derived from them is rebuilt once at the end. Through the
    receivers, as loaddata goes, every row is re-rendered, re-indexed or renews the
    page-cache token: 2 min 20 s of CPU for 2,000 posts and 20,000 comments, against
    under 20 s here. (The receivers that send e-mail, blog.discussion.moderation's and
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
    documents built from it, the preview links shared of its posts and the sessions of
    the users it replaces (a restore ends both), and the e-mail sent and waiting, which
    refers to the followers and mailings it replaces."""
    tables = []
    for model in included_models():
        tables.append(model._meta.db_table)
        tables += [
            field.remote_field.through._meta.db_table
            for field in model._meta.local_many_to_many
            if field.remote_field.through._meta.auto_created
        ]
    tables.append(apps.get_model("blog.searchdocument")._meta.db_table)
    tables.append(apps.get_model("blog.pagesearchdocument")._meta.db_table)
    tables.append(apps.get_model("blog.previewlink")._meta.db_table)
    # The outbox refers to the followers and mailings restored: emptied with them.
    tables.append(apps.get_model("blog.outgoingmail")._meta.db_table)
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


def restore_backup(path: Path, header: Header) -> Counter:
    """Replace the content with the backup's, in one transaction: on any error
    nothing has changed. ``header`` is read_header()'s, checked by check_schema()."""
    path = Path(path)
    try:
        # The one write path (blog.writing): every post restored is rendered and
        # indexed, and the page cache's token renewed, once, when all rows are in.
        with (
            # The backup brings its own revisions: putting it back writes none.
            post_writes(revisions=False) as writes,
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
            writes.add_many(Post.objects.values_list("pk", flat=True))
            for page in Page.objects.values_list("pk", flat=True):
                writes.add_page(page)
            # The domain is this server's configuration, not content (as after migrate).
            sync_site()
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
    except DAMAGED as error:
        raise BackupError(f"{path} is damaged ({error}); nothing was restored.") from error
    return loaded
