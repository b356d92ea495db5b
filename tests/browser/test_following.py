"""Following by e-mail in a real browser: a reader on a phone follows from the footer
and lands on "check your inbox"; and the form and its pages photographed at 1280 and
390 px, light and dark (test-artifacts/screenshots/follow-*), none wider than the
window."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from blog.models import Follower
from tests.browser.conftest import ARTIFACTS, PASSWORD, WIDTHS, sign_in
from tests.factories import make_staff
from tests.following import confirm_path, follow, follow_and_confirm, unsubscribe_path

pytestmark = pytest.mark.django_db(transaction=True)

NO_WIDER_THAN_THE_WINDOW = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


def test_a_reader_on_a_phone_follows_from_the_footer(browser, april_2014):
    expect = pytest.importorskip("playwright.sync_api").expect
    cache.clear()
    context = browser.new_context(viewport={"width": WIDTHS["phone"], "height": 844})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(april_2014 + "/2014/04/09/learning-organisations/")
        form = page.locator("footer form.follow-form")
        form.get_by_label("Your e-mail address").fill("Ann.Reader@Example.org")
        form.get_by_label("A weekly digest").check()
        form.get_by_role("button", name="Follow").click()
        page.wait_for_url(april_2014 + "/follow/sent/")
        expect(page.locator("h1")).to_have_text("Check your inbox")
        assert page.evaluate(NO_WIDER_THAN_THE_WINDOW)
    finally:
        context.close()
    follower = Follower.objects.get()
    assert (follower.email, follower.tag, follower.frequency) == (
        "ann.reader@example.org",
        None,
        "weekly",
    )
    assert not follower.is_confirmed
    assert [m.to for m in mail.outbox] == [["ann.reader@example.org"]]


def photograph(page, name: str, locator=None) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"follow-{name}-{WIDTHS[page.width_name]}-{page.scheme}.png"
    if locator is None:
        page.screenshot(path=path, full_page=True)
    else:
        locator.screenshot(path=path)
    assert page.evaluate(NO_WIDER_THAN_THE_WINDOW), name


def test_the_pages_photographed(schemed_page, april_2014):
    page = schemed_page
    cache.clear()
    site = april_2014
    page.goto(site + "/")
    photograph(page, "footer", page.locator("footer"))
    page.goto(site + "/tags/workforce/")
    photograph(page, "tag-form", page.locator(".tag-follow"))
    page.goto(site + "/follow/")
    photograph(page, "form-page")
    form = page.locator("main form.follow-form")
    form.locator("input[name=email]").fill("Ann <ann@example.org>")
    form.evaluate("form => { form.noValidate = true; }")
    form.locator("button[type=submit]").click()
    page.locator("main .errorlist").wait_for()
    photograph(page, "form-errors")
    follow(Client(), "ann@example.org", tag="workforce")
    page.goto(site + "/follow/sent/")
    photograph(page, "sent")
    page.goto(site + confirm_path())
    photograph(page, "confirm")
    confirmed = follow_and_confirm(Client(REMOTE_ADDR="192.0.2.5"), "bob@example.org")
    page.goto(site + unsubscribe_path(confirmed))
    photograph(page, "unsubscribe")
    make_staff("editor", password=PASSWORD)
    sign_in(page, site, "editor")
    page.goto(site + "/admin/blog/follower/")
    photograph(page, "admin-list")
