"""The confirmation links already used (blog.models.UsedConfirmationLink): a link
publishes its comment once, whatever became of the comment since. A new table only;
nothing to copy."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0008_page_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="UsedConfirmationLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("used_at", models.DateTimeField(db_index=True)),
                ("comment_pk", models.BigIntegerField(null=True)),
            ],
        ),
    ]
