"""Full-text search: the search document table, each engine's index over it, and the
documents of the posts already there.

SQLite: an FTS5 table reading its text from blog_searchdocument (external content),
kept in step by triggers on that table. PostgreSQL: a text search configuration that
folds accents and stems English, and a GIN index on the same weighted tsvector
expression blog.search.PostgresEngine queries with.
"""

import django.db.models.deletion
from django.db import migrations, models

FTS = "blog_search_fts"
DOCUMENTS = "blog_searchdocument"
COLUMNS = ("title", "tags", "body", "citations")
GIN_INDEX = "blog_search_vector_idx"
# English stemming after accents are folded ("naive" finds "naïve"), as on SQLite.
CONFIG = "blog_english"
CONFIG_STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} "
    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
]


def _fts_statements() -> list[str]:
    cols = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    delete_old = (
        f"INSERT INTO {FTS}({FTS}, rowid, {cols}) VALUES ('delete', old.post_id, {old});"  # nosec B608 # the module's own constant names
    )
    insert_new = f"INSERT INTO {FTS}(rowid, {cols}) VALUES (new.post_id, {new});"  # nosec B608 # the module's own constant names
    return [
        # The Porter stemmer over unicode61: "inspections" finds "inspection"; accents
        # are folded ("naive" finds "naïve").
        f"CREATE VIRTUAL TABLE {FTS} USING fts5({cols}, content='{DOCUMENTS}', "
        "content_rowid='post_id', tokenize='porter unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {FTS}_ai AFTER INSERT ON {DOCUMENTS} BEGIN {insert_new} END",
        f"CREATE TRIGGER {FTS}_ad AFTER DELETE ON {DOCUMENTS} BEGIN {delete_old} END",
        f"CREATE TRIGGER {FTS}_au AFTER UPDATE ON {DOCUMENTS} BEGIN {delete_old} {insert_new} END",
    ]


def _gin_index():
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    weights = zip(COLUMNS, "ABCD", strict=True)
    vector = None
    for column, weight in weights:
        part = SearchVector(column, weight=weight, config=CONFIG)
        vector = part if vector is None else vector + part
    return GinIndex(vector, name=GIN_INDEX)


def create_index(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in _fts_statements():
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        for statement in CONFIG_STATEMENTS:
            schema_editor.execute(statement)
        schema_editor.add_index(apps.get_model("blog", "SearchDocument"), _gin_index())


def drop_index(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for trigger in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS}_{trigger}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")
        schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")


def index_posts(apps, schema_editor) -> None:
    from blog.markup import plain_text

    Post = apps.get_model("blog", "Post")
    TaggedPost = apps.get_model("blog", "TaggedPost")
    Reference = apps.get_model("blog", "Reference")
    SearchDocument = apps.get_model("blog", "SearchDocument")
    for post in Post.objects.all():
        tags = TaggedPost.objects.filter(content_object=post).values_list("tag__name", flat=True)
        citations = Reference.objects.filter(post=post).order_by("number")
        SearchDocument.objects.create(
            post=post,
            title=post.title,
            tags=", ".join(sorted(tags)),
            body=plain_text(post.body_html),
            citations="\n".join(citations.values_list("citation", flat=True)),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0004_reference_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "post",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="blog.post",
                    ),
                ),
                ("title", models.TextField(blank=True)),
                ("tags", models.TextField(blank=True)),
                ("body", models.TextField(blank=True)),
                ("citations", models.TextField(blank=True)),
            ],
        ),
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(index_posts, migrations.RunPython.noop),
    ]
