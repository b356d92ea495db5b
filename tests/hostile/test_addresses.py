"""No commenter's or staff member's e-mail address, nor any hash of one, in any
response, whatever the request's headers (issue 14, item 3); and the pages that answer
for a comment id do not tell a stranger whether a held or removed comment exists.

django-comments-xtd's "sent" view rendered its own comment template, with the author's
address and its gravatar (an md5 of the address), for ``X-Requested-With:
XMLHttpRequest``; comment ids are sequential, so every address could be collected.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import django_comments
import django_comments_xtd
import time_machine
from django.contrib.auth.models import Permission
from django.template import loader
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from blog.models import Comment

from ..discussion import form_data
from ..factories import make_post, make_user

STAFF_ADDRESS = "Sam.Staff@Example.org"
READER_ADDRESS = "rita.reader@example.net"
ANONYMOUS_ADDRESS = "Ann+Anon@example.com"
ADDRESSES = (STAFF_ADDRESS, READER_ADDRESS, ANONYMOUS_ADDRESS, "other@example.org")

# The headers and parameters the libraries' views (or any future one) might react to.
VARIANTS = {
    "plain": ({}, ""),
    "xhr": ({"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}, ""),
    "accept json": ({"HTTP_ACCEPT": "application/json"}, ""),
    "format json": ({}, "format=json"),
    "all at once": (
        {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest", "HTTP_ACCEPT": "application/json"},
        "format=json",
    ),
}

CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def forms_of(address: str) -> set[str]:
    """What would give ``address`` away in a response: itself in any case, URL-encoded,
    and its hashes (gravatar's md5, sha1, sha256) of the lower-cased form."""
    lower = address.lower()
    forms = {lower, quote(lower), quote_plus(lower), quote(lower, safe="")}
    for name in ("md5", "sha1", "sha256"):
        forms.add(hashlib.new(name, lower.encode()).hexdigest())
        forms.add(hashlib.new(name, address.encode()).hexdigest())
    return {form.lower() for form in forms}


def readings(raw: str) -> list[str]:
    """The text as each decoding would read it (HTML entities, URL escapes), lower-cased."""
    unescaped = html.unescape(raw)
    return [s.lower() for s in (raw, unescaped, unquote(unescaped), unquote_plus(unescaped))]


def without_id(location: str, pk: int) -> str:
    """A redirect's address with the requested id (``c=5``, ``/5/``, ``c%3D5``) taken out."""
    return re.sub(rf"(?:(?<=[=/])|(?<=%3D)){pk}(?![0-9])", "ID", location)


class AddressLeakMixin:
    def assertNoAddress(self, response, where: str) -> None:
        headers = "\n".join(f"{key}: {value}" for key, value in response.headers.items())
        body = response.content.decode("utf-8", errors="replace")
        for part, raw in (("headers", headers), ("body", body)):
            texts = readings(raw)
            self.assertFalse(
                any("gravatar" in t for t in texts), f"{where}: a gravatar in the {part}"
            )
            for address in ADDRESSES:
                for form in forms_of(address):
                    self.assertFalse(
                        any(form in t for t in texts),
                        f"{where}: {address!r} (as {form!r}) in the {part}",
                    )


class CommentPagesTests(AddressLeakMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Supervision", "Reflective supervision.")
        cls.staff = make_user(
            "sam", email=STAFF_ADDRESS, first_name="Sam", last_name="Staff", is_staff=True
        )
        cls.staff.user_permissions.add(
            Permission.objects.get(
                codename="can_moderate", content_type__app_label="django_comments"
            )
        )
        cls.author = make_user("rita", email=READER_ADDRESS, first_name="Rita")
        cls.stranger = make_user("stranger", email="other@example.org")

        def comment(**fields) -> Comment:
            fields.setdefault("user_name", "Ann")
            fields.setdefault("user_email", ANONYMOUS_ADDRESS)
            fields.setdefault("is_public", True)
            return Comment.objects.create(
                content_object=cls.post, site_id=1, comment="Words.", **fields
            )

        cls.by_staff = comment(user=cls.staff, user_name="Sam Staff", user_email=STAFF_ADDRESS)
        cls.by_reader = comment(user=cls.author, user_name="Rita", user_email=READER_ADDRESS)
        cls.held_by_reader = comment(
            user=cls.author, user_name="Rita", user_email=READER_ADDRESS, is_public=False
        )
        cls.anonymous = comment()
        cls.held = comment(is_public=False)
        cls.removed = comment(is_removed=True)
        cls.staff_removed = comment(
            user=cls.staff, user_name="Sam Staff", user_email=STAFF_ADDRESS, is_removed=True
        )
        cls.never = Comment.objects.order_by("-pk").first().pk + 1000

    def comments(self) -> list[Comment]:
        return [
            self.by_staff,
            self.by_reader,
            self.held_by_reader,
            self.anonymous,
            self.held,
            self.removed,
            self.staff_removed,
        ]

    @staticmethod
    def addresses(pk: int) -> list[str]:
        """Every address of the site that takes a comment id."""
        return [
            f"{reverse('comments-xtd-sent')}?c={pk}",
            reverse("comments-xtd-reply", args=[pk]),
            f"{reverse('comments-approve-done')}?c={pk}",
            f"{reverse('comments-delete-done')}?c={pk}",
            reverse("comments-approve", args=[pk]),
            reverse("comments-delete", args=[pk]),
        ]

    def clients(self) -> dict[str, Client]:
        reader = Client()
        reader.force_login(self.stranger)
        return {"anonymous": Client(), "another reader": reader}

    def fetch(self, client: Client, address: str, variant: str):
        headers, extra = VARIANTS[variant]
        if extra:
            address += ("&" if "?" in address else "?") + extra
        return client.get(address, **headers)

    def test_no_address_nor_hash_in_any_comment_page(self):
        for who, client in self.clients().items():
            for comment in self.comments():
                for address in self.addresses(comment.pk):
                    for variant in VARIANTS:
                        where = f"{who}, {variant}, {address}"
                        with self.subTest(where):
                            response = self.fetch(client, address, variant)
                            self.assertLess(response.status_code, 500, where)
                            self.assertNoAddress(response, where)

    def test_no_address_for_the_authors_themselves_nor_the_moderators(self):
        """Even the comment's author (on the "sent" page), and a moderator (on the
        approve and remove pages), get no address in the page: nobody needs it there."""
        author = Client()
        author.force_login(self.author)
        staff = Client()
        staff.force_login(self.staff)
        for who, client in (("author", author), ("moderator", staff)):
            for comment in self.comments():
                for address in self.addresses(comment.pk):
                    for variant in VARIANTS:
                        where = f"{who}, {variant}, {address}"
                        with self.subTest(where):
                            self.assertNoAddress(self.fetch(client, address, variant), where)

    def test_the_post_page_and_feeds_carry_no_address(self):
        for who, client in self.clients().items():
            for address in (
                self.post.get_absolute_url(),
                reverse("blog:feed-comments"),
                reverse("blog:discussions"),
            ):
                for variant in VARIANTS:
                    with self.subTest(who=who, address=address, variant=variant):
                        self.assertNoAddress(self.fetch(client, address, variant), address)

    def assertSameAnswer(self, hidden: int, where: str, client: Client, variant: str) -> None:
        for hidden_address, never_address in zip(
            self.addresses(hidden), self.addresses(self.never), strict=True
        ):
            with self.subTest(where=where, address=hidden_address, variant=variant):
                one = self.fetch(client, hidden_address, variant)
                other = self.fetch(client, never_address, variant)
                self.assertEqual(one.status_code, other.status_code)
                self.assertEqual(
                    without_id(one.get("Location", ""), hidden),
                    without_id(other.get("Location", ""), self.never),
                )

                def body(response) -> str:
                    return CSRF_VALUE.sub(r"\1\2", response.content.decode())

                self.assertEqual(body(one), body(other))

    def test_a_held_or_removed_comment_looks_like_no_comment_to_a_stranger(self):
        for who, client in self.clients().items():
            for name in ("held", "held_by_reader", "removed", "staff_removed"):
                for variant in VARIANTS:
                    self.assertSameAnswer(getattr(self, name).pk, f"{who}: {name}", client, variant)

    def test_answering_a_held_comment_looks_like_answering_no_comment(self):
        now = timezone.now()
        for who, client in self.clients().items():
            for name in ("held", "held_by_reader", "removed"):
                with self.subTest(who=who, comment=name), time_machine.travel(now, tick=False):
                    answers = []
                    for pk in (getattr(self, name).pk, self.never):
                        data = form_data(self.post, reply_to=pk, comment="An answer.")
                        answers.append(client.post(reverse("comments-post-comment"), data))
                    one, other = answers
                    self.assertContains(one, "is no longer shown", status_code=400)
                    self.assertEqual(one.status_code, other.status_code)
                    self.assertEqual(
                        CSRF_VALUE.sub(r"\1\2", one.content.decode()),
                        CSRF_VALUE.sub(r"\1\2", other.content.decode()),
                    )

    def test_the_author_of_a_held_comment_is_told_it_awaits_approval(self):
        self.client.force_login(self.author)
        response = self.client.get(f"{reverse('comments-xtd-sent')}?c={self.held_by_reader.pk}")
        self.assertContains(response, "awaiting approval")
        self.assertNoAddress(response, "author")
        # Not for somebody else's held comment, nor a removed one.
        for hidden in (self.held, self.removed):
            response = self.client.get(f"{reverse('comments-xtd-sent')}?c={hidden.pk}")
            self.assertEqual(response.status_code, 404)

    def test_a_visible_comment_leads_on_to_itself(self):
        for comment in (self.by_staff, self.anonymous):
            response = self.client.get(f"{reverse('comments-xtd-sent')}?c={comment.pk}")
            self.assertRedirects(
                response, comment.get_absolute_url(), fetch_redirect_response=False
            )

    def test_the_moderators_still_get_their_pages(self):
        self.client.force_login(self.staff)
        for done in ("comments-approve-done", "comments-delete-done"):
            response = self.client.get(f"{reverse(done)}?c={self.held.pk}")
            self.assertEqual(response.status_code, 200)
        self.assertContains(
            self.client.get(reverse("comments-approve", args=[self.held.pk])), "Approve"
        )


class LibraryTemplatesTests(TestCase):
    """Every template the two comment libraries ship resolves to one that prints no
    address nor gravatar: ours stand in front of those that did."""

    LEAKY = re.compile(r"user_email|gravatar|\.email\b|\bemail\s*(\}\}|\|)", re.IGNORECASE)

    def test_no_library_template_prints_an_address(self):
        names = set()
        for package in (django_comments, django_comments_xtd):
            root = Path(package.__file__).parent / "templates"
            names.update(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
        self.assertIn("django_comments_xtd/comment.html", names)
        for name in sorted(names):
            with self.subTest(name):
                source = loader.get_template(name).template.source
                self.assertIsNone(self.LEAKY.search(source), name)
