"""An editor brings the old Blogger blog in from the admin, in Chromium at 1280 and
390 px, light and dark: the posts list's "Import a blog", the upload, the dry run's
report (nothing written yet), the confirmation, and the imported post on the site at its
old address. axe finds nothing serious on the two screens; the screenshots are kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from blog.models import Post
from tests.factories import make_staff

from .conftest import PASSWORD, sign_in
from .test_accessibility import serious_violations
from .test_screenshots import photograph

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect

EXPORT = Path(__file__).parent.parent / "importing" / "files" / "blogger-classic.xml"


def check_axe(page, name: str) -> None:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    found = serious_violations(axe_module.Axe(), page)
    assert found == [], f"{name}: {found}"


def test_an_editor_checks_then_imports_a_blogger_export(live_server, schemed_page):
    page = schemed_page
    site = live_server.url
    make_staff("editor", first_name="Eve", last_name="Editor", password=PASSWORD)
    sign_in(page, site, "editor")

    page.goto(site + reverse("admin:blog_post_changelist"))
    page.get_by_role("link", name="Import a blog").click()
    page.wait_for_url(site + reverse("admin:blog_post_import"))
    expect(page.get_by_role("heading", name="Import a blog", level=1)).to_be_visible()
    check_axe(page, "import")
    photograph(page, "admin-import")

    page.get_by_label("The export is from").select_option("blogger")
    page.get_by_label("Export file").set_input_files(EXPORT)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="What the import would do", level=1)).to_be_visible()
    expect(page.locator(".import__lead")).to_contain_text("Nothing has been written yet")
    posts_row = page.locator("table.import-report tbody tr").filter(has_text="Posts")
    expect(posts_row.locator("td").first).to_have_text("5")
    assert not Post.objects.exists()
    # Nothing wider than the window on a phone: the report scrolls within itself at most.
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"]
    check_axe(page, "import-check")
    photograph(page, "admin-import-check")

    page.get_by_role("button", name="Import these").click()
    expect(page.get_by_role("heading", name="Imported", level=1)).to_be_visible()
    assert Post.objects.filter(source_id__startswith="blogger:").count() == 5

    # A link to the old blog's address now reaches the post here.
    page.goto(site + "/2014/04/stepping-up-but-not-staying-in.html")
    expect(page.locator("h1")).to_have_text("Stepping up – but not staying in")
