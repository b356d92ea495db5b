"""An editor edits a post twice in the admin, in Chromium at 1280 and 390 px, opens its
revisions, compares the first with the current version and restores it: readers get
the first version's words again (blog.admin_revisions)."""

import re

import pytest
from django.urls import reverse

from blog.models import Post
from tests.factories import make_post, make_staff

from .conftest import PASSWORD, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect

FIRST_TITLE = "Thresholds for intervention"
FIRST_BODY = "Where the first version starts [1]."


def edit_in_admin(page, site: str, post: Post, title: str, body: str) -> None:
    page.goto(site + reverse("admin:blog_post_change", args=[post.pk]))
    page.locator("#id_title").fill(title)
    page.locator("textarea#id_body").fill(body)
    page.locator(".publish-row--bottom").get_by_role("button", name="Update").click()
    page.wait_for_url(re.compile(r"/admin/blog/post/\d+/change/$"))
    expect(page.locator(".messagelist .success")).to_be_visible()


def test_edit_twice_compare_and_restore_the_first_version(live_server, page):
    site = live_server.url
    staff = make_staff("editor", first_name="Eve", last_name="Editor", password=PASSWORD)
    post = make_post(FIRST_TITLE, FIRST_BODY, author=staff, references={1: "Munro (2011)."},
                     tags=["Ofsted"])  # fmt: skip
    sign_in(page, site, staff.username)

    edit_in_admin(page, site, post, "Thresholds, second thoughts", "Second words [1].")
    edit_in_admin(page, site, post, "Thresholds, third thoughts", "Third words <script>x</script>.")

    # From the change form's tools, beside the stock History.
    page.locator(".object-tools").get_by_role("link", name="Revisions").click()
    page.wait_for_url(site + reverse("admin:blog_post_revisions", args=[post.pk]))
    rows = page.locator(".revisions__table tbody tr")
    expect(rows).to_have_count(4)  # three revisions and the current version
    expect(rows.nth(0)).to_contain_text("Eve Editor")
    screenshot(page, "revisions-list")

    page.locator("input[name=from]").nth(2).check()  # the oldest: the first version
    page.locator("input[name=to][value=current]").check()
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"/revisions/compare/\?from=\d+&to=current$"))
    expect(page.locator(".revisions__fields")).to_contain_text(FIRST_TITLE)
    expect(page.locator(".diff .diff__removed")).to_contain_text(FIRST_BODY)
    # The body's markup is shown as text, never run.
    expect(page.locator(".diff .diff__added")).to_contain_text("<script>x</script>")
    screenshot(page, "revisions-compare")

    page.locator(".revisions__links a.button").click()
    page.wait_for_url(re.compile(r"/revisions/\d+/restore/$"))
    page.get_by_role("button", name="Restore this revision").click()
    page.wait_for_url(site + reverse("admin:blog_post_revisions", args=[post.pk]))
    expect(page.locator(".messagelist .success")).to_contain_text("is restored")
    expect(page.locator(".revisions__table tbody tr").first).to_contain_text("Restored from")

    page.goto(site + Post.objects.get(pk=post.pk).get_absolute_url())
    expect(page.locator("h1")).to_have_text(FIRST_TITLE)
    expect(page.locator(".post__body")).to_contain_text("Where the first version starts")
    expect(page.locator(".post__body #cite-1")).to_have_attribute("href", "#ref-1")
