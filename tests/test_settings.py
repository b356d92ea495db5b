"""Production settings read their secrets from the environment and refuse to start
without them; development needs no environment at all."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "DJANGO_SECRET_KEY": "test-only-kLq2v9Zr4mXw7Tn1bYp8Hc3Jd6Fs0Ga5Ue-wR7pN2xQ8sM4",
    "DJANGO_ALLOWED_HOSTS": "blog.example.org",
    "DATABASE_URL": "postgres://blog:secret@127.0.0.1:5432/blog",
}


def run_django(settings: str, env: dict[str, str], code: str = "") -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    script = f"import django; django.setup(); {code}"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": settings},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", sorted(PROD_ENV))
def test_production_refuses_to_start_without_each_secret(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = run_django("config.settings.prod", env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"  {missing}:" in result.stderr


def test_production_starts_with_its_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'], s.SITE_DOMAIN, "
        "s.SESSION_COOKIE_SECURE, s.MIDDLEWARE[1])"
    )
    result = run_django("config.settings.prod", PROD_ENV, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "['blog.example.org']",
        "django.db.backends.postgresql",
        "blog.example.org",
        "True",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


def test_development_needs_no_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.DATABASES['default']['NAME'], s.TIME_ZONE, s.LANGUAGE_CODE)"
    )
    result = run_django("config.settings.dev", {}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", str(ROOT / "db.sqlite3"), "Europe/London", "en-gb"]


def test_production_passes_the_deployment_checks():
    code = (
        "from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    result = run_django("config.settings.prod", PROD_ENV, code)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "value, parsed",
    [("", []), ("unix", ["unix"]), ("127.0.0.1, ::1", ["127.0.0.1", "::1"]),
     ("10.0.0.0/8 unix", ["10.0.0.0/8", "unix"])],
)  # fmt: skip
def test_production_reads_the_trusted_proxies(value, parsed):
    code = "from django.conf import settings as s; print(s.BLOG_TRUSTED_PROXIES)"
    result = run_django("config.settings.prod", {**PROD_ENV, "DJANGO_TRUSTED_PROXIES": value}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(parsed)


@pytest.mark.parametrize("value", ["nginx", "127.0.0.1,localhost", "10.0.0.0/33", "*"])
def test_production_refuses_a_trusted_proxy_that_is_no_address(value):
    result = run_django("config.settings.prod", {**PROD_ENV, "DJANGO_TRUSTED_PROXIES": value})
    assert result.returncode != 0
    assert "DJANGO_TRUSTED_PROXIES" in result.stderr
