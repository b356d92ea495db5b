from django.core.management import BaseCommand

from blog.models import Post
from blog.writing import post_writes


class Command(BaseCommand):
    help = (
        "Index every post for search afresh, through the post write path (so the cached "
        "pages, search results among them, are renewed too). Writes through that path "
        "keep the index in step on their own; this is for rows written in bulk outside it."
    )

    def handle(self, *args, **options) -> None:
        with post_writes(revisions=False) as writes:
            writes.add_many(Post.objects.values_list("pk", flat=True))
            count = len(writes)
        self.stdout.write(self.style.SUCCESS(f"Indexed {count} posts for search."))
