"""What import_blogger and import_wordpress share: the arguments, the progress bar and
the closing report."""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError, CommandParser

from . import import_file
from .records import ImportFileError


class ImportCommand(BaseCommand):
    platform = ""  # "blogger" or "wordpress"
    export_name = ""  # what the person importing knows the file as

    @property
    def help(self) -> str:
        return (
            f"Import {self.export_name} into the site, in one transaction: posts, authors, "
            "tags, comments with their threads and the old addresses. Running it again "
            "changes only what the export changed. Posts whose author the file does not "
            "name go to --author, else to the site's first superuser."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", type=Path, help="The export file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; change nothing."
        )
        parser.add_argument(
            "--author",
            metavar="USERNAME",
            help="Give every post to this account instead of making accounts for the authors.",
        )
        parser.add_argument(
            "--fetch-media",
            action="store_true",
            help="Download the posts' images and store them as uploaded images "
            "(else they stay links).",
        )
        parser.add_argument(
            "--details",
            action="store_true",
            help="List every item left out, with its reason, instead of counting reasons.",
        )

    def handle(self, *args, **options) -> None:
        author = None
        if options["author"]:
            User = get_user_model()
            author = User.objects.filter(**{User.USERNAME_FIELD: options["author"]}).first()
            if author is None:
                raise CommandError(f"There is no account {options['author']!r}.")
        path: Path = options["file"]
        try:
            size = path.stat().st_size
            stream = path.open("rb")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}.") from error
        bar = self.progress_bar(size, options["verbosity"])
        try:
            with stream:
                report = import_file(
                    stream,
                    self.platform,
                    author=author,
                    dry_run=options["dry_run"],
                    fetch_media=options["fetch_media"],
                    progress=bar.update_to if bar else None,
                )
        except ImportFileError as error:
            raise CommandError(f"{path}: {error}") from error
        finally:
            if bar is not None:
                bar.close()
        if options["verbosity"]:
            self.stdout.write(report.as_text(details=options["details"]))

    def progress_bar(self, size: int, verbosity: int):
        """A bar over the file's bytes, on a terminal only (a log gets the report)."""
        if not verbosity or not self.stdout.isatty():
            return None
        from tqdm import tqdm

        class Bar(tqdm):
            def update_to(self, done: int) -> None:
                self.update(done - self.n)

        return Bar(
            total=size, unit="B", unit_scale=True, desc=self.platform, leave=False, file=sys.stderr
        )
