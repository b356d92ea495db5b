"""Every kind of reader's page, photographed at 1280 and 390 px in the light and the
dark scheme (test-artifacts/screenshots/NAME-WIDTH-SCHEME.png), each checked for what
a reader would notice first: nothing wider than the window, the site's own typefaces
loaded and in use, the colour scheme followed. Then the typography's promises: the
reading measure, the slim header, the archive folded away on a phone, the older and
newer posts side by side."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from blog.models import Post
from tests.browser.conftest import ARTIFACTS, WIDTHS
from tests.discussion import comment_and_confirm, confirmation_path, post_comment

pytestmark = pytest.mark.django_db(transaction=True)

LEARNING = "/2014/04/09/learning-organisations/"
STEPPING_UP = "/2014/04/15/stepping-up-but-not-staying-in/"
PAGES = {
    "home": "/",
    "year": "/2014/",
    "month": "/2014/04/",
    "day": "/2014/04/15/",
    "post-with-comments": LEARNING,
    "post": STEPPING_UP,
    "untitled-post": "/2014/04/17/im-not-really-surprised-to-hear/",
    "tags": "/tags/",
    "tag": "/tags/workforce/",
    "discussions": "/discussions/",
    "references": "/references/",
    "search": "/search/?q=inspections",
    "privacy": "/privacy/",
    "not-found": "/no-such-page/",
}
STATUS = {"not-found": 404}

# What the reader sees of the page: the widest thing, the faces in use and loaded, the
# page's own background.
LOOK = """async () => {
    await document.fonts.ready;
    const loaded = [...document.fonts]
        .filter(face => face.status === "loaded")
        .map(face => face.family.replaceAll('"', ""));
    return {
        scrollWidth: document.scrollingElement.scrollWidth,
        innerWidth: window.innerWidth,
        bodyFont: getComputedStyle(document.body).fontFamily,
        navFont: getComputedStyle(document.querySelector(".site-nav a")).fontFamily,
        loaded: loaded,
        serifReady: document.fonts.check('1em "Source Serif 4"'),
        background: getComputedStyle(document.body).backgroundColor,
        text: getComputedStyle(document.body).color,
    };
}"""


def luminance(css_colour: str) -> float:
    """Relative luminance (WCAG) of an ``rgb(r, g, b)`` colour."""
    inside = css_colour[css_colour.index("(") + 1 : -1]
    channels = [int(part) / 255 for part in inside.split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def photograph(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = WIDTHS[page.width_name]
    page.screenshot(path=ARTIFACTS / f"{name}-{width}-{page.scheme}.png", full_page=True)


def check_look(page, name: str) -> None:
    look = page.evaluate(LOOK)
    assert look["scrollWidth"] <= look["innerWidth"], (name, look)
    assert look["bodyFont"].startswith('"Source Serif 4"'), (name, look["bodyFont"])
    assert look["navFont"].startswith('"Source Sans 3"'), (name, look["navFont"])
    assert {"Source Serif 4", "Source Sans 3"} <= set(look["loaded"]), (name, look["loaded"])
    assert look["serifReady"], name
    dark = luminance(look["background"]) < 0.1
    assert dark == (page.scheme == "dark"), (name, look["background"])
    assert contrast(look["background"], look["text"]) >= 7, (name, look)


def test_every_page_kind_in_both_schemes(april_2014, schemed_page, settings):
    page = schemed_page
    cache.clear()  # the per-IP rate limit counts in the default cache
    settings.BLOG_COMMENTS_RATE_LIMIT = 100
    post = Post.objects.get(slug="learning-organisations")
    client = Client()
    answer = comment_and_confirm(
        client, post, name="Ann Reader", url="https://ann.example.org/",
        comment="Learning organisations need psychological safety first: people must be "
        "able to say what went wrong without fearing for their jobs.",
    )  # fmt: skip
    comment_and_confirm(
        client, post, reply_to=answer.pk, name="Ben Answerer", email="ben@example.org",
        comment="Agreed, and supervision is where that safety is built or lost.",
    )  # fmt: skip
    for name, path in PAGES.items():
        response = page.goto(april_2014 + path)
        assert response.status == STATUS.get(name, 200), path
        check_look(page, name)
        photograph(page, name)
    # The page an e-mailed link opens: a comment waiting for its writer's button.
    assert post_comment(client, post, name="Cy Reader").status_code == 302
    page.goto(april_2014 + confirmation_path())
    assert page.locator("h1").inner_text() == "Publish your comment?"
    check_look(page, "comment-confirm")
    photograph(page, "comment-confirm")


# Characters per line of the post's first paragraph: its width over the mean width of
# its own characters, measured in its own computed font.
MEASURE = """() => {
    const p = document.querySelector(".post__body p");
    const style = getComputedStyle(p);
    const context = document.createElement("canvas").getContext("2d");
    context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const text = p.textContent.replace(/\\s+/g, " ").trim();
    const perCharacter = context.measureText(text).width / text.length;
    return {
        characters: p.clientWidth / perCharacter,
        fontSize: parseFloat(style.fontSize),
        lineHeight: parseFloat(style.lineHeight),
    };
}"""


def test_the_reading_measure_and_leading(april_2014, page):
    page.goto(april_2014 + STEPPING_UP)
    page.evaluate("document.fonts.ready.then(() => true)")
    measure = page.evaluate(MEASURE)
    if page.width_name == "desktop":
        assert 65 <= measure["characters"] <= 75, measure
        assert measure["fontSize"] >= 18, measure
    else:
        assert 35 <= measure["characters"] <= 50, measure
        assert measure["fontSize"] >= 16.5, measure
    assert measure["lineHeight"] / measure["fontSize"] >= 1.5, measure


def box(page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left,"
        " right: r.right, width: r.width, height: r.height}; }"
    )


def test_the_frame_keeps_out_of_the_way(april_2014, page):
    """A slim header with search in it; the archive and tags beside the text on a wide
    screen and folded into one line above the footer on a phone; the older and newer
    posts as two equal columns, stacked on a phone."""
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(april_2014 + STEPPING_UP)
    header = box(page, ".site-header")
    expect(page.locator("form.site-search #site-search-q")).to_be_visible()
    archive_link = page.locator(".archive-tree").get_by_role("link", name="April", exact=True)
    older, newer = box(page, ".post-nav__previous a"), box(page, ".post-nav__next a")
    if page.width_name == "desktop":
        assert header["height"] <= 80, header
        expect(archive_link).to_be_visible()
        expect(page.locator(".browse > summary")).to_be_hidden()
        assert box(page, ".sidebar")["left"] > box(page, "main")["right"]
        assert older["top"] == newer["top"] and older["right"] < newer["left"], (older, newer)
        assert abs(older["width"] - newer["width"]) < 1, (older, newer)
    else:
        assert header["height"] <= 120, header
        expect(archive_link).to_be_hidden()
        browse = page.locator(".browse > summary")
        assert box(page, ".sidebar")["height"] <= 80
        assert box(page, ".sidebar")["top"] > box(page, "main")["bottom"]
        browse.click()
        expect(archive_link).to_be_visible()
        assert newer["top"] >= older["bottom"], (older, newer)
        assert older["width"] == newer["width"], (older, newer)


def test_the_tags_page_lists_the_tags_once(april_2014, page):
    page.goto(april_2014 + "/tags/")
    assert page.locator(".tag-index a").count() > 0
    assert page.locator(".tag-cloud").count() == 0
    page.goto(april_2014 + "/")
    assert page.locator(".tag-cloud a").count() == page.evaluate(
        "fetch('/tags/').then(r => r.text()).then(t => "
        "new DOMParser().parseFromString(t, 'text/html').querySelectorAll('.tag-index a').length)"
    )
