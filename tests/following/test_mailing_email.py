"""What a follower finds in a new post's e-mail (blog.following.mailing.message_for):
the post in HTML and plain text with its references, every link absolute, the
unsubscribe link and headers (RFC 8058), nothing staff or readers wrote unescaped."""

from __future__ import annotations

import time_machine
from bs4 import BeautifulSoup
from django.core import mail

from blog.following import links
from blog.models import Follower

from ..factories import london, make_staff, make_user
from ..sites import ROOT as SITE
from ..sites import OnSiteDomainTestCase
from .mailing_fixtures import _forget_rendered, follow, publish  # noqa: F401 (a fixture)

NOW = london(2026, 5, 6, 10, 0)


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


@time_machine.travel(NOW, tick=False)
class NewPostEmailTests(OnSiteDomainTestCase):
    """On the site's real domain and scheme, as the e-mails' links must be."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.staff = make_staff()
        cls.ann = follow("ann@example.org")
        cls.author = make_user(first_name="Pat", last_name="Writer")

    def publish(self, **fields):
        fields.setdefault("author", self.author)
        post = publish(user=self.staff, **fields)
        [message] = mail.outbox
        return post, message

    def test_the_post_in_html_and_text_with_its_references(self):
        post, message = self.publish(
            title="Thresholds",
            body="Thresholds differ [1], and [the guidance][g] says so [2].\n\n"
            "[g]: /about/\n",
            references={1: ("Munro, E. (2011) Review.", "https://example.org/munro"),
                        2: ("Ofsted (2014) Report.", "")},
        )  # fmt: skip
        self.assertEqual(message.subject, "New post: ‘Thresholds’ – Child Protection Social Work")
        self.assertEqual(message.to, ["ann@example.org"])
        url = f"{SITE}{post.get_absolute_url()}"
        page = soup(html_of(message))
        self.assertEqual(page.select_one("h1 a")["href"], url)
        self.assertEqual(page.select_one("h1").get_text(strip=True), "Thresholds")
        self.assertIn("Wednesday, 6 May 2026 · by Pat Writer", page.get_text(" ", strip=True))
        body = page.select_one(".post-body")
        # The markers lead to the post's references on its page; the site's own links
        # are full addresses.
        self.assertEqual([a["href"] for a in body.select("a.cite")],
                         [f"{url}#ref-1", f"{url}#ref-2"])  # fmt: skip
        self.assertIn(f"{SITE}/about/", [a["href"] for a in body.select("a")])
        references = page.select("ol li")
        self.assertEqual([li["value"] for li in references], ["1", "2"])
        self.assertEqual(references[0].a["href"], "https://example.org/munro")
        self.assertEqual(references[1].get_text(strip=True), "Ofsted (2014) Report.")
        self.assertIn(url, [a["href"] for a in page.select("a")])
        # The text: the Markdown as written, the references numbered, the links.
        text = message.body
        self.assertTrue(text.startswith("Thresholds\nWednesday, 6 May 2026 · by Pat Writer\n"))
        self.assertIn("Thresholds differ [1], and [the guidance][g] says so [2].", text)
        self.assertIn(f"[g]: {SITE}/about/", text)
        self.assertIn("[1] Munro, E. (2011) Review.\n    https://example.org/munro\n", text)
        self.assertIn("[2] Ofsted (2014) Report.\n", text)
        self.assertIn(f"Read it on the site: {url}\n", text)

    def test_the_unsubscribe_link_and_headers_are_the_followers_own(self):
        _, message = self.publish()
        link = links.unsubscribe_url(self.ann)
        self.assertTrue(link.startswith(f"{SITE}/"))
        self.assertEqual(message.extra_headers["List-Unsubscribe"], f"<{link}>")
        self.assertEqual(message.extra_headers["List-Unsubscribe-Post"],
                         "List-Unsubscribe=One-Click")  # fmt: skip
        self.assertIn(f"Stop these e-mails (one click, no sign-in): {link}\n", message.body)
        stop = soup(html_of(message)).find("a", string="Stop these e-mails")
        self.assertEqual(stop["href"], link)
        # As it goes over the wire.
        raw = message.message().as_string()
        self.assertIn("List-Unsubscribe-Post: List-Unsubscribe=One-Click", raw)

    def test_each_follower_gets_their_own_link(self):
        bob = follow("bob@example.org")
        publish(user=self.staff)
        by_address = {m.to[0]: m for m in mail.outbox}
        for follower in (self.ann, bob):
            link = links.unsubscribe_url(follower)
            message = by_address[follower.email]
            self.assertEqual(message.extra_headers["List-Unsubscribe"], f"<{link}>")
            self.assertIn(link, message.body)
            self.assertIn(link.replace("&", "&amp;"), html_of(message))
        self.assertNotEqual(by_address["ann@example.org"].body, by_address["bob@example.org"].body)

    def test_a_tags_follower_is_told_why_they_get_it(self):
        Follower.objects.all().delete()
        follow("cat@example.org", "Ofsted")
        _, message = self.publish(tags=["Ofsted"])
        self.assertIn('new posts tagged "Ofsted"', message.body)
        footer = soup(html_of(message)).find("a", string="Ofsted")
        self.assertEqual(footer["href"], f"{SITE}/tags/ofsted/")

    def test_what_staff_wrote_is_escaped(self):
        _, message = self.publish(
            title="<script>alert(1)</script> & co",
            body="Text <script>alert(2)</script> <img src=x onerror=alert(3)>.",
            references={1: ('<b onclick="x()">Bold</b> claim', "javascript:alert(4)")},
            call_for_answers="What <i>would</i> you do?",
        )
        html = html_of(message)
        self.assertNotIn("<script", html)
        self.assertNotIn("onerror", html)
        self.assertNotIn("<b onclick", html)
        self.assertNotIn("<i>would", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co", html)
        self.assertIn("&lt;b onclick=", html)
        self.assertIn("What &lt;i&gt;would&lt;/i&gt; you do?", html)
        # The subject is a header: one line, as written.
        self.assertEqual(
            message.subject,
            "New post: ‘<script>alert(1)</script> & co’ – Child Protection Social Work",
        )

    def test_images_are_absolute_and_fit_the_email(self):
        _, message = self.publish(body="A chart:\n\n![Referrals by year](/media/chart.png)\n")
        img = soup(html_of(message)).select_one(".post-body img")
        self.assertEqual(img["src"], f"{SITE}/media/chart.png")
        self.assertEqual(img["alt"], "Referrals by year")
        self.assertIn("max-width:100%", img["style"])
        self.assertIn(f"![Referrals by year]({SITE}/media/chart.png)", message.body)

    def test_a_call_for_answers_leads_to_the_discussion(self):
        post, message = self.publish(call_for_answers="Would you have removed the child?")
        url = f"{SITE}{post.get_absolute_url()}"
        page = soup(html_of(message))
        self.assertIn("Answers please", page.get_text())
        self.assertEqual(page.find("a", string="Give your answer")["href"], f"{url}#comment-form")
        self.assertIn("Answers please: Would you have removed the child?", message.body)
        self.assertIn(f"Give your answer: {url}#comment-form", message.body)

    def test_no_comment_link_where_comments_are_off(self):
        _, message = self.publish(allow_comments=False)
        self.assertNotIn("#comment", message.body)
        self.assertNotIn("#comment", html_of(message))

    def test_an_untitled_post_is_named_by_its_opening_words(self):
        _, message = self.publish(title="", body="I am not really surprised to hear it again.")
        self.assertEqual(
            message.subject,
            "New post: ‘I am not really surprised to…’ – Child Protection Social Work",
        )
