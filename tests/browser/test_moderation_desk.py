"""A moderator, in Chromium at 1280 and 390 px: signs in, lands on the desk, opens the
queue from it, approves a held comment with its row's button and finds it on the post.
The desk, the posts list, the comments list and a comment's change form: nothing cut
off, and axe finds nothing serious or critical, in the light and the dark scheme."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from blog.models import Comment, Post
from tests.discussion import comment_and_confirm
from tests.factories import make_post, make_staff

from .conftest import PASSWORD, WIDTHS, screenshot, sign_in
from .test_accessibility import serious_violations

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect

HELD = "Read this https://a.example https://b.example https://c.example"  # too many links

# The whole page no wider than the window, and no list wider than its box (Django lets a
# list scroll sideways inside it): nothing to scroll to sideways, nothing cut off.
FITS = """() => document.documentElement.scrollWidth <= window.innerWidth
    && [...document.querySelectorAll('#changelist .results')].every(
        box => box.scrollWidth <= box.clientWidth)"""




@pytest.fixture
def held_comment(april_2014, settings) -> Comment:
    cache.clear()  # the per-IP rate limit counts in the default cache
    settings.BLOG_COMMENTS_RATE_LIMIT = 100
    post = Post.objects.get(slug="learning-organisations")
    client = Client()
    comment_and_confirm(client, post, name="Ann Reader", comment="A first answer.")
    return comment_and_confirm(client, post, name="Linky", comment=HELD)


def test_a_moderator_approves_a_held_comment_from_the_desk(april_2014, held_comment, page):
    assert not held_comment.is_public
    make_staff("moderator", first_name="Mo", last_name="Derator", password=PASSWORD)
    sign_in(page, april_2014, "moderator")

    # The desk: the blog's name, and the queue first.
    expect(page.locator("#site-name")).to_have_text("Child Protection Social Work")
    expect(page.locator("#content h1")).to_have_text("Desk")
    count = page.locator(".desk-panel--queue .desk-panel__count a")
    expect(count).to_have_text(re.compile(r"1\s+comment awaiting approval"))
    assert page.evaluate(FITS)
    screenshot(page, "admin-desk")

    count.click()
    page.wait_for_url(re.compile(r"/admin/blog/comment/\?moderation=held$"))
    row = page.locator("#result_list tbody tr", has_text="Linky")
    expect(row.locator(".comment-row__held")).to_contain_text("more than 2 links")
    expect(row.locator(".comment-row__text")).to_contain_text("https://c.example")
    approve = row.get_by_role("button", name="Approve the comment by Linky")
    expect(approve).to_be_visible()
    assert page.evaluate(FITS)
    screenshot(page, "admin-comments-queue")

    approve.click()
    page.wait_for_url(re.compile(r"/admin/blog/comment/\?moderation=held$"))
    expect(page.locator(".messagelist")).to_contain_text("1 comment was successfully approved")
    held_comment.refresh_from_db()
    assert held_comment.is_public

    page.goto(april_2014 + held_comment.get_absolute_url())
    expect(page.locator(f"#c{held_comment.pk}")).to_contain_text("https://a.example")
    screenshot(page, "admin-approved-on-the-post")


ADMIN_PAGES = {
    "admin-desk": "/admin/",
    "admin-posts": "/admin/blog/post/",
    "admin-comments": "/admin/blog/comment/?moderation=all",
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_admin_pages_are_accessible_and_fit(april_2014, held_comment, browser, scheme):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_module.Axe()
    make_staff("moderator", password=PASSWORD)
    # The posts list with every status, and long titles and dates.
    make_post(
        "Supervision that supports: notes towards a longer piece on reflective practice",
        status=Post.Status.DRAFT,
    )
    make_post(
        "What the Munro review changed",
        published_at=timezone.now() + datetime.timedelta(days=2),
    )
    pages = {**ADMIN_PAGES, "admin-comment-form": f"/admin/blog/comment/{held_comment.pk}/change/"}
    audit_admin_pages(browser, april_2014, "moderator", pages, scheme, axe)


def audit_admin_pages(browser, site, username, pages, scheme, axe, then=None) -> None:
    """Each of ``pages`` signed in as ``username``, at both widths in ``scheme``:
    answered 200, no serious axe violation, no wider than the window, screenshotted.
    ``then(page)``, if given, runs at each width after the pages."""
    found = {}
    for width_name, width in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.width_name = f"{width_name}-{scheme}"
        try:
            sign_in(page, site, username)
            for name, path in pages.items():
                response = page.goto(site + path)
                assert response.status == 200, path
                serious = serious_violations(axe, page)
                if serious:
                    found[f"{name} {width_name}"] = serious
                assert page.evaluate(FITS), f"{name} is wider than the window at {width} px"
                screenshot(page, name)
            if then is not None:
                then(page)
        finally:
            context.close()
    assert found == {}, "\n".join(f"{name}: {issues}" for name, issues in found.items())
