"""A newcomer's first visit, in Chromium: the seven April 2014 entries as the seed has
them, from the home page into each post, its references and back, at 1280 and 390 px."""

import pytest
from django.core.management import call_command

from tests.seed import read_seed, seed_available

from .conftest import open_browsing, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(live_server):
    call_command("loaddata", "april_2014", verbosity=0)
    return live_server.url


def shown_lines(page) -> list[str]:
    """The body's lines as rendered: one per paragraph or line break."""
    lines = []
    for paragraph in page.locator(".post__body p").all_inner_texts():
        lines += [" ".join(line.split()) for line in paragraph.split("\n")]
    return [line for line in lines if line]


def assert_fits_the_width(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.skipif(
    not seed_available(), reason="the client's seed (../shared/seeds/) is not beside the repo"
)
def test_the_seven_entries_read_as_the_seed_has_them(site, page):
    seed = read_seed()
    page.goto(site + "/")
    screenshot(page, "home")
    assert_fits_the_width(page)
    headings = page.locator(".day__heading time").evaluate_all(
        "nodes => nodes.map(n => n.textContent)"
    )
    seed_days = sorted({e.day for e in seed}, reverse=True)
    assert headings == [f"{d:%A}, {d.day} {d:%B %Y}" for d in seed_days]
    links = page.locator(".post-summary__title a")
    assert links.count() == 7

    for index, entry in enumerate(seed):
        page.goto(site + "/")
        page.locator(".post-summary__title a").nth(index).click()
        page.wait_for_load_state()
        heading = page.locator("h1")
        if entry.title:
            assert heading.inner_text() == entry.title
            assert heading.is_visible()
        else:
            # No invented title: the date heads it on screen, named as an untitled post
            # for screen readers.
            assert heading.is_visible()
            day = entry.day
            assert heading.inner_text().endswith(f"{day:%A}, {day.day} {day:%B %Y}")
            assert heading.text_content().startswith("Untitled post of ")
            assert page.title().startswith("I’m not really surprised to hear…")
        assert shown_lines(page) == [" ".join(line.split()) for line in entry.lines]
        shown_refs = page.locator("#references li").all_inner_texts()
        assert [" ".join(r.replace("↩", "").split()) for r in shown_refs] == [
            " ".join(text.split()) for _, text in sorted(entry.references.items())
        ]
        assert_fits_the_width(page)
        if index == 2:
            screenshot(page, "post-with-reference")


def test_footnote_and_back(site, page):
    page.goto(site + "/2014/04/")
    page.get_by_role("link", name="Stepping up but not staying in?").first.click()
    page.locator("#cite-1").click()
    assert page.url.endswith("#ref-1")
    reference = page.locator("#ref-1")
    assert reference.is_visible()
    assert reference.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight }"
    )
    reference.locator("a.backlink").click()
    assert page.url.endswith("#cite-1")
    screenshot(page, "footnote-back")


def test_archive_tree_and_tags_lead_to_their_pages(site, page):
    page.goto(site + "/")
    open_browsing(page)
    page.locator(".archive-tree").get_by_role("link", name="April").click()
    assert page.locator("h1").inner_text() == "April 2014"
    assert page.locator(".post-summary").count() == 7
    open_browsing(page)
    page.locator(".tag-cloud").get_by_role("link", name="workforce").click()
    assert page.locator("h1").inner_text() == "Posts tagged “workforce”"
    assert page.locator(".post-summary").count() == 2
    screenshot(page, "tag")


def test_keyboard_reaches_the_skip_link_first(site, page):
    page.goto(site + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    assert page.locator("a.skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
