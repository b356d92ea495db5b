"""X-Forwarded-For: believed only from the proxies named in BLOG_TRUSTED_PROXIES, read
from the right, and used for every count and record kept by address (the comment rate
limit, the staff sign-in pause, the address stored with a comment)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from blog.clientaddress import client_address, parse_address
from blog.models import Comment

from ..discussion import DiscussionTestCase, form_data
from ..factories import make_staff

PROXY = "10.0.0.2"  # the reverse proxy in front, as gunicorn sees it
OUTSIDER = "192.0.2.66"  # a client connecting to the server directly
READER, OTHER_READER = "203.0.113.5", "198.51.100.7"

# What anyone can write in X-Forwarded-For. Sent by a peer that is not a trusted proxy,
# none of it may change the address.
SPOOFS = [
    "203.0.113.9",
    "127.0.0.1",
    "10.0.0.2",
    " 203.0.113.9 ",
    "203.0.113.9, 198.51.100.1",
    "203.0.113.9,198.51.100.1,10.0.0.2",
    "203.0.113.9:443",
    "[2001:db8::1]:80",
    "2001:db8::1",
    "::ffff:203.0.113.9",
    "unknown",
    "garbage, 203.0.113.9",
    "",
    ",,,",
    "_hidden, obfuscated",
    "203.0.113.9\t,\t198.51.100.1",
    ", ".join(f"198.51.{n // 256}.{n % 256}" for n in range(5000)),
    "1" * 10_000,
    "fe80::1%eth0",
    "203.0.113.256",
]


def request(remote_addr: str = OUTSIDER, forwarded: str | None = None):
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


@pytest.mark.parametrize("trusted", [[], [PROXY], ["10.0.0.0/8", "unix"], ["127.0.0.1"]])
@pytest.mark.parametrize("forwarded", SPOOFS)
def test_a_peer_that_is_no_trusted_proxy_is_the_client_whatever_it_forwards(trusted, forwarded):
    with override_settings(BLOG_TRUSTED_PROXIES=trusted):
        assert client_address(request(OUTSIDER, forwarded)) == OUTSIDER


@pytest.mark.parametrize("forwarded", SPOOFS)
def test_several_forwarded_headers_from_an_outsider_are_ignored(forwarded):
    # gunicorn joins repeated headers with commas; the outcome is the same.
    with override_settings(BLOG_TRUSTED_PROXIES=[PROXY]):
        joined = ",".join([forwarded, "203.0.113.77", forwarded])
        assert client_address(request(OUTSIDER, joined)) == OUTSIDER


@pytest.mark.parametrize(
    "forwarded, client",
    [
        (READER, READER),
        (f"  {READER}  ", READER),
        (f"{READER}:51234", READER),
        (f"127.0.0.1, 6.6.6.6, {READER}", READER),  # the left is what the reader wrote
        (f"6.6.6.6,{READER}", READER),
        (f"unknown, garbage, {READER}", READER),
        (f"{READER}, 10.0.0.3", READER),  # a second trusted proxy in the chain
        (f"6.6.6.6, {READER}, 10.1.2.3, 10.0.0.3", READER),
        ("2001:DB8::0001", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        (f"::ffff:{READER}", READER),
        (", ".join(["6.6.6.6"] * 5000 + [READER]), READER),
        # Nothing believable from the proxy: its own address, the last one vouched for.
        ("", PROXY),
        ("unknown", PROXY),
        ("garbage", PROXY),
        (f"{READER}, unknown", PROXY),
        (f"{READER}, 203.0.113.256", PROXY),
        (f"{READER}, [2001:db8::1", PROXY),
        (f"{READER}, 1.2.3.4:99999999", PROXY),
        (f"{READER}, fe80::1%eth0", PROXY),
        (f"{READER}, _obfuscated", PROXY),
        (f"{READER}, garbage, 10.0.0.3", "10.0.0.3"),
        ("10.0.0.3", "10.0.0.3"),  # only proxies: the furthest is the client
    ],
)
def test_from_a_trusted_proxy_the_rightmost_untrusted_entry_is_the_client(forwarded, client):
    with override_settings(BLOG_TRUSTED_PROXIES=["10.0.0.0/8"]):
        assert client_address(request(PROXY, forwarded)) == client


def test_no_forwarded_header_from_a_trusted_proxy_leaves_the_proxy():
    with override_settings(BLOG_TRUSTED_PROXIES=[PROXY]):
        assert client_address(request(PROXY)) == PROXY


@pytest.mark.parametrize(
    "trusted, forwarded, client",
    [
        (["unix"], READER, READER),
        (["unix"], f"6.6.6.6, {READER}", READER),
        (["unix"], "garbage", None),
        (["unix"], None, None),
        ([], READER, None),  # a Unix-socket peer not named: no address, and no header read
        (["127.0.0.1"], READER, None),
    ],
)
def test_a_unix_socket_peer_is_trusted_only_when_named(trusted, forwarded, client):
    # gunicorn serving a Unix socket gives no peer address.
    with override_settings(BLOG_TRUSTED_PROXIES=trusted):
        assert client_address(request("", forwarded)) == client


@pytest.mark.parametrize("remote_addr", ["", "unknown", "not-an-address", "[::1]:80x"])
def test_no_usable_peer_address_is_no_address(remote_addr):
    assert client_address(request(remote_addr, READER)) is None


@pytest.mark.parametrize(
    "text, parsed",
    [("203.0.113.5", READER), ("203.0.113.5:80", READER), ("[::1]", "::1"), ("[::1]:8", "::1"),
     ("::1", "::1"), ("1.2.3.4:", None), ("1.2.3.4:x", None), ("[::1]x", None), ("[::1", None),
     ("1.2.3", None), ("٣.٣.٣.٣", None), ("1.2.3.4:٣", None), ("", None)],
)  # fmt: skip
def test_parse_address(text, parsed):
    result = parse_address(text)
    assert (None if result is None else str(result)) == parsed


def test_a_trusted_proxy_that_is_not_an_address_is_refused():
    with (
        override_settings(BLOG_TRUSTED_PROXIES=["nginx"]),
        pytest.raises(ImproperlyConfigured, match="nginx"),
    ):
        client_address(request(PROXY, READER))


# The comment rate limit and the address stored with a comment ----------------------


@override_settings(BLOG_COMMENTS_RATE_LIMIT=2, BLOG_COMMENTS_RATE_PERIOD=60)
class CommentsBehindTheProxyTests(DiscussionTestCase):
    def setUp(self):
        # Frozen at the start of a minute, so all posts fall in one counting period.
        minute = timezone.now().replace(second=5, microsecond=0) + datetime.timedelta(days=1)
        traveller = time_machine.travel(minute, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def send(self, remote_addr: str, forwarded: str | None = None, **fields):
        headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
        data = form_data(self.post, **fields)
        with self.captureOnCommitCallbacks(execute=True):
            return Client().post("/comments/post/", data, REMOTE_ADDR=remote_addr, **headers)

    @override_settings(BLOG_TRUSTED_PROXIES=[PROXY])
    def test_the_limit_counts_each_reader_behind_the_proxy(self):
        for _ in range(2):
            self.assertEqual(self.send(PROXY, READER).status_code, 302)
        self.assertEqual(self.send(PROXY, READER).status_code, 429)
        # Another reader behind the same proxy is not held back by the first.
        self.assertEqual(self.send(PROXY, OTHER_READER).status_code, 302)
        # Nor is the first reader's limit escaped by writing another address on the left.
        self.assertEqual(self.send(PROXY, f"{OTHER_READER}, {READER}").status_code, 429)

    @override_settings(BLOG_TRUSTED_PROXIES=[PROXY])
    def test_the_limit_is_not_escaped_by_forwarding_addresses_directly(self):
        for n, forwarded in enumerate(SPOOFS[:2]):
            self.assertEqual(self.send(OUTSIDER, forwarded, comment=f"c{n}").status_code, 302)
        for forwarded in SPOOFS:
            self.assertEqual(self.send(OUTSIDER, forwarded).status_code, 429)

    @override_settings(BLOG_TRUSTED_PROXIES=["unix"])
    def test_the_address_stored_with_a_comment_is_the_readers(self):
        signed_in = Client()
        signed_in.force_login(make_staff("moderator"))
        with self.captureOnCommitCallbacks(execute=True):
            response = signed_in.post(
                "/comments/post/", form_data(self.post), REMOTE_ADDR="",
                HTTP_X_FORWARDED_FOR=f"6.6.6.6, {READER}",
            )  # fmt: skip
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Comment.objects.get().ip_address, READER)

    @override_settings(BLOG_TRUSTED_PROXIES=[PROXY])
    def test_an_outsiders_forwarded_address_is_not_stored(self):
        signed_in = Client()
        signed_in.force_login(make_staff("moderator"))
        with self.captureOnCommitCallbacks(execute=True):
            signed_in.post(
                "/comments/post/", form_data(self.post), REMOTE_ADDR=OUTSIDER,
                HTTP_X_FORWARDED_FOR=READER,
            )  # fmt: skip
        self.assertEqual(Comment.objects.get().ip_address, OUTSIDER)


# Staff sign-in ------------------------------------------------------------------------

PASSWORD = "a-long-test-password"


def sign_in(username: str, password: str, remote_addr: str, forwarded: str | None = None):
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    form = {"username": username, "password": password, "next": reverse("admin:index")}
    return Client().post(reverse("admin:login"), form, REMOTE_ADDR=remote_addr, **headers)


class SignInBehindTheProxyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_staff("editor", password=PASSWORD)

    def assert_signed_in(self, response) -> None:
        self.assertRedirects(response, reverse("admin:index"), fetch_redirect_response=False)

    def assert_paused(self, response) -> None:
        self.assertContains(response, "Sign-in paused", status_code=429)

    @override_settings(BLOG_TRUSTED_PROXIES=[PROXY])
    def test_one_attacker_behind_the_proxy_cannot_pause_sign_in_for_others(self):
        for _ in range(20):
            response = sign_in("editor", "guess", PROXY, f"{READER}, 6.6.6.6")
        self.assert_paused(response)
        self.assert_signed_in(sign_in("editor", PASSWORD, PROXY, OTHER_READER))
        self.assert_signed_in(sign_in("editor", PASSWORD, PROXY, f"6.6.6.6, {OTHER_READER}"))
        # The attacker's own pause holds, whatever they write on the left.
        self.assert_paused(sign_in("editor", PASSWORD, PROXY, f"{OTHER_READER}, 6.6.6.6"))

    @override_settings(BLOG_TRUSTED_PROXIES=["unix"])
    def test_one_attacker_behind_a_unix_socket_proxy_cannot_pause_others(self):
        for _ in range(6):
            sign_in("editor", "guess", "", "6.6.6.6")
        self.assert_signed_in(sign_in("editor", PASSWORD, "", READER))

    @override_settings(BLOG_TRUSTED_PROXIES=[PROXY])
    def test_an_outsider_cannot_pause_a_readers_address_by_forwarding_it(self):
        for forwarded in SPOOFS[:10]:
            sign_in("editor", "guess", OUTSIDER, READER if forwarded == "" else forwarded)
        self.assert_paused(sign_in("editor", PASSWORD, OUTSIDER))
        self.assert_signed_in(sign_in("editor", PASSWORD, PROXY, READER))
        self.assert_signed_in(sign_in("editor", PASSWORD, READER))

    def test_a_guessing_run_from_many_addresses_is_slowed_per_account(self):
        start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
        with time_machine.travel(start, tick=False):
            # Four addresses, five guesses each: the alarm (20 failures from elsewhere).
            for n in range(4):
                for _ in range(5):
                    sign_in("editor", "guess", f"198.51.100.{n}")
            # From then on a new address gets two failures, not five.
            for n in range(10, 20):
                address = f"198.51.100.{n}"
                self.assertEqual(sign_in("editor", "guess", address).status_code, 200)
                self.assert_paused(sign_in("editor", "guess", address))
                self.assert_paused(sign_in("editor", "guess", address))
            # The real user, at their own address, still signs in; and so after a typo.
            self.assert_signed_in(sign_in("editor", PASSWORD, READER))
            self.assertEqual(sign_in("editor", "typo", OTHER_READER).status_code, 200)
            self.assert_signed_in(sign_in("editor", PASSWORD, OTHER_READER))

    def test_a_guessing_run_behind_the_proxy_is_slowed_and_the_user_signs_in(self):
        with override_settings(BLOG_TRUSTED_PROXIES=["unix"]):
            for n in range(40):
                sign_in("editor", "guess", "", f"198.51.100.{n}")
            self.assertEqual(sign_in("editor", "guess", "", "198.51.100.99").status_code, 200)
            self.assert_paused(sign_in("editor", "guess", "", "198.51.100.99"))
            self.assert_signed_in(sign_in("editor", PASSWORD, "", READER))

    def test_one_address_alone_does_not_raise_the_alarm(self):
        for _ in range(40):
            sign_in("editor", "guess", OTHER_READER)
        self.assertEqual(sign_in("editor", "guess", READER).status_code, 200)
        self.assertEqual(sign_in("editor", "guess", READER).status_code, 200)
        self.assert_signed_in(sign_in("editor", PASSWORD, READER))
