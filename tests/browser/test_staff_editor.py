"""A member of staff writes a post, in Chromium, at 1280 and 390 px: signs in through
the admin's own form, writes Markdown with a numbered marker, watches the live preview,
adds the reference, publishes, and finds the post at the top of the home page."""

import re

import pytest

from blog.models import Post
from tests.factories import make_staff

from .conftest import PASSWORD, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect

TITLE = "Supervision that supports"
BODY = (
    "Good supervision is **bold** enough to ask what went wrong [1].\n\n"
    "It is time set aside, not snatched between visits."
)
CITATION = "Munro, E. (2011) The Munro Review of Child Protection: Final Report."




def test_staff_write_preview_and_publish_a_post(april_2014, page):
    staff = make_staff("editor", first_name="Eve", last_name="Editor", password=PASSWORD)
    sign_in(page, april_2014, staff.username)

    # Writing › Posts › Add post, by the desk's own links.
    page.locator(".app-writing").get_by_role("link", name="Posts", exact=True).click()
    page.wait_for_url(april_2014 + "/admin/blog/post/")
    page.get_by_role("link", name="Add post").click()
    page.wait_for_url(april_2014 + "/admin/blog/post/add/")

    page.locator("#id_title").fill(TITLE)
    editor = page.locator(".markdownx textarea#id_body.markdownx-editor")
    # Typed key by key, as a writer would: the editor previews as they type.
    editor.press_sequentially(BODY)
    # The preview (blog/admin_editor.py, replacing markdownx's own) is a frame in the
    # site's stylesheet, behind a tab on a phone.
    if page.width_name == "phone":
        page.get_by_role("tab", name="Preview").click()
    preview = page.frame_locator("iframe.editor__frame").locator(".post__body")
    # The body goes through the site's own (sanitising) Markdown pipeline.
    expect(preview.locator("strong")).to_have_text("bold")
    assert "<strong>bold</strong>" in preview.inner_html()
    expect(preview).to_contain_text("It is time set aside")

    page.locator("#id_references-0-number").fill("1")
    page.locator("#id_references-0-citation").fill(CITATION)
    page.locator("#id_tags").fill("workforce")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "editor-preview")

    # Publishing is a button now (no status dropdown): "Publish now" takes the time.
    page.locator(".publish-row--bottom").get_by_role("button", name="Publish now").click()
    page.wait_for_url(re.compile(r"/admin/blog/post/\d+/change/$"))
    expect(page.locator(".messagelist .success")).to_contain_text("is published")
    post = Post.objects.get(title=TITLE)
    assert post.author == staff
    assert post.is_public

    # The admin's "View site" link: the new post is the newest, at the top.
    page.get_by_role("link", name="View site").click()
    page.wait_for_url(april_2014 + "/")
    first = page.locator(".post-summary").first
    expect(first.locator(".post-summary__title a")).to_have_text(TITLE)
    expect(first.locator(".post-tags a[rel=tag]")).to_have_text(["workforce"])
    screenshot(page, "editor-home")

    first.locator(".post-summary__title a").click()
    page.wait_for_url(april_2014 + post.get_absolute_url())
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator(".post__body strong")).to_have_text("bold")
    expect(page.locator(".post__body #cite-1")).to_have_attribute("href", "#ref-1")
    expect(page.locator("#references li#ref-1")).to_contain_text(CITATION)
    expect(page.locator(".post-meta__author")).to_have_text("by Eve Editor")
    screenshot(page, "editor-published-post")
