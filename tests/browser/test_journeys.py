"""A reader's journeys through the site, in Chromium, at 1280 and 390 px, by clicking
and typing only: from the home page through the archive to a footnote and back, from a
post's tag to its other posts, through the search box; and a post as it prints."""

import re

import pytest
from django.test import Client

from blog.models import Post
from tests.discussion import comment_and_confirm

from .conftest import in_viewport, open_browsing, screenshot, wait_until_in_viewport

pytestmark = pytest.mark.django_db(transaction=True)
# Where Playwright is missing the module is skipped, as the browser fixture would be.
expect = pytest.importorskip("playwright.sync_api").expect

STEPPING_UP = "Stepping up but not staying in?"
OFSTED = "Ofsted – and the TIWPIR problem"


def titles(page) -> list[str]:
    return page.locator(".post-summary__title a").all_inner_texts()


def is_target(page, anchor: str) -> bool:
    return page.evaluate("id => document.querySelector(':target')?.id === id", anchor)


def test_from_the_home_page_through_the_archive_to_a_footnote_and_back(april_2014, page):
    page.goto(april_2014 + "/")
    # The sidebar's archive tree: below the posts on a phone, opened with a tap.
    open_browsing(page)
    page.locator(".archive-tree").get_by_role("link", name="April", exact=True).click()
    page.wait_for_url(april_2014 + "/2014/04/")
    expect(page.locator("h1")).to_have_text("April 2014")
    assert STEPPING_UP in titles(page)

    page.get_by_role("link", name=STEPPING_UP, exact=True).click()
    page.wait_for_url(re.compile(r"/2014/04/15/stepping-up-but-not-staying-in/$"))
    expect(page.locator("h1")).to_have_text(STEPPING_UP)
    cite, reference = page.locator("#cite-1"), page.locator("#ref-1")
    # The marker is in the text, the reference below it, out of sight until followed.
    assert page.locator(".post__body #cite-1").count() == 1
    assert not in_viewport(reference)
    expect(cite).to_have_attribute("href", "#ref-1")

    cite.click()
    page.wait_for_url(re.compile(r"#ref-1$"))
    wait_until_in_viewport(reference)
    assert is_target(page, "ref-1")
    assert page.evaluate("window.scrollY") > 0
    screenshot(page, "journey-reference")

    reference.locator("a.backlink").click()
    page.wait_for_url(re.compile(r"#cite-1$"))
    wait_until_in_viewport(cite)
    assert is_target(page, "cite-1")
    screenshot(page, "journey-back-in-text")


def test_from_a_posts_tag_to_the_tags_other_posts(april_2014, page):
    workforce = list(
        Post.objects.published().filter(tags__slug="workforce").values_list("title", flat=True)
    )
    assert workforce == [STEPPING_UP, "Pressure of Work"]  # newest first

    page.goto(april_2014 + "/")
    page.get_by_role("link", name=STEPPING_UP, exact=True).click()
    expect(page.locator("h1")).to_have_text(STEPPING_UP)
    tags = page.locator(".post__footer .post-tags a[rel=tag]")
    expect(tags).to_have_text(["research", "retention", "workforce"])

    tags.get_by_text("workforce", exact=True).click()
    page.wait_for_url(april_2014 + "/tags/workforce/")
    expect(page.locator("h1")).to_have_text("Posts tagged “workforce”")
    expect(page.locator(".breadcrumb")).to_contain_text("2 posts")
    assert titles(page) == workforce
    screenshot(page, "journey-tag")

    page.get_by_role("link", name="Pressure of Work", exact=True).click()
    expect(page.locator("h1")).to_have_text("Pressure of Work")
    expect(page.locator(".post__footer .post-tags")).to_contain_text("workforce")

    # Every tag, from the site's navigation, leads to its page too.
    page.locator(".site-nav").get_by_role("link", name="Tags").click()
    page.wait_for_url(april_2014 + "/tags/")
    page.locator(".content").get_by_role("link", name="Ofsted", exact=True).click()
    page.wait_for_url(april_2014 + "/tags/ofsted/")
    assert titles(page) == [OFSTED]


def search_from_the_header(page, words: str):
    """Type ``words`` into the header's search box and press Enter: the response."""
    box = page.locator("form.site-search #site-search-q")
    box.fill(words)
    with page.expect_navigation() as navigation:
        box.press("Enter")
    return navigation.value


def test_searching_from_the_header(april_2014, page):
    page.goto(april_2014 + "/")
    response = search_from_the_header(page, "inspections")
    assert response.status == 200
    assert page.url == april_2014 + "/search/?q=inspections"
    expect(page.locator("h1")).to_have_text("Search")
    expect(page.locator(".search-summary")).to_have_text("1 post found for “inspections”.")
    expect(page.locator("#search-q")).to_have_value("inspections")
    result = page.locator(".search-result")
    expect(result.locator(".search-result__title")).to_have_text([OFSTED])
    # The post says "inspection": the stemmed match is marked, and only markup is <mark>.
    marks = result.locator(".search-result__snippet mark")
    assert marks.count() >= 1
    for word in marks.all_inner_texts():
        assert word.lower().startswith("inspection"), word
    screenshot(page, "journey-search")

    result.get_by_role("link", name=OFSTED, exact=True).click()
    expect(page.locator("h1")).to_have_text(OFSTED)

    response = search_from_the_header(page, "xylophone")
    assert response.status == 200
    expect(page.locator(".search-summary")).to_have_text("0 posts found for “xylophone”.")
    assert page.locator(".search-result").count() == 0
    expect(page.get_by_text("Nothing matched.")).to_be_visible()
    screenshot(page, "journey-search-nothing")

    # The engines' own syntax is only punctuation to the site: no error, the text kept.
    hostile = '"NEAR(* ^'
    response = search_from_the_header(page, hostile)
    assert response.status == 200
    expect(page.locator("h1")).to_have_text("Search")
    expect(page.locator("#search-q")).to_have_value(hostile)
    expect(page.locator(".search-summary")).to_contain_text(f"found for “{hostile}”")
    assert page.locator(".notice--error").count() == 0


def test_a_post_prints_without_the_sites_furniture(april_2014, page):
    post = Post.objects.get(slug="learning-organisations")
    comment_and_confirm(Client(), post, name="Ann Reader", comment="Learning needs safety.")
    page.goto(april_2014 + post.get_absolute_url())
    for shown in (".site-nav", "form.site-search", ".sidebar", "form#comment-form"):
        expect(page.locator(shown)).to_be_visible()

    page.emulate_media(media="print")
    for hidden in (
        ".site-nav",
        "form.site-search",
        ".sidebar",
        "form#comment-form",
        ".comment__actions",
        ".post-nav",
        ".backlink",
    ):
        expect(page.locator(hidden).first).to_be_hidden()
    for shown in ("h1", ".post__body", "#references", ".site-title", ".comment__text"):
        expect(page.locator(shown)).to_be_visible()
    expect(page.locator(".comment__text")).to_have_text("Learning needs safety.")
    screenshot(page, "print-post")
