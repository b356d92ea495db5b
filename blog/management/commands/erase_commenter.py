from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import BaseCommand, CommandError, CommandParser
from django.db import transaction

from blog.models import Post
from blog.operations.privacy import commenter_comments, erase_commenter


def plural(count: int) -> str:
    return f"{count} comment{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Erase a commenter: their name, e-mail address, website, IP address and text go "
        "from every comment they wrote (matched by e-mail address, in any case, or by "
        "the e-mail address of the account they commented from). Each comment stays, "
        "as a notice, so the replies to it keep their place."
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
            except ValidationError:
                raise CommandError(f"{email!r} is not an e-mail address.") from None
            if not comments:
                self.stdout.write(f"No comments by {email}: nothing to erase.")
                return
            for line in self.describe(comments):
                self.stdout.write(line)
            if dry_run:
                self.stdout.write(
                    f"Dry run: {plural(len(comments))} would be erased. Nothing was changed."
                )
                return
            count = erase_commenter(email)
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased {plural(count)} by {email}: name, e-mail address, website, IP "
                "address and text replaced; replies keep their place."
            )
        )
        accounts = get_user_model().objects.filter(email__iexact=email)
        for account in accounts:
            self.stdout.write(
                f"The account {account.get_username()!r} has this e-mail address and was "
                "left as it is: edit or delete it in the admin."
            )

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
