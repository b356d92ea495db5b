"""Send the e-mail waiting whose time has come, now, in this process: for a site whose
task backend defers nothing, or to empty the queue by hand after a long outage."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from blog import outbox


class Command(BaseCommand):
    help = "Send the queued e-mail that is due (the worker does this on its own)."

    def handle(self, *args: Any, **options: Any) -> None:
        ids = outbox.due()
        sent = 0
        for start in range(0, len(ids), outbox.BATCH_SIZE):
            sent += outbox.send_rows(ids[start : start + outbox.BATCH_SIZE])
        self.stdout.write(f"{sent} of {len(ids)} e-mail(s) sent.")
