"""The comment counts on the lists of posts, and the discussions page that lists
the calls for answers and the posts discussed."""

from __future__ import annotations

import datetime

import time_machine
from django.utils import timezone

from ..factories import make_post
from ..html import soup, text, texts
from . import DiscussionTestCase, comment_and_confirm


class CountsAndDiscussionsPageTests(DiscussionTestCase):
    def test_lists_show_each_posts_published_comment_count(self):
        self.post.tags.add("workforce")
        comment_and_confirm(self.client, self.post)
        comment_and_confirm(self.client, self.post, name="Bob")
        held = comment_and_confirm(
            self.client, self.post, name="Held", comment="https://a.x https://b.x https://c.x"
        )
        self.assertFalse(held.is_public)
        day = self.post.published_on
        for url in (
            "/",
            f"/{day:%Y}/",
            f"/{day:%Y/%m}/",
            f"/{day:%Y/%m/%d}/",
            "/tags/workforce/",
            self.post.get_absolute_url(),
        ):
            with self.subTest(url=url):
                page = soup(self.client.get(url))
                counts = dict(
                    zip(
                        [a["href"] for a in page.select("a.post-meta__comments")],
                        [text(a).split(" on ")[0] for a in page.select("a.post-meta__comments")],
                        strict=True,
                    )
                )
                self.assertEqual(counts[f"{self.post.get_absolute_url()}#comments"], "2 comments")

    def test_discussions_lists_calls_and_discussed_posts_latest_comment_first(self):
        quiet = make_post("Quiet", "Nobody has commented.")  # neither: not listed
        comment_and_confirm(self.client, self.other_post, comment="Early words on pressure")
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
            comment_and_confirm(
                self.client,
                self.post,
                name="Bob",
                comment="The newest answer of all, which is long enough",
            )
        call_only = make_post("Tell us", "What do you think?", call_for_answers="Tell us.")
        page = soup(self.client.get("/discussions/"))
        self.assertEqual(
            texts(page, ".discussion-summary__title"),
            ["Learning Organisations", "Pressure of Work", "Tell us"],
        )
        first = page.select_one(".discussion-summary")
        self.assertIn("1 comment", text(first))
        self.assertIn("Answers please", text(first))
        self.assertIn("Bob: “The newest answer of all", text(first))
        self.assertNotIn(quiet.title, text(page))
        self.assertIn(
            call_only.get_absolute_url() + "#comments",
            [a["href"] for a in page.select(".discussion-summary__title a")],
        )
