from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import BaseCommand, CommandError, CommandParser
from django.db import transaction

from blog.following.confirmation import describe
from blog.following.subscriptions import followings_of, mail_to
from blog.models import Post
from blog.operations.privacy import commenter_comments, erase_person, normalised_email


def plural(count: int, noun: str = "comment") -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Erase a commenter: their name, e-mail address, website, IP address and text go "
        "from every comment they wrote (matched by e-mail address, in any case, or by "
        "the e-mail address of the account they commented from). Each comment stays, "
        "as a notice, so the replies to it keep their place. Every following by e-mail "
        "of the address is deleted too, with the e-mails to it in the outbox."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the commenter's e-mail address")
        parser.add_argument(
            "--dry-run", action="store_true", help="list the comments; change nothing"
        )

    def handle(self, *args, email: str, dry_run: bool, **options) -> None:
        email = email.strip()
        # What is listed is what is erased: one transaction.
        with transaction.atomic():
            try:
                comments = list(commenter_comments(email).order_by("submit_date", "pk"))
                followings = list(followings_of(normalised_email(email)).order_by("pk"))
            except ValidationError:
                raise CommandError(f"{email!r} is not an e-mail address.") from None
            mails = mail_to(email).count()
            if not (comments or followings or mails):
                self.stdout.write(f"No comments by {email}: nothing to erase.")
                return
            for line in self.describe(comments) + self.describe_followings(followings):
                self.stdout.write(line)
            if mails:
                self.stdout.write(f"{plural(mails, 'e-mail')} to this address in the outbox")
            if dry_run:
                self.stdout.write(
                    f"Dry run: {self.what(len(comments), len(followings), mails)} would be "
                    "erased. Nothing was changed."
                )
                return
            erased = erase_person(email)
        if erased.comments or not (erased.followings or erased.emails):
            self.stdout.write(
                self.style.SUCCESS(
                    f"Erased {plural(erased.comments)} by {email}: name, e-mail address, "
                    "website, IP address and text replaced; replies keep their place."
                )
            )
        if erased.followings or erased.emails:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Deleted {plural(erased.followings, 'following')} by e-mail and "
                    f"{plural(erased.emails, 'e-mail')} in the outbox for {email}."
                )
            )
        accounts = get_user_model().objects.filter(email__iexact=email)
        for account in accounts:
            self.stdout.write(
                f"The account {account.get_username()!r} has this e-mail address and was "
                "left as it is: edit or delete it in the admin."
            )

    @staticmethod
    def what(comments: int, followings: int, mails: int) -> str:
        """"4 comments", or "4 comments, 1 following and 2 e-mails"."""
        parts = [plural(comments)] if comments or not (followings or mails) else []
        if followings:
            parts.append(plural(followings, "following"))
        if mails:
            parts.append(plural(mails, "e-mail"))
        return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]

    def describe(self, comments: list) -> list[str]:
        """One line per comment: its id, date, post and state."""
        post_ids = {comment.object_pk for comment in comments}
        titles = {str(post.pk): post.display_title for post in Post.objects.filter(pk__in=post_ids)}
        lines = []
        for comment in comments:
            state = (
                "removed" if comment.is_removed else "published" if comment.is_public else "held"
            )
            title = titles.get(comment.object_pk, "(no post)")
            lines.append(
                f"#{comment.pk}  {comment.submit_date:%Y-%m-%d %H:%M}  {state:9}  "
                f"{comment.user_name} on “{title}”"
            )
        return lines

    @staticmethod
    def describe_followings(followings: list) -> list[str]:
        """One line per following: what, how often, since when, confirmed or not."""
        return [
            f"Following by e-mail: {describe(f)}, asked {f.created_at:%Y-%m-%d %H:%M}, "
            + (f"confirmed {f.confirmed_at:%Y-%m-%d %H:%M}" if f.confirmed_at else "unconfirmed")
            for f in followings
        ]
