"""Posts rendered again: their [N] markers are now superscript links with an accessible
name (blog.markup.CitationProcessor), and their search text leaves the markers out
(blog.markup.plain_text). The stored HTML is what readers get, so it is rewritten here
rather than on each post's next save; a new page-cache token makes every page cached
with the old HTML unreachable."""

import secrets

from django.db import migrations
from django.utils import timezone


def render_again(apps, schema_editor) -> None:
    from blog.markup import render_markdown
    from blog.search import document_fields

    Post = apps.get_model("blog", "Post")
    Reference = apps.get_model("blog", "Reference")
    SearchDocument = apps.get_model("blog", "SearchDocument")
    ContentVersion = apps.get_model("blog", "ContentVersion")
    numbers: dict[int, list[int]] = {}
    for post_id, number in Reference.objects.values_list("post_id", "number"):
        numbers.setdefault(post_id, []).append(number)
    changed = []
    for post in Post.objects.only("title", "body", "body_html").iterator(chunk_size=500):
        html = render_markdown(post.body, numbers.get(post.pk, ()))
        if html != post.body_html:
            post.body_html = html
            changed.append(post)
    Post.objects.bulk_update(changed, ["body_html"], batch_size=500)
    for post in changed:
        # The body's searchable text as the write path's index makes it (its tags and
        # citations are unchanged here).
        SearchDocument.objects.filter(post_id=post.pk).update(
            body=document_fields(post, (), ())["body"]
        )
    if changed:
        ContentVersion.objects.filter(pk=1).update(
            token=secrets.token_hex(16), changed_at=timezone.now()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0010_comment_hold_reasons"),
    ]

    operations = [migrations.RunPython(render_again, migrations.RunPython.noop)]
