"""Followers' addresses (blog.following.addresses): one spelling per mailbox, and
anything that is not one plain address refused with a message saying what to fix
(issue 18: hostile addresses)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.test import SimpleTestCase, TestCase
from django_comments_xtd.models import BlackListedDomain

from blog.following.addresses import MAX_LENGTH, normalise_address, spellings
from blog.following.forms import FollowForm
from blog.models import Follower

from . import FOLLOW, follow

LONG_LOCAL = "a" * 64
LONG_DOMAIN = ".".join(["b" * 63] * 3) + ".example"  # 200 characters


class NormalisationTests(SimpleTestCase):
    def test_one_spelling_of_each_address(self):
        for typed in (
            "ann@example.org",
            "Ann@Example.ORG",
            "ANN@EXAMPLE.ORG",
            "  ann@example.org  ",
            "ann@example.org.",  # the DNS root
            "ann@ｅｘａｍｐｌｅ．ｏｒｇ",  # full-width letters and dot
            "ann@example。org",  # ideographic full stop
            "ann@exa\u00admple.org",  # a soft hyphen, which resolvers drop
        ):
            with self.subTest(typed=typed):
                self.assertEqual(normalise_address(typed), "ann@example.org")

    def test_unicode_domains_in_their_ascii_form(self):
        for typed in ("leser@bücher.example", "leser@BÜCHER.example",
                      "leser@bu\u0308cher.example", "LESER@XN--BCHER-KVA.EXAMPLE"):  # fmt: skip
            with self.subTest(typed=typed):
                self.assertEqual(normalise_address(typed), "leser@xn--bcher-kva.example")

    def test_what_is_kept_of_the_local_part(self):
        # Dots and +tags name other mailboxes on most servers: kept as typed.
        self.assertEqual(normalise_address("Ann.Reader+Blog@example.org"),
                         "ann.reader+blog@example.org")  # fmt: skip

    def refused(self, value: str) -> ValidationError:
        with self.assertRaises(ValidationError) as caught:
            normalise_address(value)
        return caught.exception

    def test_header_injection_is_refused_wherever_the_break_is(self):
        for value in (
            "ann@example.org\r\nBcc: victim@example.net",
            "ann@example.org\nBcc: victim@example.net",
            "ann@example.org\r\n",  # even at the end, where strip() would hide it
            "\nann@example.org",
            "ann@exa\rmple.org",
            "ann@example.org\x85Bcc: victim@example.net",  # NEL
            "ann@example.org\u2028Bcc: victim@example.net",  # line separator
            "ann\x00@example.org",
            "ann\u202e@example.org",  # a bidi override
        ):
            with self.subTest(value=value):
                self.assertEqual(self.refused(value).code, "control_characters")

    def test_a_name_with_the_address_is_refused(self):
        for value in ("Ann Reader <ann@example.org>", "<ann@example.org>",
                      '"Ann" ann@example.org', '"ann reader"@example.org'):  # fmt: skip
            with self.subTest(value=value):
                error = self.refused(value)
                self.assertEqual(error.code, "display_name")
                self.assertIn("without a name", error.message)

    def test_several_addresses_are_refused(self):
        for value in ("a@example.org, c@example.org", "a@example.org;c@example.org",
                      "a@example.org,c@example.org", "a@b@example.org"):  # fmt: skip
            with self.subTest(value=value):
                self.assertEqual(self.refused(value).code, "several")
        self.assertEqual(self.refused("a@example.org c@example.org").code, "several")
        self.assertEqual(self.refused("ann @example.org").code, "spaces")

    def test_too_long_is_refused(self):
        address = f"{LONG_LOCAL}@{LONG_DOMAIN}"
        self.assertGreater(len(address), MAX_LENGTH)
        self.assertEqual(self.refused(address).code, "max_length")
        self.assertEqual(self.refused("a" * 10_000 + "@example.org").code, "max_length")
        # Short as typed, too long once its domain is in ASCII (punycode).
        label = "中文网站博客社会工作儿童保护文"
        grows = "a" * 64 + "@" + ".".join([label] * 4) + ".example"
        self.assertLessEqual(len(grows), MAX_LENGTH)
        self.assertEqual(self.refused(grows).code, "max_length")

    def test_ip_addresses_and_hosts_without_a_domain_are_refused(self):
        for value in ("ann@[192.0.2.1]", "ann@192.0.2.1", "ann@[IPv6:2001:db8::1]",
                      "ann@１９２.０.２.１"):  # fmt: skip
            with self.subTest(value=value):
                self.assertEqual(self.refused(value).code, "ip_literal")
        for value in ("ann@localhost", "ann@example..org", "ann@-example.org", "ann@exa mple"):
            with self.subTest(value=value):
                self.assertIn(self.refused(value).code, ("bad_host", "spaces"))

    def test_what_is_not_an_address_at_all(self):
        for value in (
            "ann",
            "ann@",
            "@example.org",
            "ann@.org",
            "ánn@example.org",
            "a..b@example.org",
        ):
            with self.subTest(value=value):
                self.assertIn(self.refused(value).code, ("invalid", "bad_host"))

    def test_staff_find_an_address_however_they_type_it(self):
        self.assertEqual(spellings(" Ann@Example.ORG "), {"ann@example.org"})
        self.assertEqual(spellings("ann@[192.0.2.1]"), {"ann@[192.0.2.1]"})


class FormTests(TestCase):
    def test_uppercase_duplicates_are_one_following(self):
        for typed in ("ann@example.org", "ANN@Example.org", " Ann@EXAMPLE.ORG. "):
            self.assertEqual(follow(self.client, typed).status_code, 303)
        self.assertEqual(list(Follower.objects.values_list("email", flat=True)),
                         ["ann@example.org"])  # fmt: skip

    def test_a_blocklisted_domain_is_refused_in_any_spelling(self):
        BlackListedDomain.objects.create(domain="spam.example")
        for typed in ("x@spam.example", "x@SPAM.example", "x@mail.spam.example",
                      "x@ｓｐａｍ．example"):  # fmt: skip
            with self.subTest(typed=typed):
                response = follow(self.client, typed)
                self.assertEqual(response.status_code, 403)
                self.assertContains(
                    response, "not open to addresses at this domain", status_code=403
                )
        self.assertFalse(Follower.objects.exists())

    def test_each_refusal_is_a_400_with_the_form_and_what_to_fix(self):
        for value, message in (
            ("ann@example.org\r\nBcc: b@example.org", "control characters"),
            ("Ann <ann@example.org>", "without a name"),
            ("a@example.org, b@example.org", "one e-mail address only"),
            ("a" * 300 + "@example.org", "longer than an e-mail address can be"),
            ("ann@[192.0.2.1]", "not at an IP address"),
            ("", "Please give your e-mail address"),
        ):
            with self.subTest(value=value):
                response = follow(self.client, value)
                self.assertContains(response, message, status_code=400)
                self.assertContains(response, 'aria-invalid="true"', status_code=400)
                self.assertContains(response, f'action="{FOLLOW}"', status_code=400)
        self.assertFalse(Follower.objects.exists())

    def test_the_field_takes_no_more_than_an_address(self):
        self.assertEqual(FollowForm().fields["email"].widget.attrs["maxlength"], str(MAX_LENGTH))
