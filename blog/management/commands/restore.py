from pathlib import Path

from django.core.management import BaseCommand, CommandError, CommandParser

from blog.operations.backup import write_backup
from blog.operations.backup_file import (
    BackupError,
    Header,
    check_schema,
    current_counts,
    default_directory,
    describe,
    holds_content,
    read_header,
)
from blog.operations.restore import restore_backup


class Command(BaseCommand):
    help = (
        "Replace the site's content with a backup made by `manage.py backup`, in one "
        "transaction: a missing, damaged or foreign file, or one from a database at "
        "other migrations, is refused and nothing changes. The content it replaces is "
        "backed up first, and signed-in users sign in again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The backup file (.jsonl.gz).")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation when the database holds content.",
        )
        parser.add_argument(
            "--output",
            type=Path,
            help="Where to back up the content being replaced (default: BLOG_BACKUP_DIR).",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        try:
            header = read_header(path)
            check_schema(header, path)
            present = current_counts()
            if holds_content(present):
                if options["interactive"]:
                    self._confirm(path, header, present)
                copy, _ = write_backup(options["output"] or default_directory())
                self.stdout.write(f"The content it replaces is backed up to {copy}")
            loaded = restore_backup(path, header)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {describe(loaded)} from {path} (backed up {header.created_at})."
            )
        )

    def _confirm(self, path: Path, header: Header, present: dict[str, int]) -> None:
        question = (
            f"This database holds {describe(present)}.\n"
            f"They will be replaced by the {describe(header.counts)} of {path} "
            f"(backed up {header.created_at}).\n"
            "Type 'yes' to continue, or anything else to stop: "
        )
        try:
            answer = input(question)
        except EOFError:
            raise CommandError(
                "No answer (no terminal?): nothing was restored. Pass --noinput to "
                "restore without being asked."
            ) from None
        if answer.strip().lower() != "yes":
            raise CommandError("Restore cancelled: nothing was changed.")
