"""The readers' discussion, in Chromium, with JavaScript on and off, at 1280 and 390 px:
one reader answers the post's question and confirms by e-mail, a second reader (another
browser, no shared cookies) replies to that answer, and the reply shows nested under it."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from blog.models import Post
from tests.discussion import comment_and_confirm

from .conftest import WIDTHS, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
# Where Playwright is missing the module is skipped, as the browser fixture would be.
expect = pytest.importorskip("playwright.sync_api").expect

POST = "/2014/04/09/learning-organisations/"
# The e-mailed links carry the Site's domain, not the live server's: keep only the path.
CONFIRM_PATH = re.compile(r"/comments/confirm/[^/\s]+/")
MUTE_PATH = re.compile(r"/comments/mute/[^/\s]+/")
COMMENT_ANCHOR = re.compile(r"#c(\d+)$")

ANN = {"name": "Ann Reader", "email": "ann@example.org", "url": "https://ann.example.org/"}
BEN = {"name": "Ben Answerer", "email": "ben@example.org", "url": ""}


@pytest.fixture
def site(live_server):
    cache.clear()  # the per-IP rate limit counts in the default cache
    call_command("loaddata", "april_2014", verbosity=0)
    return live_server.url


@contextmanager
def reader(browser, width: str, javascript: bool) -> Iterator:
    """A page in a browser context of its own: a reader with no cookies of another's."""
    context = browser.new_context(
        viewport={"width": WIDTHS[width], "height": 900}, java_script_enabled=javascript
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.width_name = width
        yield page
    finally:
        context.close()


def fill_and_post(page, who: dict, text: str, *, followup: bool = False) -> None:
    form = page.locator("form#comment-form")
    form.locator("#id_name").fill(who["name"])
    form.locator("#id_email").fill(who["email"])
    if who["url"]:
        form.locator("#id_url").fill(who["url"])
    form.locator("#id_comment").fill(text)
    if followup:
        form.locator("#id_followup").check()
    form.locator("button[name=post]").click()
    expect(page.locator("h1")).to_have_text("Check your e-mail to publish your comment")


def confirmation_path(address: str) -> str:
    """The path of the latest confirmation link e-mailed to ``address``."""
    for message in reversed(mail.outbox):
        found = CONFIRM_PATH.search(message.body)
        if found and message.to == [address]:
            return found.group(0)
    raise AssertionError(f"no confirmation e-mail to {address} in {len(mail.outbox)} messages")


def confirm(page, site: str, address: str) -> int:
    """Open the e-mailed link (a page that publishes nothing by itself) and press its
    button; it leads to the comment on the post. Its pk."""
    page.goto(site + confirmation_path(address))
    assert page.locator("h1").inner_text() == "Publish your comment?"
    page.locator("form#confirm-form button").click()
    page.wait_for_url(re.compile(r"#c\d+$"))
    assert page.url.startswith(site + POST)
    return int(COMMENT_ANCHOR.search(page.url).group(1))


def is_above(page, first: str, second: str) -> bool:
    """Whether ``first`` comes before ``second`` in the page and is drawn above it."""
    return page.evaluate(
        """([first, second]) => {
            const a = document.querySelector(first), b = document.querySelector(second);
            return Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING)
                && a.getBoundingClientRect().bottom <= b.getBoundingClientRect().top;
        }""",
        [first, second],
    )


def is_inside(page, outer: str, inner: str) -> bool:
    return page.evaluate(
        "([outer, inner]) => document.querySelector(outer).contains(document.querySelector(inner))",
        [outer, inner],
    )


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_reader_answers_and_another_replies(site, browser, javascript, width):
    js = "js-on" if javascript else "js-off"

    # Reader A answers the post's question, asking to hear of replies.
    with reader(browser, width, javascript) as page:
        page.goto(site + POST)
        prompt = page.locator("aside.answers-please h2")
        assert prompt.inner_text() == "Answers please"
        assert is_above(page, "aside.answers-please", "section#comments")
        assert page.locator("#comments-heading").inner_text() == "Comments"
        button = page.locator("form#comment-form button[name=post]")
        assert button.inner_text() == "Post your answer"
        assert page.locator("section#comments form#comment-form").count() == 1
        screenshot(page, f"discussion-{js}-form")

        fill_and_post(page, ANN, "Learning starts with listening.", followup=True)
        screenshot(page, f"discussion-{js}-check-email")
        page.goto(site + POST)
        assert page.locator("article.comment").count() == 0, "not shown before confirmation"

        a_pk = confirm(page, site, ANN["email"])
        a = page.locator(f"section#comments article#c{a_pk}.comment")
        assert a.count() == 1
        assert a.locator(".comment__author").first.inner_text() == ANN["name"]
        assert a.locator(".comment__author a").first.get_attribute("href") == ANN["url"]
        assert a.locator(".comment__text").first.inner_text() == "Learning starts with listening."
        assert page.locator("#comments-heading").inner_text() == "1 comment"
        screenshot(page, f"discussion-{js}-answer")

    # Reader B, in a browser of their own, replies to A's answer.
    with reader(browser, width, javascript) as page:
        page.goto(site + POST)
        reply = page.locator(f"#c{a_pk} > .comment__body > .comment__actions a.comment__reply")
        # "Reply" on screen; its hidden words name the comment for screen readers.
        expect(reply).to_have_accessible_name(f"Reply to {ANN['name']}")
        form = page.locator("form#comment-form")
        heading = form.locator(".comment-form__heading")
        reply_to = form.locator("input[name=reply_to]")
        cancel = form.get_by_role("button", name="Cancel reply")
        inline = page.locator(f"#c{a_pk} > .comment__reply-slot > form#comment-form")

        if javascript:
            assert heading.inner_text() == "Your answer"
            assert cancel.is_hidden()
            reply.click()
            # The one form moves into A's article, set to answer A.
            expect(inline).to_have_count(1)
            assert page.locator("form#comment-form").count() == 1
            assert reply_to.input_value() == str(a_pk)
            assert heading.inner_text() == f"Reply to {ANN['name']}"
            expect(form.locator("button[name=post]")).to_have_text("Post reply")
            expect(form.locator("label[for=id_comment]")).to_have_text("Your reply:")
            assert cancel.is_visible()
            assert page.evaluate("document.activeElement.id") == "id_comment"
            screenshot(page, f"discussion-{js}-reply-form")
            # Cancelling puts it back where it was; Reply brings it again.
            cancel.click()
            expect(inline).to_have_count(0)
            assert page.locator("section#comments > form#comment-form").count() == 1
            assert reply_to.input_value() == "0"
            assert heading.inner_text() == "Your answer"
            expect(form.locator("button[name=post]")).to_have_text("Post your answer")
            assert cancel.is_hidden()
            assert page.evaluate("document.activeElement.dataset.replyTo") == str(a_pk)
            reply.click()
            expect(inline).to_have_count(1)
            assert reply_to.input_value() == str(a_pk)
        else:
            reply.click()
            page.wait_for_url(f"{site}/comments/reply/{a_pk}/")
            assert page.locator("h1").inner_text() == f"Reply to {ANN['name']}"
            assert page.locator("blockquote .comment__text").inner_text() == (
                "Learning starts with listening."
            )
            assert page.locator("form#comment-form").count() == 1
            assert reply_to.input_value() == str(a_pk)
            assert heading.inner_text() == f"Reply to {ANN['name']}"
            expect(form.locator("button[name=post]")).to_have_text("Post reply")
            expect(form.locator("label[for=id_comment]")).to_have_text("Your reply:")
            assert cancel.count() == 0
            screenshot(page, f"discussion-{js}-reply-form")

        fill_and_post(page, BEN, "And with asking the right questions.")
        b_pk = confirm(page, site, BEN["email"])
        assert b_pk != a_pk

        # B's reply is nested in A's answer, and both are counted.
        b = page.locator(f"#c{a_pk} > .comment__replies > li > article#c{b_pk}.comment")
        assert b.count() == 1
        assert page.locator(f"#c{a_pk} #c{b_pk}").count() == 1
        assert is_inside(page, f"#c{a_pk}", f"#c{b_pk}")
        assert b.locator(".comment__author").first.inner_text() == BEN["name"]
        assert b.locator(".comment__text").first.inner_text() == (
            "And with asking the right questions."
        )
        assert page.locator("#comments-heading").inner_text() == "2 comments"
        assert page.locator("section#comments > .comment-list > li > article.comment").count() == 1
        screenshot(page, f"discussion-{js}-thread")

    # A asked to hear of replies: an e-mail about B's, with a link to stop them.
    followups = [m for m in mail.outbox if m.to == [ANN["email"]] and MUTE_PATH.search(m.body)]
    assert len(followups) == 1
    assert BEN["name"] in followups[0].body
    assert "And with asking the right questions." in followups[0].body
    with reader(browser, width, javascript) as page:
        page.goto(site + MUTE_PATH.search(followups[0].body).group(0))
        assert page.locator("h1").inner_text() == "Stop e-mails about this discussion?"
        page.locator("form#mute-form button").click()
        expect(page.locator("h1")).to_have_text(
            "You will get no more e-mails about this discussion"
        )


# The page's own background and text colours as the browser computed them: "rgb(r, g, b)".
_COLOURS = """() => {
    const css = getComputedStyle(document.body);
    return [css.backgroundColor, css.color];
}"""


def luminance(rgb: str) -> float:
    """Relative luminance (WCAG 2) of a computed "rgb(r, g, b)" colour."""
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_a_reader_in_dark_mode_reads_a_post_and_replies(site, browser, width):
    """The issue's third journey: a reader whose system asks for dark pages reads a
    post (its first reference followed and back), and replies to a comment there."""
    post = Post.objects.get(slug="learning-organisations")
    answered = comment_and_confirm(Client(), post, name=ANN["name"], comment="Safety first.")
    context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900},
                                  color_scheme="dark")  # fmt: skip
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.width_name = f"{width}-dark"
        page.goto(site + POST)
        background, text = page.evaluate(_COLOURS)
        assert luminance(background) < 0.05, background  # dark, as the system asked
        assert (luminance(text) + 0.05) / (luminance(background) + 0.05) >= 7, (text, background)

        # Reading: a marker in the text leads to its reference, and back.
        page.locator(".post__body a.cite").first.click()
        page.wait_for_url(re.compile(r"#ref-1$"))
        page.locator("#ref-1 a.backlink").click()
        page.wait_for_url(re.compile(r"#cite-1$"))

        # Replying to the comment: the form comes under it, the reply is nested in it.
        page.locator(f"#c{answered.pk} a.comment__reply").first.click()
        expect(page.locator(f"#c{answered.pk} form#comment-form")).to_have_count(1)
        screenshot(page, "discussion-dark-reply-form")
        fill_and_post(page, BEN, "Safety, and time to think.")
        reply_pk = confirm(page, site, BEN["email"])
        nested = page.locator(f"#c{answered.pk} > .comment__replies > li > article#c{reply_pk}")
        expect(nested).to_have_count(1)
        expect(nested.locator(".comment__text").first).to_have_text("Safety, and time to think.")
        assert luminance(page.evaluate(_COLOURS)[0]) < 0.05
        screenshot(page, "discussion-dark-replied")
    finally:
        context.close()
