"""Look-alike spellings of a domain do not pass the blocklist (issue 14, item 6).

An address or website whose domain was written with full-width letters or an
ideographic full stop passed a blocklisted domain, and was e-mailed or linked in that
spelling. Every host is now compared, stored, e-mailed and linked in one spelling
(blog/discussion/hosts.py); a host that has none is refused.
"""

from __future__ import annotations

from django.contrib.admin.sites import site as admin_site
from django.core import mail
from django.test import SimpleTestCase, override_settings
from django.urls import reverse
from django_comments_xtd.models import BlackListedDomain

from blog.discussion.hosts import BadHost, normalise_email, normalise_host, normalise_url
from blog.discussion.moderation import is_blocklisted
from blog.models import Comment

from ..discussion import (
    DiscussionTestCase,
    confirmation_path,
    post_comment,
    press,
    row_counts,
)
from ..factories import make_staff
from ..html import soup, text

# Ways of writing "example.com" that browsers and mail servers all take for it.
EXAMPLE_COM = [
    "example.com",
    "EXAMPLE.COM",
    "Example.Com",
    "example.com.",
    "ｅｘａｍｐｌｅ．ｃｏｍ",  # full-width letters and full stop
    "ＥＸＡＭＰＬＥ．ＣＯＭ",  # full-width capitals
    "example。com",  # ideographic full stop
    "example｡com",  # half-width ideographic full stop
    "example．com",  # full-width full stop
    "example。com。",  # and a trailing one
    "ｅxａmｐlｅ.cｏm",  # some letters full-width
    "exa\u00admple.com",  # a soft hyphen, which resolvers drop
    "ex\u00adample\u00ad.com",
    "ｅｘａｍｐｌｅ.com.",
]
BÜCHER = [
    "bücher.example",
    "BÜCHER.example",
    "bu\u0308cher.example",  # decomposed ü
    "xn--bcher-kva.example",
    "XN--BCHER-KVA.EXAMPLE",
    "ｂüｃｈｅｒ。ｅｘａｍｐｌｅ",
]
NOT_HOSTS = [
    "",
    ".",
    "example..com",
    "exa mple.com",
    "-example.com",
    "example-.com",
    "exam_ple.com",
    "xn--zz.example",  # not valid punycode
    "xn--example-.com",
    "example.com\u202e",  # a bidi override
    "exa\u200dmple.com",  # a joiner where none is allowed
    "example.com/evil",
    "a" * 64 + ".com",  # a label longer than DNS allows
    "ex*ample.com",
]


class NormaliseTests(SimpleTestCase):
    def test_every_spelling_of_a_domain_is_one(self):
        for spelling in EXAMPLE_COM:
            with self.subTest(spelling):
                self.assertEqual(normalise_host(spelling), "example.com")
        for spelling in BÜCHER:
            with self.subTest(spelling):
                self.assertEqual(normalise_host(spelling), "xn--bcher-kva.example")
        for spelling in ("www.ｅｘａｍｐｌｅ．ｃｏｍ", "WWW.example。com."):
            with self.subTest(spelling):
                self.assertEqual(normalise_host(spelling), "www.example.com")

    def test_ip_addresses_in_their_standard_form(self):
        self.assertEqual(normalise_host("１２７．０．０．１"), "127.0.0.1")
        self.assertEqual(normalise_host("[::FFFF:7f00:1]"), "::ffff:7f00:1")

    def test_what_is_not_a_host_is_refused(self):
        for host in NOT_HOSTS:
            with self.subTest(host=host), self.assertRaises(BadHost):
                normalise_host(host)

    def test_addresses_and_websites_keep_all_but_the_host(self):
        self.assertEqual(normalise_email("Ann.R+x@ｅｘａｍｐｌｅ。ｃｏｍ"), "Ann.R+x@example.com")
        self.assertEqual(
            normalise_url("https://ＷＷＷ．ｅｘａｍｐｌｅ．ｃｏｍ:8443/Path?q=Ｘ#f"),
            "https://www.example.com:8443/Path?q=Ｘ#f",
        )
        for url in (
            "https://example.org@evil.example/",
            "https://user:pw@example.org/",
            "https://example.org:99999/",
            "https://exa..mple.org/",
        ):
            with self.subTest(url), self.assertRaises(BadHost):
                normalise_url(url)


class BlocklistTests(DiscussionTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # As entries are found in the table: plain, in Unicode, and as typed long ago.
        BlackListedDomain.objects.create(domain="example.com")
        BlackListedDomain.objects.create(domain="bücher.example")
        BlackListedDomain.objects.create(domain="ＳＰＡＭ．Example。")

    def test_the_blocklist_sees_through_every_spelling(self):
        spellings = [*EXAMPLE_COM, *BÜCHER, "spam.example", "ｓｐａｍ．ｅｘａｍｐｌｅ"]
        for spelling in spellings:
            for host in (spelling, f"mail.{spelling}", f"ＷＷＷ．{spelling}"):
                with self.subTest(host=host):
                    self.assertTrue(is_blocklisted(f"ann@{host}", ""))
                    self.assertTrue(is_blocklisted("", f"https://{host}/page"))
        for host in ("example.org", "notexample.com", "example.com.au", "xn--bcher-kva.org"):
            with self.subTest(host=host):
                self.assertFalse(is_blocklisted(f"ann@{host}", f"https://{host}/"))

    def test_a_host_that_cannot_be_compared_is_refused(self):
        for host in NOT_HOSTS[2:]:
            with self.subTest(host=host):
                self.assertTrue(is_blocklisted(f"ann@{host}", ""))

    @override_settings(BLOG_COMMENTS_RATE_LIMIT=10_000)
    def test_comments_from_look_alikes_are_refused(self):
        for spelling in [*EXAMPLE_COM, *BÜCHER]:
            for field, value in (("email", f"ann@{spelling}"), ("url", f"https://{spelling}/x")):
                with self.subTest(field=field, value=value):
                    before = row_counts()
                    response = post_comment(self.client, self.post, **{field: value})
                    self.assertContains(response, "not accepted here", status_code=403)
                    self.assertEqual(row_counts(), before)
        self.assertEqual(len(mail.outbox), 0)

    @override_settings(BLOG_COMMENTS_RATE_LIMIT=10_000)
    def test_hosts_that_cannot_be_normalised_get_a_clear_error(self):
        for field, value in (
            ("url", "https://xn--zz.example/"),
            ("url", "https://fine.example.org@elsewhere.example/"),
            ("url", "https://user:secret@fine.example.org/"),
            ("url", "https://exa\u00ad\u00admple.o\u200drg/"),
            ("email", "ann@xn--zz.example"),
            ("email", "ann@exam\u200dple.org"),
        ):
            with self.subTest(field=field, value=value):
                response = post_comment(self.client, self.post, **{field: value})
                self.assertEqual(response.status_code, 400)
                errors = soup(response).select(f"#comment-form .errorlist, #id_{field}_error")
                self.assertTrue(errors, text(soup(response))[:800])
                self.assertEqual(row_counts(), (0, 0, 0))
        self.assertEqual(len(mail.outbox), 0)

    def test_a_look_alike_is_stored_mailed_and_linked_in_plain_letters(self):
        response = post_comment(
            self.client,
            self.post,
            email="Ann@ｆｉｎｅ．ｅｘａｍｐｌｅ．ｏｒｇ",
            url="https://ＷＷＷ．ｆｉｎｅ．ｅｘａｍｐｌｅ。ｏｒｇ/about",
            comment="Hello.",
        )
        self.assertEqual(response.status_code, 302)
        [message] = mail.outbox
        self.assertEqual(message.to, ["Ann@fine.example.org"])
        press(self.client, confirmation_path(message))
        comment = Comment.objects.get()
        self.assertEqual(comment.user_email, "Ann@fine.example.org")
        self.assertEqual(comment.user_url, "https://www.fine.example.org/about")
        page = self.client.get(self.post.get_absolute_url())
        self.assertContains(page, 'href="https://www.fine.example.org/about"')
        self.assertNotContains(page, "ｆｉｎｅ")
        notice = [m for m in mail.outbox if "moderator@example.org" in m.to]
        self.assertTrue(notice)
        self.assertIn("https://www.fine.example.org/about", notice[-1].body)
        self.assertNotIn("ｆｉｎｅ", notice[-1].body)


class AdminBlocklistTests(DiscussionTestCase):
    def test_the_admin_stores_entries_as_they_are_compared(self):
        self.client.force_login(make_staff())
        url = reverse("admin:django_comments_xtd_blacklisteddomain_add")
        for typed, stored in (
            ("ｓｐａｍ．ｅｘａｍｐｌｅ", "spam.example"),
            ("Bücher.Example.", "xn--bcher-kva.example"),
            ("*.junk.example", "junk.example"),
        ):
            with self.subTest(typed):
                response = self.client.post(url, {"domain": typed})
                self.assertEqual(response.status_code, 302)
                self.assertTrue(BlackListedDomain.objects.filter(domain=stored).exists())
        for typed in ("not a domain", "xn--zz.example", "a..b"):
            with self.subTest(typed):
                response = self.client.post(url, {"domain": typed})
                self.assertContains(response, "cannot be blocked")
        self.assertIn(BlackListedDomain, admin_site._registry)
