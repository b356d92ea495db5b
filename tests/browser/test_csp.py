"""The Content-Security-Policy, in Chromium: no page a reader or the staff uses breaks it.

Every `securitypolicyviolation` event and every CSP message on the console is collected
while a reader opens the home page (from the database, then from the page cache), a post
with a table and a discussion, answers a comment through the inline reply form
(static/js/discussion.js) and searches; and while the staff sign in, list posts and
write one with a table in markdownx's live preview. None may occur. A canary at the end
shows the collector does see a violation."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from blog.models import Post
from tests.discussion import comment_and_confirm
from tests.factories import make_post, make_staff

from .conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect

# Registered before any of the page's own scripts run, in every document of the context.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
  );
}, true);
"""
TABLE = "| Visit | Outcome | Days |\n|:--|:-:|--:|\n| First | Seen | 3 |"


class Violations:
    """What the policy blocked, page after page: the events each page recorded, read
    before leaving it, and Chromium's console messages about the policy."""

    def __init__(self, page) -> None:
        self.page = page
        self.found: list[str] = []
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.found.append(f"console: {message.text}")

    def read(self) -> list[str]:
        self.found += self.page.evaluate("window.__cspViolations.splice(0)")
        return self.found


@pytest.fixture
def reader_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(COLLECT_VIOLATIONS)
    yield context.new_page()
    context.close()


def test_no_page_breaks_the_content_security_policy(april_2014, reader_page):
    page = reader_page
    violations = Violations(page)
    site = april_2014
    staff = make_staff("editor", first_name="Eve", last_name="Editor", password=PASSWORD)
    post = make_post(
        "Caseloads in numbers",
        f"Caseloads again [1].\n\n{TABLE}",
        author=staff,
        tags=["workforce"],
        references={1: "Munro, E. (2011) The Munro Review."},
    )
    answered = comment_and_confirm(Client(), post, comment="Which authority is this?")

    # Home, built and then served from the page cache; its WebSite JSON-LD is a data
    # block, which the policy leaves alone.
    for _ in range(2):
        response = page.goto(site + "/")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(page.locator(".post-summary").first).to_be_visible()
        assert page.locator('script[type="application/ld+json"]').count() == 1
        assert violations.read() == []

    # The post: its table's column alignment (style attributes the policy allows by
    # hash), its BlogPosting JSON-LD, and discussion.js moving the form under a comment.
    page.goto(site + post.get_absolute_url())
    cell = page.locator(".post__body table td").nth(2)
    expect(cell).to_have_css("text-align", "right")
    page.locator(f"#c{answered.pk} a.comment__reply").click()
    form = page.locator(f"#c{answered.pk} .comment__reply-slot form#comment-form")
    expect(form.locator(".comment-form__heading")).to_have_text(re.compile("^Reply to "))
    form.locator("#id_name").fill("Ben Answerer")
    form.locator("#id_email").fill("ben@example.org")
    form.locator("#id_comment").fill("Ours, in 2013.")
    assert violations.read() == []
    form.locator("button[name=post]").click()
    expect(page.locator("h1")).to_have_text("Check your e-mail to publish your comment")
    assert violations.read() == []

    page.goto(site + "/search/?q=caseloads")
    expect(page.locator("main")).to_contain_text("Caseloads in numbers")
    assert violations.read() == []

    # The staff: sign-in, the post list (actions, jsi18n), the editor's live preview.
    sign_in(page, site, staff.username)
    page.goto(site + "/admin/blog/post/")
    expect(page.locator("#changelist")).to_be_visible()
    assert violations.read() == []
    page.goto(site + "/admin/blog/post/add/")
    page.locator("#id_title").fill("Timeliness")
    page.locator(".markdownx textarea#id_body").fill(f"Assessments **on time**.\n\n{TABLE}")
    # The preview is a frame beside the body, in the site's own stylesheet: its styles
    # and the editor's script must pass the policy too.
    preview = page.frame_locator("iframe.editor__frame")
    expect(preview.locator(".post__body strong")).to_have_text("on time")
    expect(preview.locator(".post__body td").nth(2)).to_have_css("text-align", "right")
    page.goto(site + f"/admin/blog/post/{post.pk}/change/")
    expect(preview.locator(".post__body table")).to_be_visible()
    assert violations.read() == []
    assert Post.objects.count() == 8  # the preview saved nothing

    # The canary: an inline script and an inline style are refused, and seen.
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.body.appendChild(script);
            document.body.setAttribute("style", "outline: 1px solid red");
        }"""
    )
    page.wait_for_function("window.__cspViolations.length >= 2")
    found = violations.read()
    assert any(v.startswith("script-src-elem blocked inline") for v in found), found
    assert any(v.startswith("style-src-attr blocked inline") for v in found), found
    assert page.evaluate("window.inlineRan") is None
