"""Indexes for the pages that read comments newest first: the comments feed (the newest
comments on any post) and the discussions page (each post's latest comment); checked
with the query plans of tests/test_query_plans.py.

Without them, SQLite read both through the index of the comments' content type, which
every comment on a post shares: every comment, sorted, at each request of the feed, and
for each post on the discussions page. With them each is a walk down an index in date
order that stops at its LIMIT.

The first also gives SQLite two columns to find a post's comments by (the post page's
discussion): Django writes the flags as bare "is_public" and NOT "is_removed", which
SQLite does not match against an index, so migration 0007's index, which puts them
before the content type, offers it the post alone and it preferred the content type.

Plain SQL on django_comments, a table of another app, as in migration 0007 (whose
notes on table rebuilds apply here too)."""

from django.db import migrations

POST_LATEST = "blog_comment_post_latest_idx"
NEWEST = "blog_comment_newest_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0007_comment_indexes"),
    ]

    operations = [
        # A post's comments, latest first: equality on the post (and its content type,
        # a join in CommentQuerySet.for_posts), then the date order.
        migrations.RunSQL(
            f'CREATE INDEX "{POST_LATEST}" ON "django_comments" '
            '("object_pk", "content_type_id", "submit_date")',
            f'DROP INDEX "{POST_LATEST}"',
        ),
        # The newest comments on posts, whichever post they are on.
        migrations.RunSQL(
            f'CREATE INDEX "{NEWEST}" ON "django_comments" ("content_type_id", "submit_date")',
            f'DROP INDEX "{NEWEST}"',
        ),
    ]
