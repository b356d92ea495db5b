"""Previews to share, in Chromium: an editor makes a link on a draft's change form,
copies it with the Copy button, a reader opens it (axe finds nothing serious, the
Content-Security-Policy nothing to block), and the editor revokes it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from blog.models import Post, PreviewLink
from tests.factories import make_post, make_staff

from .conftest import PASSWORD, sign_in
from .test_accessibility import serious_violations
from .test_csp import COLLECT_VIOLATIONS, Violations

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(COLLECT_VIOLATIONS)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    yield context
    context.close()


def test_an_editor_shares_a_preview_and_revokes_it(live_server, context):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    site = live_server.url
    staff = make_staff("editor", first_name="Eve", last_name="Editor", password=PASSWORD)
    draft = make_post("Draft on supervision", "Supervision matters [1].", author=staff,
                      status=Post.Status.DRAFT, references={1: "Munro, E. (2011)"})  # fmt: skip

    editor = context.new_page()
    violations = Violations(editor)
    sign_in(editor, site, staff.username)
    editor.goto(site + f"/admin/blog/post/{draft.pk}/change/")
    box = editor.locator("#preview-links")
    expect(box).to_contain_text("No valid preview link yet.")
    box.get_by_label("Valid for").select_option(label="1 day")
    box.get_by_role("button", name="Create a preview link").click()
    expect(editor.locator(".messagelist")).to_contain_text("Preview link made, valid for 1 day")
    field = box.locator("input.preview-links__url")
    address = field.input_value()
    assert "/preview/" in address
    box.get_by_role("button", name="Copy").click()
    expect(box.locator(".preview-links__copied")).to_have_text("Link copied.")
    assert editor.evaluate("navigator.clipboard.readText()") == address
    assert violations.read() == []

    # Whoever holds it (on the live server's own address, whatever SITE_DOMAIN says).
    reader = context.browser.new_page()
    reader.add_init_script(COLLECT_VIOLATIONS)
    reader_violations = Violations(reader)
    path = urlsplit(address).path
    response = reader.goto(site + path)
    assert response.status == 200
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    expect(reader.get_by_role("status")).to_contain_text("Preview — this post is not published")
    expect(reader.locator("h1")).to_have_text("Draft on supervision")
    assert serious_violations(axe, reader) == []
    assert reader_violations.read() == []

    box.get_by_role("button", name="Revoke").click()
    expect(editor.locator(".messagelist")).to_contain_text("Preview link revoked")
    assert PreviewLink.objects.get().revoked_at is not None
    response = reader.goto(site + path)
    assert response.status == 410
    expect(reader.locator("h1")).to_have_text("Preview no longer available")
    assert serious_violations(axe, reader) == []
    assert violations.read() == [] and reader_violations.read() == []
    reader.close()
