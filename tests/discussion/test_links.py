"""The links e-mailed to readers (blog.discussion.links): signed JSON that expires, never a pickle.

A confirmation link publishes a comment; a mute link stops follow-up e-mails. Each is
refused when altered, cut short, of the other kind, signed with another key, made by
the library (a signed pickle) or older than BLOG_COMMENT_LINK_MAX_AGE (7 days).
"""

from __future__ import annotations

import base64
import datetime
import json
import string
import zlib
from unittest import mock

import time_machine
from django.conf import settings
from django.core import mail, signing
from django.test import Client, TestCase, override_settings
from django_comments_xtd import signed
from django_comments_xtd.models import TmpXtdComment

from blog.discussion import links
from blog.models import Comment, UsedConfirmationLink

from ..factories import london, make_post, make_staff, make_user
from ..html import soup
from . import (
    comment_and_confirm,
    confirmation_path,
    mute_path,
    post_comment,
    press,
    row_counts,
)

START = london(2030, 3, 4, 9, 0, 0)  # whole seconds, as the tokens' timestamps are
BOB = {"name": "Bob", "email": "bob@example.org"}
HELD = "x https://a.example https://b.example https://c.example"  # too many links: held
ALPHABET = string.ascii_letters + string.digits + "-_:."

# Set by the pickle below when it is unpickled: the proof that code ran.
UNPICKLED: list[str] = []


def record_unpickling() -> TmpXtdComment:
    UNPICKLED.append("code ran")
    return TmpXtdComment()


class Exploit:
    """What a forger with the secret key could put in one of the library's links."""

    def __reduce__(self):
        return (record_unpickling, ())


def key_of(path: str) -> str:
    """The key in /comments/confirm/<key>/ or /comments/mute/<key>/."""
    return path.rstrip("/").rsplit("/", 1)[1]


def payload_bytes(token: str) -> bytes:
    """What a token carries, as anyone holding the link can read it (no key needed)."""
    data = token.split(":", 1)[0]
    compressed = data.startswith(".")
    data = data.removeprefix(".")
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return zlib.decompress(raw) if compressed else raw


def followups_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address] and m.subject.startswith("New comment on")]


@override_settings(BLOG_COMMENTS_RATE_LIMIT=100)
class LinkTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post(
            "Learning Organisations", published_at=START - datetime.timedelta(days=1)
        )

    def setUp(self):
        traveller = time_machine.travel(START, tick=False)
        self.clock = traveller.start()
        self.addCleanup(traveller.stop)

    def posted_key(self, **fields) -> str:
        response = post_comment(self.client, self.post, **fields)
        self.assertEqual(response.status_code, 302)
        return key_of(confirmation_path())

    def follower_and_mute_key(self) -> tuple[Comment, str]:
        """Ann follows the discussion; Bob's reply e-mails her a mute link."""
        ann = comment_and_confirm(self.client, self.post, followup="on", comment="Tell me")
        mail.outbox.clear()
        comment_and_confirm(Client(), self.post, reply_to=ann.pk, **BOB, comment="A reply")
        (followup,) = followups_to("ann@example.org")
        return ann, key_of(mute_path(followup))

    def assert_confirm_refused(self, key: str, status: int = 400, message: str = "not valid"):
        before = row_counts()
        response = press(self.client, f"/comments/confirm/{key}/")
        self.assertContains(response, message, status_code=status)
        self.assertEqual(row_counts(), before)
        return response

    def assert_mute_refused(self, key: str, follower: Comment, status: int = 400,
                            message: str = "not valid"):  # fmt: skip
        response = press(self.client, f"/comments/mute/{key}/")
        self.assertContains(response, message, status_code=status)
        follower.refresh_from_db()
        self.assertTrue(follower.followup)
        return response


class RoundTripTests(LinkTestCase):
    def test_the_confirmation_link_carries_the_comment_as_posted(self):
        parent = comment_and_confirm(self.client, self.post, comment="Parent")
        self.clock.move_to(START + datetime.timedelta(minutes=5))
        key = self.posted_key(reply_to=parent.pk, followup="on", comment="Line one\nline two",
                              url="https://ann.example/")  # fmt: skip
        pending = links.read_confirmation(key)
        self.assertIsInstance(pending, TmpXtdComment)
        self.assertEqual(
            {name: pending[name] for name in links.CONFIRMATION_FIELDS},
            {
                "object_pk": str(self.post.pk),
                "site_id": settings.SITE_ID,
                "user_name": "Ann Reader",
                "user_email": "ann@example.org",
                "user_url": "https://ann.example/",
                "comment": "Line one\nline two",
                "submit_date": START + datetime.timedelta(minutes=5),
                "ip_address": "127.0.0.1",
                "is_public": True,
                "followup": True,
                "parent_id": parent.pk,
            },
        )
        self.assertEqual(pending.content_object, self.post)

        self.assertRedirects(press(self.client, f"/comments/confirm/{key}/"),
                             Comment.objects.latest("pk").get_absolute_url())  # fmt: skip
        reply = Comment.objects.latest("pk")
        self.assertEqual(
            (reply.comment, reply.parent_id, reply.level, reply.followup, reply.submit_date,
             reply.ip_address, reply.user_url),
            ("Line one\nline two", parent.pk, 1, True, START + datetime.timedelta(minutes=5),
             "127.0.0.1", "https://ann.example/"),
        )  # fmt: skip

    def test_a_held_comment_stays_held_once_confirmed(self):
        key = self.posted_key(comment=HELD)
        self.assertFalse(links.read_confirmation(key).is_public)
        response = press(self.client, f"/comments/confirm/{key}/")
        self.assertContains(response, "awaiting", status_code=200)
        self.assertFalse(Comment.objects.get().is_public)

    def test_the_mute_link_carries_only_the_comment_id(self):
        ann, key = self.follower_and_mute_key()
        self.assertEqual(links.read_mute(key), ann.pk)
        self.assertEqual(json.loads(payload_bytes(key)), {"comment": ann.pk})
        self.assertNotIn(b"ann@example.org", payload_bytes(key))

        response = press(self.client, f"/comments/mute/{key}/")
        self.assertContains(response, "You will get no more e-mails about this discussion")
        ann.refresh_from_db()
        self.assertFalse(ann.followup)


class NotPickleTests(LinkTestCase):
    def test_the_tokens_carry_json(self):
        key = self.posted_key(comment="Plain words.")
        carried = payload_bytes(key)
        self.assertNotEqual(carried[:1], b"\x80")  # every pickle protocol >= 2 starts so
        self.assertEqual(json.loads(carried)["comment"], "Plain words.")
        self.assertEqual(set(json.loads(carried)), set(links.CONFIRMATION_FIELDS))

    def test_a_librarys_pickle_link_for_the_same_comment_is_refused(self):
        pending = links.read_confirmation(self.posted_key())
        old = signed.dumps(pending, compress=True, extra_key=settings.COMMENTS_XTD_SALT)
        # The library itself would publish the comment from it...
        self.assertEqual(signed.loads(old, extra_key=settings.COMMENTS_XTD_SALT)["user_name"],
                         "Ann Reader")  # fmt: skip
        # ...the site refuses it, and writes nothing.
        self.assert_confirm_refused(old.decode())

    def test_a_pickle_that_runs_code_is_never_unpickled(self):
        ann, _ = self.follower_and_mute_key()
        forged = signed.dumps(Exploit(), compress=True, extra_key=settings.COMMENTS_XTD_SALT)
        UNPICKLED.clear()
        self.addCleanup(UNPICKLED.clear)
        signed.loads(forged, extra_key=settings.COMMENTS_XTD_SALT)
        self.assertEqual(UNPICKLED, ["code ran"])  # the exploit works on the library

        UNPICKLED.clear()
        self.assert_confirm_refused(forged.decode())
        self.assert_mute_refused(forged.decode(), ann)
        self.assertEqual(UNPICKLED, [])

    def test_a_librarys_mute_link_is_refused(self):
        ann, _ = self.follower_and_mute_key()
        old = signed.dumps(ann, compress=True, extra_key=settings.COMMENTS_XTD_SALT).decode()
        self.assert_mute_refused(old, ann)

    def test_no_email_the_site_sends_uses_the_librarys_signed_pickles(self):
        """Every path that e-mails a link: an anonymous comment, its confirmation and
        follow-ups, a signed-in reader's comment, a moderator's approval, muting."""
        refuse = mock.Mock(side_effect=AssertionError("django_comments_xtd.signed used"))
        with mock.patch.object(signed, "dumps", refuse), mock.patch.object(signed, "loads", refuse):
            ann = comment_and_confirm(self.client, self.post, followup="on", comment="Tell me")
            comment_and_confirm(Client(), self.post, reply_to=ann.pk, **BOB)

            reader = Client()
            reader.force_login(make_user("rita", email="rita@example.org"))
            post_comment(reader, self.post, comment="Signed in")

            post_comment(Client(), self.post, name="Cy", email="cy@example.org", comment=HELD)
            press(Client(), confirmation_path())
            staff = Client()
            staff.force_login(make_staff("editor"))
            held = Comment.objects.get(user_name="Cy")
            with self.captureOnCommitCallbacks(execute=True):
                staff.post(f"/comments/approve/{held.pk}/")
            held.refresh_from_db()
            self.assertTrue(held.is_public)

            followups = followups_to("ann@example.org")
            self.assertEqual(len(followups), 3)  # Bob's reply, Rita's comment, Cy's approved
            for message in followups:
                self.assertEqual(links.read_mute(key_of(mute_path(message))), ann.pk)
            self.assertContains(press(self.client, mute_path(followups[-1])), "no more e-mails")
        refuse.assert_not_called()

    def test_one_confirmation_email_ours(self):
        # The library's receiver, which would send a second one, is disconnected.
        post_comment(self.client, self.post)
        (message,) = mail.outbox
        self.assertEqual(
            message.subject,
            f"Confirm your comment on ‘{self.post.display_title}’ – Child Protection Social Work",
        )
        links.read_confirmation(key_of(confirmation_path(message)))


class ExpiryTests(LinkTestCase):
    def test_a_confirmation_link_works_for_7_days(self):
        key = self.posted_key()
        self.clock.move_to(START + datetime.timedelta(days=6, hours=23))
        self.assertEqual(press(self.client, f"/comments/confirm/{key}/").status_code, 302)
        self.assertEqual(Comment.objects.count(), 1)

    def test_a_confirmation_link_works_on_the_7th_day_to_the_second(self):
        key = self.posted_key()
        self.clock.move_to(START + datetime.timedelta(days=7))
        self.assertEqual(press(self.client, f"/comments/confirm/{key}/").status_code, 302)

    def test_an_expired_confirmation_link_publishes_nothing_and_gives_the_text_back(self):
        key = self.posted_key(comment="Words worth keeping <b>bold</b>")
        self.clock.move_to(START + datetime.timedelta(days=7, seconds=1))
        response = self.assert_confirm_refused(key, 410, "This confirmation link has expired")
        self.assertContains(response, "links work for 7 days", status_code=410)
        page = soup(response)
        # The reader's words come back as text, never as markup.
        self.assertEqual(page.select_one("#kept-text").text, "Words worth keeping <b>bold</b>")
        self.assertIsNone(page.select_one("#kept-text b"))
        self.assertIsNotNone(page.select_one(f"a[href='{self.post.get_absolute_url()}']"))

    def test_an_expired_link_already_followed_still_leads_to_the_comment(self):
        key = self.posted_key()
        press(self.client, f"/comments/confirm/{key}/")
        comment = Comment.objects.get()
        self.clock.move_to(START + datetime.timedelta(days=30))
        again = press(self.client, f"/comments/confirm/{key}/")
        self.assertContains(again, "This link has already been used")
        self.assertContains(again, f'href="{comment.get_absolute_url()}"')
        self.assertEqual(row_counts(), (1, 1, 1))

    def test_the_age_is_a_setting(self):
        for max_age in (datetime.timedelta(hours=12), 12 * 60 * 60):
            with (
                self.subTest(max_age=max_age),
                override_settings(BLOG_COMMENT_LINK_MAX_AGE=max_age),
            ):
                self.clock.move_to(START)
                Comment.objects.all().delete()
                UsedConfirmationLink.objects.all().delete()  # the first round's
                mail.outbox.clear()
                kept = self.posted_key(comment="Kept")
                lost = self.posted_key(**BOB, comment="Lost")
                self.clock.move_to(START + datetime.timedelta(hours=12))
                self.assertEqual(press(self.client, f"/comments/confirm/{kept}/").status_code, 302)
                self.clock.move_to(START + datetime.timedelta(hours=12, seconds=1))
                response = self.assert_confirm_refused(lost, 410, "links work for 12 hours")
                self.assertContains(response, "Lost", status_code=410)
                self.assertEqual(list(Comment.objects.values_list("comment", flat=True)),
                                 ["Kept"])  # fmt: skip

    def test_a_mute_link_works_for_7_days(self):
        ann, key = self.follower_and_mute_key()
        self.clock.move_to(START + datetime.timedelta(days=7, seconds=1))
        response = self.assert_mute_refused(key, ann, 410, "This link to stop e-mails has expired")
        self.assertContains(response, "The next e-mail about this discussion", status_code=410)
        self.clock.move_to(START + datetime.timedelta(days=6, hours=23))
        self.assertContains(press(self.client, f"/comments/mute/{key}/"), "no more e-mails")
        ann.refresh_from_db()
        self.assertFalse(ann.followup)


class TamperingTests(LinkTestCase):
    def altered(self, key: str):
        """The key with each character in turn replaced by another a token may hold."""
        for i, char in enumerate(key):
            other = ALPHABET[(ALPHABET.index(char) + 1) % len(ALPHABET)]
            yield key[:i] + other + key[i + 1 :]

    def test_any_altered_character_refuses_the_confirmation_link(self):
        key = self.posted_key()
        for altered in self.altered(key):
            self.assert_confirm_refused(altered)
        self.assertEqual(row_counts(), (0, 0, 0))

    def test_a_cut_short_confirmation_link_is_refused(self):
        key = self.posted_key()
        for cut in (key[:-1], key[: len(key) // 2], key.split(":")[0], key[1:]):
            self.assert_confirm_refused(cut)

    def test_any_altered_character_refuses_the_mute_link(self):
        ann, key = self.follower_and_mute_key()
        for altered in self.altered(key):
            self.assert_mute_refused(altered, ann)

    def test_a_link_of_one_kind_is_not_taken_for_the_other(self):
        ann, mute_key = self.follower_and_mute_key()
        confirm_key = self.posted_key(**BOB, comment="Pending")
        self.assert_confirm_refused(mute_key)
        self.assert_mute_refused(confirm_key, ann)
        # Refused for their signatures (salts of their own), before their contents.
        for key, other_salt in ((mute_key, links.CONFIRM_SALT), (confirm_key, links.MUTE_SALT)):
            with self.assertRaises(signing.BadSignature):
                signing.loads(key, salt=other_salt)
        # Nor is the default salt's, with the same contents.
        self.assert_mute_refused(signing.dumps({"comment": ann.pk}), ann)

    def test_a_link_signed_with_another_secret_key_is_refused(self):
        ann, _ = self.follower_and_mute_key()
        pending = links.read_confirmation(self.posted_key(**BOB, comment="Pending"))
        with override_settings(SECRET_KEY="another-secret-key-entirely"):
            confirm_key, mute_key = links.confirmation_token(pending), links.mute_token(ann.pk)
        self.assert_confirm_refused(confirm_key)
        self.assert_mute_refused(mute_key, ann)

    def test_well_signed_contents_of_the_wrong_shape_are_refused(self):
        """What a forger holding the key could send: still only checked values."""
        ann, _ = self.follower_and_mute_key()
        pending = json.loads(payload_bytes(self.posted_key(**BOB, comment="Pending")))
        wrong = [
            {**pending, "user_id": 1},
            {**pending, "is_public": "yes"},
            {**pending, "site_id": "1"},
            {**pending, "object_pk": "not-a-post"},
            {**pending, "submit_date": "2030-03-04T09:00:00"},  # no time zone
            {k: v for k, v in pending.items() if k != "comment"},
            [pending],
        ]
        for payload in wrong:
            with self.subTest(payload=payload):
                forged = signing.dumps(payload, salt=links.CONFIRM_SALT, compress=True)
                self.assert_confirm_refused(forged)
        for payload in ({"comment": str(ann.pk)}, {"comment": True}, {"comment": 0}, ann.pk):
            with self.subTest(payload=payload):
                self.assert_mute_refused(signing.dumps(payload, salt=links.MUTE_SALT), ann)


class ReplayTests(LinkTestCase):
    def test_a_confirmation_link_followed_again_says_so_and_links_to_the_one_comment(self):
        key = self.posted_key()
        first = press(self.client, f"/comments/confirm/{key}/")
        again = press(Client(), f"/comments/confirm/{key}/")
        comment = Comment.objects.get()
        self.assertRedirects(first, comment.get_absolute_url())
        self.assertContains(again, "This link has already been used")
        self.assertContains(again, f'href="{comment.get_absolute_url()}"')
        self.assertEqual(row_counts(), (1, 1, 1))

    def test_a_mute_link_followed_again_says_the_same(self):
        _, key = self.follower_and_mute_key()
        first = press(self.client, f"/comments/mute/{key}/")
        again = press(self.client, f"/comments/mute/{key}/")
        self.assertContains(first, "You will get no more e-mails about this discussion")
        self.assertContains(again, "You will get no more e-mails about this discussion")

    def test_a_mute_link_for_a_deleted_comment_is_not_found(self):
        ann, key = self.follower_and_mute_key()
        Comment.objects.filter(pk=ann.pk).delete()
        self.assertEqual(press(self.client, f"/comments/mute/{key}/").status_code, 404)


class ApprovalFollowUpTests(LinkTestCase):
    def test_approving_a_held_comment_emails_working_mute_links(self):
        ann = comment_and_confirm(self.client, self.post, followup="on", comment="Tell me")
        mail.outbox.clear()
        post_comment(Client(), self.post, **BOB, comment=HELD)
        press(Client(), confirmation_path())
        held = Comment.objects.get(user_name="Bob")
        self.assertEqual(followups_to("ann@example.org"), [])
        staff = Client()
        staff.force_login(make_staff("editor"))
        with self.captureOnCommitCallbacks(execute=True):
            staff.post("/admin/blog/comment/",
                       {"action": "approve_comments", "_selected_action": [held.pk]})  # fmt: skip
        (followup,) = followups_to("ann@example.org")
        self.assertEqual(
            followup.subject,
            f"New comment on ‘{self.post.display_title}’ – Child Protection Social Work",
        )
        key = key_of(mute_path(followup))
        self.assertEqual(links.read_mute(key), ann.pk)
        self.assertContains(press(self.client, f"/comments/mute/{key}/"), "no more e-mails")
        ann.refresh_from_db()
        self.assertFalse(ann.followup)
