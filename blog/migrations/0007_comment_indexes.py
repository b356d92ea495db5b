"""Indexes for the paged discussion (blog.discussion) and comment permalinks
(Comment.comment_page): their queries pick a post's published comments from
django_comments and its threads, in order, from django_comments_xtd_xtdcomment.

Both tables belong to other apps, whose models cannot declare our indexes, hence plain
SQL that SQLite and PostgreSQL both read. The names of tables and columns are written
out, as a migration must not change when the models do. SQLite rebuilds a table (and
drops indexes it does not know) when a migration alters it: should a later migration of
django_comments or django_comments_xtd do so, these indexes must be created again."""

from django.db import migrations

POST_COMMENTS = "blog_comment_post_visible_idx"
THREAD_ORDER = "blog_comment_thread_order_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0006_content_version"),
        ("django_comments", "0004_add_object_pk_is_removed_index"),
        ("django_comments_xtd", "0008_auto_20200920_2037"),
    ]

    operations = [
        # A post's published comments: equality on all four columns. The post's id
        # first, as it picks a few rows out of many; the content type last, as it is
        # often a join (CommentQuerySet.for_posts) rather than a value known beforehand.
        # (Led by content type and post, SQLite 3.40 stops using the submit_date index
        # for the comments feed and sorts every comment.)
        migrations.RunSQL(
            f'CREATE INDEX "{POST_COMMENTS}" ON "django_comments" '
            '("object_pk", "is_public", "is_removed", "content_type_id")',
            f'DROP INDEX "{POST_COMMENTS}"',
        ),
        # The comments of a page's threads, already in the order they are shown.
        migrations.RunSQL(
            f'CREATE INDEX "{THREAD_ORDER}" ON "django_comments_xtd_xtdcomment" '
            '("thread_id", "order")',
            f'DROP INDEX "{THREAD_ORDER}"',
        ),
    ]
