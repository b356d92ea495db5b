"""Send the e-mail waiting whose time has come, now, in this process: for a site whose
task backend defers nothing, or to empty the queue by hand after a long outage.

It first puts back in the queue what a worker killed in the middle of a batch left
"being sent" and never tried (blog.outbox.release_stuck), starts the mailings that are
due and not started (a post gone live, a week's digest: blog.following.mailing.
start_due) and makes sure this week's digest is scheduled, so that their e-mails are
among those it sends. (A worker stopped with SIGTERM finishes its batch, and its
queue's other tasks wait for it: it needs none of this to resume.) The worker does the
same every quarter of an hour on its own (blog.upkeep): this is for doing it now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from blog import outbox, upkeep


class Command(BaseCommand):
    help = "Send the queued e-mail that is due (the worker does this on its own)."

    def handle(self, *args: Any, **options: Any) -> None:
        done = upkeep.run()
        if done["released"]:
            self.stdout.write(
                f"{done['released']} e-mail(s) left by a stopped worker queued again."
            )
        if done["started"]:
            self.stdout.write(f"{done['started']} e-mail(s) of mailings due queued.")
        ids = outbox.due()
        sent = 0
        for start in range(0, len(ids), outbox.BATCH_SIZE):
            sent += outbox.send_rows(ids[start : start + outbox.BATCH_SIZE])
        self.stdout.write(f"{sent} of {len(ids)} e-mail(s) sent.")
