"""Why a comment was held (blog.models.Comment.hold_reasons), kept when it is held, so
that moderators see the rules that held it. Comments held before have none: the admin
gives today's rules for them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0009_used_confirmation_links"),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="hold_reasons",
            field=models.JSONField(
                blank=True,
                default=list,
                editable=False,
                help_text=(
                    "Why the comment waited for approval when it was posted "
                    "(empty: it did not)."
                ),
                verbose_name="held because",
            ),
        ),
    ]
