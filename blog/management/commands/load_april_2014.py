from django.core.management import BaseCommand, call_command

from blog.models import Post
from blog.writing import post_writes

FIXTURE = "april_2014"


class Command(BaseCommand):
    help = (
        "Fill an empty site with the April 2014 entries. A site that already has posts "
        "is left alone, so staff edits are never overwritten."
    )

    def handle(self, *args, **options) -> None:
        if Post.objects.exists():
            self.stdout.write("The site already has posts; the April 2014 fixture was not loaded.")
            return
        # loaddata saves raw rows: the scope takes every post they touch (blog.signals)
        # and renders, indexes and announces them once, when all are in.
        with post_writes(reason="Loaded from the April 2014 fixture"):
            call_command("loaddata", FIXTURE, verbosity=options["verbosity"])
        self.stdout.write(self.style.SUCCESS(f"Loaded {Post.objects.count()} posts."))
