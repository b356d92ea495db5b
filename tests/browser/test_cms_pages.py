"""An editor creates an About page in the admin, in Chromium, at 1280 and 390 px, in the
post's editor (preview beside the body, axe clean), puts it in the navigation and
publishes it, then finds it in the header of the home page (without overflowing the
phone's width) and reads it at its address."""

import re

import pytest

from blog.models import Page
from tests.factories import make_staff

from .conftest import PASSWORD, screenshot, sign_in
from .test_editor_desk import check_axe

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect


def test_an_editor_creates_an_about_page_in_the_navigation(april_2014, page):
    staff = make_staff("editor", first_name="Eve", last_name="Editor", password=PASSWORD)
    sign_in(page, april_2014, staff.username)

    # Writing › Pages › Add page, by the desk's own links.
    page.locator(".app-writing").get_by_role("link", name="Pages", exact=True).click()
    page.wait_for_url(april_2014 + "/admin/blog/page/")
    page.get_by_role("link", name="Add page").click()
    page.wait_for_url(april_2014 + "/admin/blog/page/add/")

    page.locator("#id_title").press_sequentially("About")
    # The slug follows the title (prepopulated), as a writer would leave it.
    expect(page.locator("#id_slug")).to_have_value("about")
    # The post's editor (blog.admin_editor): the body beside its preview in the site's
    # look, behind a tab on a phone.
    page.locator(".markdownx textarea#id_body.markdownx-editor").press_sequentially(
        "We are **social workers** writing about child protection."
    )
    if page.width_name == "phone":
        page.get_by_role("tab", name="Preview").click()
    preview = page.frame_locator("iframe.editor__frame")
    expect(preview.locator(".post__body strong")).to_have_text("social workers")
    expect(preview.locator("h1")).to_have_text("About")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "cms-page-editor")
    check_axe(page, "page editor")

    page.locator("#id_in_navigation").check()
    page.locator("#id_navigation_order").fill("1")
    # Publishing is a button, as for posts: no status dropdown, no schedule.
    row = page.locator(".publish-row--bottom")
    expect(row.get_by_role("button")).to_have_text(["Save draft", "Publish"])
    row.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/blog/page/\d+/change/$"))
    expect(page.locator(".messagelist .success")).to_contain_text("is published")
    expect(row.get_by_role("button")).to_have_text(["Update", "Unpublish"])
    saved = Page.objects.get(slug="about")
    assert saved.is_public and saved.in_navigation
    assert "<strong>social workers</strong>" in saved.body_html

    page.goto(april_2014 + "/")
    about = page.locator(".site-nav").get_by_role("link", name="About", exact=True)
    expect(about).to_be_visible()
    expect(page.locator(".site-nav a")).to_have_text(
        ["Home", "Tags", "Discussions", "References", "About"]
    )
    # Nothing wider than the screen, on a phone too.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "cms-page-navigation")

    about.click()
    page.wait_for_url(april_2014 + "/about/")
    expect(page.locator("h1")).to_have_text("About")
    expect(page.locator(".post__body strong")).to_have_text("social workers")
    expect(about).to_have_attribute("aria-current", "page")
    screenshot(page, "cms-page-about")
