"""Hardening: the deployment check finds nothing in the production settings; every
response carries the security headers and the Content-Security-Policy (pages from the
page cache too); cookies are Secure and HttpOnly; failed staff sign-ins are throttled
per user name and address (django-axes); the admin can live at another address."""

from __future__ import annotations

import base64
import datetime
import hashlib
import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import Client, SimpleTestCase, TestCase, override_settings
from django.urls import clear_url_caches, reverse

from blog.markup import render_markdown

from .caching import token_queries
from .factories import make_post, make_staff

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "DJANGO_SECRET_KEY": "test-only-Vq8rT2nLx5Wc9Kd3Hs7Jb1Mf6Pz4Ga0Ye-uN8wQ2eR5tY7iO3",
    "DJANGO_ALLOWED_HOSTS": "blog.example.org",
}
PASSWORD = "a-long-test-password"
HERE, THERE = "203.0.113.5", "198.51.100.7"
TABLE = "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |"


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py *args`` with the production settings, in a clean environment."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_", "CACHE_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **clean,
            **PROD_ENV,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def shell(tmp_path: Path, code: str, **env: str) -> subprocess.CompletedProcess:
    return manage(tmp_path, "shell", "--no-imports", "-c", code, **env)


# The deployment check, in production settings ------------------------------------------


def test_the_deployment_check_finds_nothing_and_silences_nothing(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output


def test_the_deployment_check_does_see_warnings(tmp_path):
    # The check above can fail: served without HTTPS, it warns and exits 1.
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", DJANGO_SECURE="0")
    assert result.returncode == 1
    assert "security.W004" in result.stderr  # no HSTS


def test_hsts_extras_are_on_unless_switched_off(tmp_path):
    show = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SILENCED_SYSTEM_CHECKS)"
    )
    assert shell(tmp_path, show).stdout.strip() == "True True []"
    off = shell(tmp_path, show, DJANGO_HSTS_PRELOAD="0")
    assert off.stdout.strip() == "True False ['security.W021']"
    # Switched off, the warning is the operator's decision: the check stays clean.
    checked = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING",
                     DJANGO_HSTS_INCLUDE_SUBDOMAINS="0")  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "no issues (1 silenced)" in checked.stdout


def test_the_admin_address_comes_from_the_environment(tmp_path):
    show = "from django.urls import reverse; print(reverse('admin:index'))"
    assert shell(tmp_path, show).stdout.strip() == "/admin/"
    for value in ("staff-7f3a", "/staff-7f3a/", " staff-7f3a/ "):
        moved = shell(tmp_path, show, DJANGO_ADMIN_URL=value)
        assert moved.stdout.strip() == "/staff-7f3a/", moved.stderr
    for value in ("/", "<str:x>/", "staff 7f3a"):
        refused = shell(tmp_path, show, DJANGO_ADMIN_URL=value)
        assert refused.returncode != 0
        assert "DJANGO_ADMIN_URL must be a path" in refused.stderr


# Headers, as the production settings set them ------------------------------------------

PRODUCTION_LIKE = override_settings(
    SECURE_HSTS_SECONDS=60 * 60 * 24 * 30,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
)


def sha256(value: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(value.encode()).digest()).decode() + "'"


EXPECTED_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-hashes' "
    + " ".join(sha256(f"text-align:{side}") for side in ("left", "center", "right")),
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.split(" ", 1) for part in header.split("; "))


class HeadersTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor", password=PASSWORD)
        cls.post = make_post("Caseloads", f"Caseloads again.\n\n{TABLE}", author=cls.staff)

    def assert_hardened(self, response) -> None:
        self.assertEqual(policy(response), EXPECTED_POLICY)
        self.assertNotIn("unsafe-inline", response["Content-Security-Policy"])
        self.assertEqual(
            response["Strict-Transport-Security"], "max-age=2592000; includeSubDomains; preload"
        )
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["Referrer-Policy"], "same-origin")
        self.assertEqual(response["X-Frame-Options"], "DENY")


@PRODUCTION_LIKE
class HeaderTests(HeadersTestCase):
    def test_every_kind_of_page_carries_the_headers(self):
        for url in (
            "/",
            self.post.get_absolute_url(),
            reverse("blog:search") + "?q=caseloads",
            reverse("blog:feed-atom"),
            reverse("robots"),
            reverse("admin:login"),
            "/no-such-page/",
        ):
            with self.subTest(url=url):
                self.assert_hardened(self.client.get(url, secure=True))

    def test_pages_from_the_page_cache_carry_them_too(self):
        for url in ("/", self.post.get_absolute_url()):
            with self.subTest(url=url):
                self.assert_hardened(self.client.get(url, secure=True))  # stored
                with self.assertNumQueries(token_queries()):  # served from the cache
                    self.assert_hardened(Client().get(url, secure=True))

    def test_a_new_policy_applies_to_cached_pages_at_once(self):
        # The cached entry keeps no policy of its own: CSPMiddleware sits outside the cache.
        self.client.get("/")
        new_policy = {"DIRECTIVES": {"default-src": ["'none'"]}}
        with (
            override_settings(CONTENT_SECURITY_POLICY=new_policy),
            self.assertNumQueries(token_queries()),
        ):
            response = Client().get("/")
        self.assertEqual(response["Content-Security-Policy"], "default-src 'none'")

    def test_cookies_are_secure_and_http_only(self):
        url = self.post.get_absolute_url()  # the comment form sets the CSRF cookie
        for source in ("built", "cached"):
            with self.subTest(source=source):
                cookie = Client().get(url, secure=True).cookies[settings.CSRF_COOKIE_NAME]
                self.assertTrue(cookie["secure"])
                self.assertTrue(cookie["httponly"])
                self.assertEqual(cookie["samesite"], "Lax")
        response = sign_in(Client(), "editor", PASSWORD, secure=True)
        self.assertEqual(response.status_code, 302)
        session = response.cookies[settings.SESSION_COOKIE_NAME]
        self.assertTrue(session["secure"])
        self.assertTrue(session["httponly"])


class InlineCodeTests(SimpleTestCase):
    def test_no_template_has_inline_script_or_style(self):
        # Only data blocks (JSON-LD), which browsers never run, may sit inline.
        inline = re.compile(
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/ld\+json\")"
            r"|<style|\sstyle=|\son[a-z]+=|javascript:",
            re.IGNORECASE,
        )
        # E-mails are read in mail programs, under no policy of the site's: many drop a
        # <style> block and read only inline styles. Nothing in them runs, either.
        emails = ROOT / "templates" / "blog" / "email"
        scripts = re.compile(r"<script|\son[a-z]+=|javascript:", re.IGNORECASE)
        templates = sorted((ROOT / "templates").rglob("*.html"))
        self.assertGreater(len(templates), 30)
        for template in templates:
            with self.subTest(template=template.relative_to(ROOT)):
                rule = scripts if template.is_relative_to(emails) else inline
                self.assertIsNone(rule.search(template.read_text()))

    def test_markdown_tables_use_only_the_styles_the_policy_allows(self):
        styles = set(re.findall(r'style="([^"]*)"', render_markdown(TABLE)))
        self.assertEqual(styles, set(settings.TABLE_ALIGN_STYLES))


# Failed sign-ins ---------------------------------------------------------------------


def sign_in(client: Client, username: str, password: str, address: str = HERE, **extra):
    """The admin's sign-in form, posted from ``address``."""
    admin = reverse("admin:index")
    form = {"username": username, "password": password, "next": admin}
    return client.post(reverse("admin:login"), form, REMOTE_ADDR=address, **extra)


class LockoutTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor", password=PASSWORD)
        cls.other = make_staff("moderator", password=PASSWORD)

    def fail(self, times: int, username: str = "editor", address: str = HERE):
        for _ in range(times):
            response = sign_in(Client(), username, "not-the-password", address)
        return response

    def assert_signed_in(self, response) -> None:
        self.assertRedirects(response, reverse("admin:index"), fetch_redirect_response=False)

    def assert_locked(self, response) -> None:
        self.assertContains(response, "Sign-in paused", status_code=429)
        self.assertContains(response, "after 5 failures", status_code=429)
        self.assertContains(response, "paused for 60 minutes", status_code=429)
        self.assertNotIn(settings.SESSION_COOKIE_NAME, response.cookies)

    def test_four_failures_are_only_failures(self):
        response = self.fail(4)
        self.assertContains(response, "Please enter the correct username and password")
        self.assert_signed_in(sign_in(Client(), "editor", PASSWORD))

    def test_the_fifth_failure_locks_the_name_at_that_address(self):
        self.assert_locked(self.fail(5))
        # Even the right password is refused, and nobody is signed in.
        self.assert_locked(sign_in(Client(), "editor", PASSWORD))
        self.staff.refresh_from_db()
        self.assertIsNone(self.staff.last_login)

    def test_the_lockout_page_is_the_sites(self):
        response = self.fail(5)
        self.assertTemplateUsed(response, "blog/base_blog.html")
        self.assertContains(response, "as “editor”", status_code=429)
        self.assertEqual(policy(response), EXPECTED_POLICY)

    def test_a_locked_name_signs_in_from_another_address(self):
        self.fail(5)
        self.assert_signed_in(sign_in(Client(), "editor", PASSWORD, THERE))

    def test_another_name_signs_in_from_the_locked_address(self):
        self.fail(5)
        self.assert_signed_in(sign_in(Client(), "moderator", PASSWORD, HERE))

    def test_an_attacker_elsewhere_cannot_lock_the_staff_out(self):
        self.fail(20, address=THERE)
        self.assert_signed_in(sign_in(Client(), "editor", PASSWORD, HERE))

    def test_signing_in_starts_the_count_again(self):
        self.fail(4)
        self.assert_signed_in(sign_in(Client(), "editor", PASSWORD))
        self.assertContains(self.fail(4), "Please enter the correct username and password")

    def test_the_lock_lifts_an_hour_after_the_last_attempt(self):
        start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
        with time_machine.travel(start, tick=False) as clock:
            self.fail(5)
            clock.shift(datetime.timedelta(minutes=59))
            # Still locked; and the attempt starts the hour again.
            self.assert_locked(sign_in(Client(), "editor", PASSWORD))
            clock.shift(datetime.timedelta(minutes=59))
            self.assert_locked(sign_in(Client(), "editor", PASSWORD))
            clock.shift(datetime.timedelta(minutes=61))
            self.assert_signed_in(sign_in(Client(), "editor", PASSWORD))
        # A successful sign-in clears the record.
        self.assertFalse(AccessAttempt.objects.exists())


# The admin's address -------------------------------------------------------------------


def reload_urls() -> None:
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    clear_url_caches()
    cache.clear()  # pages cached under the other address (robots.txt)


@contextmanager
def admin_at(path: str) -> Iterator[None]:
    """The site with ``ADMIN_URL = path``, its URLs built afresh, and restored after."""
    try:
        with override_settings(ADMIN_URL=path):
            reload_urls()
            yield
    finally:
        reload_urls()


class AdminAddressTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor", password=PASSWORD)

    def test_the_admin_answers_at_its_own_address_only(self):
        with admin_at("staff-7f3a/"):
            self.assertEqual(reverse("admin:index"), "/staff-7f3a/")
            self.assertRedirects(
                self.client.get("/staff-7f3a/"),
                "/staff-7f3a/login/?next=/staff-7f3a/",
                fetch_redirect_response=False,
            )
            self.assertEqual(self.client.get("/admin/").status_code, 404)
            self.assert_signed_in_at("/staff-7f3a/")
        self.assertEqual(reverse("admin:index"), "/admin/")

    def assert_signed_in_at(self, admin: str) -> None:
        form = {"username": "editor", "password": PASSWORD, "next": admin}
        response = self.client.post(admin + "login/", form)
        self.assertRedirects(response, admin, fetch_redirect_response=False)

    def test_sign_in_is_throttled_there_too(self):
        with admin_at("staff-7f3a/"):
            for _ in range(5):
                response = sign_in(Client(), "editor", "not-the-password")
            self.assertEqual(response.wsgi_request.path, "/staff-7f3a/login/")
            self.assertContains(response, "Sign-in paused", status_code=429)

    def test_robots_txt_names_the_usual_admin_address_but_never_a_moved_one(self):
        self.assertContains(self.client.get("/robots.txt"), "Disallow: /admin/\n")
        with admin_at("staff-7f3a/"):
            robots = self.client.get("/robots.txt").content.decode()
        self.assertNotIn("staff-7f3a", robots)
        self.assertNotIn("admin", robots)
        self.assertIn("Disallow: /markdownx/\n", robots)
