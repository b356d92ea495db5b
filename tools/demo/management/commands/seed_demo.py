import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.management import BaseCommand, CommandError, CommandParser

from tools.demo.write import NotOnlyDemoData, replace_demo_data


def count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


@contextmanager
def statements_not_logged() -> Iterator[None]:
    """With DEBUG on (the development settings), Django keeps every statement with its
    parameters quoted in: for bulk inserts of this size that costs as much time and
    memory as the inserts themselves. Nothing here reads that log."""
    debug = settings.DEBUG
    settings.DEBUG = False
    try:
        yield
    finally:
        settings.DEBUG = debug


class Command(BaseCommand):
    help = (
        "Fill the site with demo data for trying it at scale: posts by the demo-data user "
        "over 2009-2018, with tags, references and threaded comments. The same arguments "
        "always make the same data; running again replaces the previous demo data. "
        "Refuses when the site has posts someone else wrote, unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--posts", type=count, default=200, help="Number of posts.")
        parser.add_argument(
            "--comments",
            type=count,
            default=2000,
            help="Number of comments. From 1,200 up, demo-thread-1000 gets 1,000 of them "
            "and demo-thread-200 200.",
        )
        parser.add_argument("--seed", type=int, default=1, help="Seed for the random choices.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add the demo data even though the site has posts someone else wrote.",
        )

    def handle(self, *args, **options) -> None:
        if options["comments"] and not options["posts"]:
            raise CommandError("Comments need at least one post: give --posts 1 or more.")
        started = time.monotonic()
        try:
            with statements_not_logged():
                counts = replace_demo_data(
                    options["posts"], options["comments"], options["seed"], force=options["force"]
                )
        except NotOnlyDemoData as refusal:
            raise CommandError(str(refusal)) from refusal
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {counts.posts} posts, {counts.comments} comments, "
                f"{counts.references} references, {counts.taggings} taggings "
                f"in {seconds:.1f} s."
            )
        )
