"""Real-browser tests: Debian's Chromium driven by Playwright against a live server.

`make test` installs Chromium when it is missing; where no browser can be had, these
tests are skipped with a message that says so, and the rest of the suite runs.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

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
