"""Real-browser tests: Debian's Chromium driven by Playwright against a live server.

`make test` installs Chromium when it is missing; where no browser can be had, these
tests are skipped with a message that says so, and the rest of the suite runs.
"""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WIDTHS = {"desktop": 1280, "phone": 390}
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "screenshots"

# Playwright's sync API runs an event loop in the test thread; the test's own ORM calls
# (loading fixtures) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium (make test installs it with apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=sorted(WIDTHS))
def page(request, browser) -> Iterator:
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.width_name = request.param
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    """Keep what the reader saw, per width, in test-artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}-{page.width_name}.png", full_page=True)


SCHEMES = ("light", "dark")


@pytest.fixture(
    params=[(width, scheme) for width in sorted(WIDTHS) for scheme in SCHEMES],
    ids=lambda param: "-".join(param),
)
def schemed_page(request, browser) -> Iterator:
    """A page at each width in each colour scheme (prefers-color-scheme)."""
    width, scheme = request.param
    context = browser.new_context(
        viewport={"width": WIDTHS[width], "height": 900}, color_scheme=scheme
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.width_name, page.scheme = width, scheme
    yield page
    context.close()


@pytest.fixture
def april_2014(live_server) -> str:
    """The live server's address, with the seven April 2014 entries loaded."""
    call_command("loaddata", "april_2014", verbosity=0)
    return live_server.url


# The whole box inside the window, as the reader sees it after any scrolling.
_IN_VIEWPORT = """el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
        && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
}"""


def in_viewport(locator) -> bool:
    """Whether the element is wholly within the window now (getBoundingClientRect)."""
    return locator.evaluate(_IN_VIEWPORT)


def wait_until_in_viewport(locator) -> None:
    """Wait, up to the page's default timeout, for the element to be scrolled into view."""
    locator.page.wait_for_function(_IN_VIEWPORT, arg=locator.element_handle())


def open_browsing(page) -> None:
    """Open the sidebar's archive and tags: beside the text on a wide screen, folded into
    one line above the footer on a phone, opened there with a tap."""
    summary = page.locator(".browse > summary")
    if summary.is_visible():
        summary.click()


# The staff accounts' password in the browser tests (tests.factories.make_staff(password=)).
PASSWORD = "a-long-test-password"


def sign_in(page, site: str, username: str) -> None:
    """Sign in to the admin as a member of staff would: its address, the sign-in form,
    then the desk it opens on."""
    desk = reverse("admin:index")
    page.goto(site + desk)
    page.wait_for_url(re.compile(re.escape(reverse("admin:login"))))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(site + desk)
