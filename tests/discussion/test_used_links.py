"""A confirmation link publishes at most one comment, ever, by the rules of the moment
its button is pressed (docs/security.md, round two, item 2).

Before: a comment a moderator deleted came back, under a new id and with a new e-mail
to the moderators, each time its link was followed again, for the link's whole life
(so did an erased one: erasure blanks the name and address the link was matched by);
and the link published by the rules of the moment the comment was written (a domain
blocklisted since, new hold rules, the rate limit were not looked at).
"""

from __future__ import annotations

import datetime
import hashlib
import re
from unittest import mock

import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.test import Client, RequestFactory, TestCase, override_settings
from django_comments_xtd.models import BlackListedDomain

from blog import models
from blog.discussion import links, publishing
from blog.models import Comment, Post
from blog.operations.privacy import erase_commenter

from ..factories import london, make_post, make_staff
from ..html import soup, text
from . import confirmation_path, get, post_comment, press, row_counts

START = london(2030, 3, 4, 9, 0, 0)
USED = "This link has already been used"
COMMENT_ANCHOR = re.compile(r"#c\d+$")
# Readers still see these comments: the used link's page leads to them.
STILL_SHOWN = ("kept", "edited by a moderator", "erased")
MODERATORS = ["moderator@example.org"]


def to_moderators() -> list:
    return [m for m in mail.outbox if m.to == MODERATORS]


def delete_in_the_admin(comment: Comment) -> None:
    staff = Client()
    staff.force_login(make_staff(f"deleter{comment.pk}"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = staff.post(f"/admin/blog/comment/{comment.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.status_code


def remove_on_the_site(comment: Comment) -> None:
    staff = Client()
    staff.force_login(make_staff(f"remover{comment.pk}"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = staff.post(f"/comments/delete/{comment.pk}/")
    assert response.status_code == 302, response.status_code


# What may have become of a confirmed comment before its link is followed again.
FATES = {
    "kept": lambda comment: None,
    "deleted in the admin": delete_in_the_admin,
    "deleted in bulk": lambda comment: Comment.objects.filter(pk=comment.pk).delete(),
    "removed on the site": remove_on_the_site,
    "removed in bulk": lambda comment: Comment.objects.filter(pk=comment.pk).update(
        is_removed=True
    ),
    "erased": lambda comment: erase_commenter("ann@example.org"),
    "edited by a moderator": lambda comment: Comment.objects.filter(pk=comment.pk).update(
        comment="Edited by a moderator."
    ),
    "held back by a moderator": lambda comment: Comment.objects.filter(pk=comment.pk).update(
        is_public=False
    ),
}


class UsedLinkTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.post = make_post("Supervision", published_at=START - datetime.timedelta(days=1))

    def setUp(self):
        traveller = time_machine.travel(START, tick=False)
        self.clock = traveller.start()
        self.addCleanup(traveller.stop)
        # Every test here posts and confirms from one address: the rate limit has tests
        # of its own (FollowTimeRulesTests), which lower it again.
        overridden = override_settings(BLOG_COMMENTS_RATE_LIMIT=100)
        overridden.enable()
        self.addCleanup(overridden.disable)

    def posted_link(self, client: Client | None = None, **fields) -> str:
        response = post_comment(client or Client(), self.post, **fields)
        self.assertEqual(response.status_code, 302, text(soup(response))[:500])
        return confirmation_path()

    def assert_used_page(self, response, comment: Comment | None) -> None:
        """The page for a used link: it says so, and links to the comment only when
        readers can see it (otherwise nothing says whether it is still there)."""
        self.assertContains(response, USED)
        page = text(soup(response))
        for telling in ("awaiting approval", "removed", "deleted", "not published"):
            self.assertNotIn(telling, page)
        hrefs = [a["href"] for a in soup(response).select("main a[href]")]
        anchors = [href for href in hrefs if COMMENT_ANCHOR.search(href)]
        self.assertEqual(anchors, [comment.get_absolute_url()] if comment else [])


class OnceEverTests(UsedLinkTestCase):
    def test_a_used_link_publishes_nothing_more_whatever_became_of_its_comment(self):
        for fate, apply in FATES.items():
            with self.subTest(fate):
                Comment.objects.all().delete()
                models.UsedConfirmationLink.objects.all().delete()
                link = self.posted_link(comment=f"My answer ({fate}).", followup="on")
                first = press(Client(), link)
                comment = Comment.objects.get()
                self.assertRedirects(first, comment.get_absolute_url(),
                                     fetch_redirect_response=False)  # fmt: skip
                apply(comment)
                survivor = Comment.objects.filter(pk=comment.pk).first()
                before = row_counts()
                mail.outbox.clear()
                # Followed again and again, from the reader's browser and others.
                shown = survivor if fate in STILL_SHOWN else None
                for client in (Client(), Client(), Client(REMOTE_ADDR="192.0.2.9")):
                    self.assert_used_page(get(client, link), shown)
                    self.assert_used_page(press(client, link), shown)
                self.assertEqual(row_counts(), before, "a comment came back")
                self.assertEqual(mail.outbox, [], "the moderators were told again")
                self.assertEqual(models.UsedConfirmationLink.objects.count(), 1)

    def test_a_used_link_whose_post_was_withdrawn_leads_to_neither(self):
        link = self.posted_link()
        press(Client(), link)
        Post.objects.filter(pk=self.post.pk).update(status=Post.Status.DRAFT)
        response = press(Client(), link)
        self.assert_used_page(response, None)
        self.assertNotContains(response, self.post.get_absolute_url())
        self.assertEqual(row_counts(), (1, 1, 1))

    def test_staff_deleting_it_again_and_again_never_brings_it_back(self):
        link = self.posted_link(comment="Spam, really.")
        press(Client(), link)
        for round_ in range(5):
            with self.subTest(round_):
                for comment in Comment.objects.all():
                    delete_in_the_admin(comment)
                mail.outbox.clear()
                press(Client(), link)
                self.assertEqual(row_counts(), (0, 0, 0))
                self.assertEqual(to_moderators(), [])

    def test_an_expired_used_link_says_it_was_used(self):
        link = self.posted_link()
        press(Client(), link)
        comment = Comment.objects.get()
        Comment.objects.filter(pk=comment.pk).delete()
        self.clock.move_to(START + datetime.timedelta(days=6, hours=23))
        self.assert_used_page(press(Client(), link), None)
        self.assertEqual(row_counts(), (0, 0, 0))

    def test_the_record_keeps_a_digest_of_the_link_and_nothing_of_the_reader(self):
        link = self.posted_link(name="Ann Reader", email="ann@example.org",
                                url="https://ann.example/", comment="Words of my own.")  # fmt: skip
        press(Client(), link)
        comment = Comment.objects.get()
        (record,) = models.UsedConfirmationLink.objects.values()
        key = link.rstrip("/").rsplit("/", 1)[1]
        self.assertEqual(record["digest"], hashlib.sha256(key.encode()).hexdigest())
        self.assertEqual(record["comment_pk"], comment.pk)
        self.assertEqual(record["used_at"], START)
        stored = repr(record).lower()
        for personal in ("ann", "example.org", "words of my own", "127.0.0.1", key[:20]):
            self.assertNotIn(personal.lower(), stored)

    def test_records_are_forgotten_once_their_links_have_expired(self):
        old = self.posted_link(comment="Early.")
        press(Client(), old)
        self.clock.move_to(START + datetime.timedelta(days=7))
        recent = self.posted_link(**{"name": "Bob", "email": "bob@example.org"}, comment="Late.")
        press(Client(), recent)
        self.assertEqual(models.UsedConfirmationLink.objects.count(), 2)  # 7 days: not yet
        self.clock.move_to(START + datetime.timedelta(days=7, seconds=1))
        third = self.posted_link(**{"name": "Cy", "email": "cy@example.org"}, comment="Later.")
        press(Client(), third)
        self.assertEqual(models.UsedConfirmationLink.objects.count(), 2)
        # The forgotten link has expired: it publishes nothing, the comment deleted or not.
        Comment.objects.filter(comment="Early.").delete()
        before = row_counts()
        self.assertContains(press(Client(), old), "has expired", status_code=410)
        self.assertEqual(row_counts(), before)


class ConcurrentPressTests(UsedLinkTestCase):
    """Two presses at once (tests/discussion/test_concurrency.py runs real threads on
    PostgreSQL): when neither has seen the other's record, the unique digest refuses the
    second, and its whole transaction, comment and all, is rolled back."""

    def test_the_unique_digest_refuses_a_second_publication(self):
        link = self.posted_link(comment="Pressed twice at once.")
        press(Client(), link)
        Comment.objects.all().delete()  # so that sent_before cannot stop it first
        mail.outbox.clear()
        with mock.patch("blog.discussion.usedlinks.used", return_value=None):
            response = press(Client(), link)
        self.assertContains(response, USED)
        self.assertEqual(row_counts(), (0, 0, 0))
        self.assertEqual(mail.outbox, [])
        self.assertEqual(models.UsedConfirmationLink.objects.count(), 1)

    def test_publish_comment_refuses_a_used_link(self):
        link = self.posted_link(comment="Published once.")
        key = link.rstrip("/").rsplit("/", 1)[1]
        request = RequestFactory().post(link)
        request.user = AnonymousUser()
        with self.captureOnCommitCallbacks(execute=True):
            first = publishing.publish_comment(links.read_confirmation(key), request, link=key)
        Comment.objects.filter(pk=first.pk).delete()
        mail.outbox.clear()
        from blog.discussion.usedlinks import LinkAlreadyUsed

        with self.assertRaises(LinkAlreadyUsed), self.captureOnCommitCallbacks(execute=True):
            publishing.publish_comment(links.read_confirmation(key), request, link=key)
        self.assertEqual((row_counts(), mail.outbox), ((0, 0, 0), []))


class FollowTimeRulesTests(UsedLinkTestCase):
    """The rules of the moment the button is pressed, through the same moderator and
    rate limit as the comment form."""

    def assert_refused(self, response, status: int, message: str, words: str) -> None:
        self.assertContains(response, message, status_code=status)
        self.assertEqual(soup(response).select_one("#kept-text").text, words)
        self.assertEqual(row_counts(), (0, 0, 0))
        self.assertEqual(to_moderators(), [])
        self.assertFalse(models.UsedConfirmationLink.objects.exists())

    def test_a_domain_blocklisted_since_the_comment_was_written_is_refused(self):
        cases = {
            "address": ({"email": "ann@spam.example"}, "spam.example"),
            "address, subdomain": ({"email": "ann@mail.spam.example"}, "spam.example"),
            "address, any case": ({"email": "ann@Spam.Example"}, "spam.example"),
            "website": ({"url": "https://spam.example/"}, "spam.example"),
            "website, subdomain": ({"url": "https://www.spam.example/page"}, "spam.example"),
            "website with a port": ({"url": "http://spam.example:8080/"}, "spam.example"),
        }
        for case, (fields, domain) in cases.items():
            with self.subTest(case):
                BlackListedDomain.objects.all().delete()
                words = f"Buy now ({case})."
                link = self.posted_link(comment=words, **fields)
                BlackListedDomain.objects.create(domain=domain)
                mail.outbox.clear()
                reader = Client()
                self.assertContains(get(reader, link), "Publish your comment?")
                response = press(reader, link)
                self.assert_refused(response, 403, "are not accepted here", words)
                # Refused, not used up: still refused while the domain stays listed.
                self.assert_refused(press(reader, link), 403, "are not accepted here", words)

    def test_comments_closed_since_the_comment_was_written_are_refused(self):
        closings = {
            "the post closed": lambda: Post.objects.filter(pk=self.post.pk).update(
                allow_comments=False
            ),
            "the post withdrawn": lambda: Post.objects.filter(pk=self.post.pk).update(
                status=Post.Status.DRAFT
            ),
            "closed by age": lambda: self.clock.move_to(START + datetime.timedelta(days=3)),
        }
        for closing, close in closings.items():
            with self.subTest(closing), override_settings(BLOG_COMMENTS_CLOSE_AFTER_DAYS=3):
                self.clock.move_to(START)
                Post.objects.filter(pk=self.post.pk).update(
                    allow_comments=True, status=Post.Status.PUBLISHED
                )
                words = f"Too late ({closing})."
                link = self.posted_link(comment=words)
                close()
                mail.outbox.clear()
                for response in (get(Client(), link), press(Client(), link)):
                    self.assertIn(response.status_code, (403, 404))
                    self.assertEqual(soup(response).select_one("#kept-text").text, words)
                self.assertEqual(row_counts(), (0, 0, 0))
                self.assertEqual(to_moderators(), [])

    def test_hold_rules_made_since_the_comment_was_written_hold_it(self):
        rules = {
            "a held word": {"BLOG_COMMENTS_HOLD_WORDS": ["agree"]},
            "fewer links": {"BLOG_COMMENTS_MAX_LINKS": 0},
            "an old post": {"BLOG_COMMENTS_MODERATE_AFTER_DAYS": 1},
        }
        for rule, settings in rules.items():
            with self.subTest(rule):
                Comment.objects.all().delete()
                words = f"I agree, see https://example.org/ ({rule})."
                link = self.posted_link(comment=words)
                self.assertTrue(links.read_confirmation(link.split("/")[-2]).is_public)
                mail.outbox.clear()
                with override_settings(**settings):
                    response = press(Client(), link)
                self.assertContains(response, "Your comment is awaiting approval")
                comment = Comment.objects.get()
                self.assertFalse(comment.is_public)
                (notice,) = to_moderators()
                self.assertIn("(awaiting approval)", notice.subject)
                self.assertNotIn(words, text(soup(self.client.get(self.post.get_absolute_url()))))

    def test_a_comment_held_when_written_is_published_if_the_rules_no_longer_hold_it(self):
        words = "Win at the casino tonight."
        link = self.posted_link(comment=words)
        self.assertFalse(links.read_confirmation(link.split("/")[-2]).is_public)
        with override_settings(BLOG_COMMENTS_HOLD_WORDS=[]):
            response = press(Client(), link)
        comment = Comment.objects.get()
        self.assertRedirects(response, comment.get_absolute_url(), fetch_redirect_response=False)
        self.assertTrue(comment.is_public)

    def test_a_staff_member_pressing_a_readers_button_does_not_lift_the_hold(self):
        link = self.posted_link(comment="Win at the casino tonight.")
        staff = Client()
        staff.force_login(make_staff("editor"))
        self.assertContains(press(staff, link), "Your comment is awaiting approval")
        self.assertFalse(Comment.objects.get().is_public)

    @override_settings(BLOG_COMMENTS_RATE_LIMIT=3, BLOG_COMMENTS_RATE_PERIOD=60)
    def test_the_rate_limit_counts_at_follow_time(self):
        # Four comments posted from four addresses over an hour (each within the limit),
        # their links kept, then pressed in one minute from one address: the fourth
        # waits. Nothing stored up is released at once.
        keys = []
        for n in range(4):
            self.clock.move_to(START + datetime.timedelta(minutes=15 * n))
            reader = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")
            fields = {"name": f"Reader {n}", "email": f"r{n}@example.org"}
            keys.append(self.posted_link(reader, comment=f"Stored {n}.", **fields))
        self.clock.move_to(START + datetime.timedelta(hours=2, seconds=5))
        presser = Client(REMOTE_ADDR="198.51.100.7")
        for link in keys[:3]:
            self.assertEqual(press(presser, link).status_code, 302)
        mail.outbox.clear()
        fourth = press(presser, keys[3])
        self.assertContains(fourth, "Please wait a minute", status_code=429)
        self.assertEqual(soup(fourth).select_one("#kept-text").text, "Stored 3.")
        self.assertEqual(Comment.objects.count(), 3)
        self.assertEqual(to_moderators(), [])
        # A minute on, the same link works: a refusal does not use it up.
        self.clock.move_to(START + datetime.timedelta(hours=2, minutes=1, seconds=5))
        self.assertEqual(press(presser, keys[3]).status_code, 302)
        self.assertEqual(Comment.objects.count(), 4)

    @override_settings(BLOG_COMMENTS_RATE_LIMIT=3, BLOG_COMMENTS_RATE_PERIOD=60)
    def test_opening_the_page_is_not_counted(self):
        link = self.posted_link(Client(REMOTE_ADDR="192.0.2.1"), comment="Looked at often.")
        self.clock.move_to(START + datetime.timedelta(hours=1, seconds=5))
        reader = Client(REMOTE_ADDR="198.51.100.7")
        for _ in range(10):
            self.assertEqual(get(reader, link).status_code, 200)
        self.assertEqual(press(reader, link).status_code, 302)
