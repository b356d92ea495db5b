from django.core.management import BaseCommand
from django.db import transaction

from blog.search import rebuild_index


class Command(BaseCommand):
    help = (
        "Index every post for search afresh. Saves and deletes keep the index in step on "
        "their own; this is for rows written in bulk, which send no signals."
    )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            count = rebuild_index()
        self.stdout.write(self.style.SUCCESS(f"Indexed {count} posts for search."))
