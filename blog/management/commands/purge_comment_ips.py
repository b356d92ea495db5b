from __future__ import annotations

import datetime

from django.core.management import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from blog.operations.privacy import purge_comment_ips, retention_days


class Command(BaseCommand):
    help = (
        "Forget the IP address of every comment submitted more than N days ago "
        "(--days, by default BLOG_COMMENT_IP_RETENTION_DAYS). The site does this on its "
        "own every hour when that setting is not None; this is for doing it now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, help="keep the addresses of the last N days (default: the setting)"
        )

    def handle(self, *args, days: int | None, **options) -> None:
        if days is None:
            days = retention_days()
            if days is None:
                raise CommandError(
                    "BLOG_COMMENT_IP_RETENTION_DAYS is None (addresses are kept): "
                    "give --days N to forget those older than N days."
                )
        if days < 0:
            raise CommandError(f"--days must be 0 or more, not {days}.")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        count = purge_comment_ips(cutoff)
        self.stdout.write(
            self.style.SUCCESS(
                f"Forgot the IP address of {count} comment{'s' * (count != 1)} submitted "
                f"before {timezone.localtime(cutoff):%Y-%m-%d %H:%M} ({days} days ago)."
            )
        )
