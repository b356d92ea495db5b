"""The thread as readers (and their text browsers and screen readers) get it: replies
nested as lists, badges for the post's author and the staff decided by the account
that wrote the comment, never by the name typed, and no count of nothing."""

from __future__ import annotations

from django.test import Client

from ..factories import make_post, make_staff, make_user
from ..html import soup, text, texts
from . import DiscussionTestCase, comment_and_confirm, post_comment


class ThreadMarkupTests(DiscussionTestCase):
    def test_replies_nest_as_lists_of_replies(self):
        a = comment_and_confirm(self.client, self.post, comment="A")
        b = comment_and_confirm(self.client, self.post, reply_to=a.pk, name="Bo", comment="B")
        c = comment_and_confirm(self.client, self.post, reply_to=b.pk, name="Cy", comment="C")
        d = comment_and_confirm(self.client, self.post, comment="D")
        page = self.page()
        top = page.select("#comments > ol.comment-list > li > article.comment")
        self.assertEqual([node["id"] for node in top], [a.anchor, d.anchor])
        nested = page.select_one(
            f"#{a.anchor} > ol.comment__replies > li > #{b.anchor}"
            f" > ol.comment__replies > li > #{c.anchor}"
        )
        self.assertIsNotNone(nested)
        self.assertEqual(
            [node["aria-label"] for node in page.select("ol.comment__replies")],
            ["Replies to Ann Reader", "Replies to Bo"],
        )
        # Each comment's own words, not its replies', are in its body.
        self.assertEqual(texts(page.select_one(f"#{a.anchor} > .comment__body"), ".comment__text"),
                         ["A"])  # fmt: skip

    def test_reply_links_are_not_followed_by_crawlers(self):
        comment_and_confirm(self.client, self.post)
        links = self.page().select("a.comment__reply")
        self.assertTrue(links)
        for link in links:
            self.assertEqual(link["rel"], ["nofollow"])


class BadgeTests(DiscussionTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.author = make_user("pat", first_name="Pat", last_name="Writer", email="pat@x.org")
        cls.staff = make_staff("eda", first_name="Eda", last_name="Editor", email="eda@x.org")
        cls.reader = make_user("rita", first_name="Rita", last_name="Reader", email="r@x.org")
        cls.authored = make_post("By Pat", "Words.", author=cls.author)

    def comment_as(self, user, words: str) -> None:
        client = Client()
        client.force_login(user)
        self.assertEqual(post_comment(client, self.authored, comment=words).status_code, 302)

    def badges(self) -> dict[str, list[str]]:
        page = soup(self.client.get(self.authored.get_absolute_url()))
        return {
            text(article.select_one(".comment__text")): texts(article, ".comment__badge")
            for article in page.select("article.comment")
        }

    def test_the_author_and_staff_are_marked_by_their_accounts(self):
        self.comment_as(self.author, "From the author.")
        self.comment_as(self.staff, "From the staff.")
        self.comment_as(self.reader, "From a signed-in reader.")
        self.assertEqual(
            self.badges(),
            {
                "From the author.": ["Author of the post"],
                "From the staff.": ["Staff of the blog"],
                "From a signed-in reader.": [],
            },
        )

    def test_taking_their_name_does_not_take_their_badge(self):
        for name in ("Pat Writer", "Eda Editor", "pat", "Staff", "Pat Writer Author"):
            comment_and_confirm(
                self.client, self.authored, name=name, email="imp@example.org",
                comment=f"I am {name}.",
            )  # fmt: skip
        badges = self.badges()
        self.assertEqual(len(badges), 5)
        self.assertEqual(set(map(tuple, badges.values())), {()})

    def test_the_author_of_another_post_is_staff_there_not_author(self):
        other = make_post("By Eda", "Words.", author=self.staff)
        client = Client()
        client.force_login(self.author)
        post_comment(client, other, comment="Pat, on Eda's post.")
        page = soup(self.client.get(other.get_absolute_url()))
        self.assertEqual(texts(page, ".comment__badge"), [])


class CountTests(DiscussionTestCase):
    def test_no_count_of_nothing_and_an_invitation_on_the_post(self):
        quiet = make_post("Quiet", "Nobody yet.", tags=["workforce"])
        for url in ("/", "/tags/workforce/", quiet.get_absolute_url()):
            with self.subTest(url=url):
                page = soup(self.client.get(url))
                self.assertNotIn("0 comments", text(page))
        page = soup(self.client.get(quiet.get_absolute_url()))
        self.assertEqual(
            text(page.select_one(".discussion__empty")), "No comments yet — be the first to answer."
        )
        self.assertEqual(
            text(self.page().select_one(".discussion__empty")),
            "No answers yet — yours could be the first.",
        )
