"""Search over the standalone pages: their search documents and, on SQLite, an FTS5
table over them kept in step by triggers, as migration 0005 made for the posts.
PostgreSQL needs no index: pages are few (blog.search.PostgresEngine.page_matches)."""

import django.db.models.deletion
from django.db import migrations, models

FTS = "blog_page_search_fts"
DOCUMENTS = "blog_pagesearchdocument"
COLUMNS = ("title", "body")


def _fts_statements() -> list[str]:
    cols = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    delete_old = f"INSERT INTO {FTS}({FTS}, rowid, {cols}) VALUES ('delete', old.page_id, {old});"  # nosec B608 # the module's own constant names
    insert_new = f"INSERT INTO {FTS}(rowid, {cols}) VALUES (new.page_id, {new});"  # nosec B608 # the module's own constant names
    return [
        # As the posts' table: the Porter stemmer over unicode61, accents folded.
        f"CREATE VIRTUAL TABLE {FTS} USING fts5({cols}, content='{DOCUMENTS}', "
        "content_rowid='page_id', tokenize='porter unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {FTS}_ai AFTER INSERT ON {DOCUMENTS} BEGIN {insert_new} END",
        f"CREATE TRIGGER {FTS}_ad AFTER DELETE ON {DOCUMENTS} BEGIN {delete_old} END",
        f"CREATE TRIGGER {FTS}_au AFTER UPDATE ON {DOCUMENTS} BEGIN {delete_old} {insert_new} END",
    ]


def create_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for statement in _fts_statements():
            schema_editor.execute(statement)


def drop_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for trigger in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS}_{trigger}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")


def index_pages(apps, schema_editor) -> None:
    from blog.markup import plain_text

    Page = apps.get_model("blog", "Page")
    PageSearchDocument = apps.get_model("blog", "PageSearchDocument")
    PageSearchDocument.objects.bulk_create(
        PageSearchDocument(page=page, title=page.title, body=plain_text(page.body_html))
        for page in Page.objects.all()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0015_author_profiles"),
    ]

    operations = [
        migrations.CreateModel(
            name="PageSearchDocument",
            fields=[
                (
                    "page",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="blog.page",
                    ),
                ),
                ("title", models.TextField(blank=True)),
                ("body", models.TextField(blank=True)),
            ],
        ),
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(index_pages, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="page",
            name="slug",
            field=models.SlugField(
                help_text="The page's address: /slug/. It may not be one the site already uses (tags, search, a year…). One exception: a page with the slug “privacy” is not a page of its own; its text is shown on the privacy page, above the figures the site's settings give.",
                max_length=80,
                unique=True,
            ),
        ),
    ]
