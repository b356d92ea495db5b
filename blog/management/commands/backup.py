from pathlib import Path

from django.core.management import BaseCommand, CommandError, CommandParser

from blog.operations.backup import write_backup
from blog.operations.backup_file import BackupError, default_directory, describe


class Command(BaseCommand):
    help = (
        "Back up the site's content (posts, references, tags, comments, users, the "
        "blocklist) to a new gzip file, readable by its owner only. "
        "`manage.py restore FILE` puts it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="The directory to write the backup in (default: BLOG_BACKUP_DIR, backups/).",
        )

    def handle(self, *args, **options) -> None:
        try:
            path, header = write_backup(options["output"] or default_directory())
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Backed up {describe(header.counts)} to {path}"))
