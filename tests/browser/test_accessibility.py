"""axe-core, in Chromium, finds nothing serious or critical on the reader's pages,
at both widths, in the light and the dark colour scheme."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from blog.models import Follower, Page, Post
from blog.writing import save_page
from tests.discussion import comment_and_confirm, confirmation_path, post_comment
from tests.following import confirm_path, unsubscribe_path

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/2014/",
    "/2014/04/",
    "/2014/04/15/",
    "/2014/04/15/stepping-up-but-not-staying-in/",
    "/2014/04/09/learning-organisations/",
    "/2014/04/17/im-not-really-surprised-to-hear/",
    "/tags/",
    "/tags/workforce/",
    "/authors/mills/",
    "/discussions/",
    "/references/",
    "/privacy/",
    "/about/",
    "/search/",
    "/search/?q=inspections",
    "/search/?q=xylophone",
    "/search/?q=%5E%2A",  # punctuation only: nothing to look for
    "/search/?q=" + "a" * 201,  # too long: refused
    "/no-such-page/",
]
# Pages that are meant to say no: they must be as accessible as the rest.
STATUS = {"/search/?q=" + "a" * 201: 400, "/no-such-page/": 404}


def serious_violations(axe, page) -> list[str]:
    violations = axe.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_or_critical_violations(live_server, schemed_page):
    page = schemed_page
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    call_command("loaddata", "april_2014", verbosity=0)
    save_page(Page(title="About", slug="about", body="## Who\n\nWe write about *inspections*.",
                   status=Page.Status.PUBLISHED, in_navigation=True))  # fmt: skip
    axe = axe_module.Axe()
    found = {}
    for path in PAGES:
        response = page.goto(live_server.url + path)
        assert response.status == STATUS.get(path, 200), path
        serious = serious_violations(axe, page)
        if serious:
            found[path] = serious
    assert found == {}


def test_no_serious_or_critical_violations_in_a_discussion(live_server, schemed_page, settings):
    """The same, once readers have commented: the discussions index, the thread, the
    form moved under a comment, the reply page, and the pages after posting (preview,
    errors, "check your e-mail", the confirmation page, awaiting approval, a used and a
    broken confirmation link)."""
    page = schemed_page
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    expect = pytest.importorskip("playwright.sync_api").expect
    cache.clear()  # the per-IP rate limit counts in the default cache
    # Posted, then confirmed: each comment counts twice, and this reader writes four.
    settings.BLOG_COMMENTS_RATE_LIMIT = 100
    call_command("loaddata", "april_2014", verbosity=0)
    post = Post.objects.get(slug="learning-organisations")
    client = Client()
    answer = comment_and_confirm(
        client, post, name="Ann Reader", url="https://ann.example.org/", followup="on"
    )
    reply = comment_and_confirm(
        client, post, reply_to=answer.pk, name="Ben Answerer", email="ben@example.org"
    )
    url = live_server.url
    axe = axe_module.Axe()
    found = {}

    def check(name: str) -> None:
        serious = serious_violations(axe, page)
        if serious:
            found[name] = serious

    for path in ("/discussions/", post.get_absolute_url(), f"/comments/reply/{reply.pk}/"):
        page.goto(url + path)
        check(path)
    # The post at a comment's address, so that the comment is :target (highlighted).
    page.goto(url + reply.get_absolute_url())
    check(reply.get_absolute_url())
    # The form moved under a comment by the "Reply" link (JavaScript on).
    page.goto(url + post.get_absolute_url())
    page.locator(f"#c{answer.pk} > .comment__body > .comment__actions a.comment__reply").click()
    expect(page.locator(f"#c{answer.pk} form#comment-form")).to_have_count(1)
    check("inline reply form")
    # After posting: the preview, a form sent back with errors, and "check your e-mail".
    form = page.locator("form#comment-form")
    form.locator("#id_name").fill("Cy Reader")
    form.locator("#id_email").fill("cy@example.org")
    form.locator("#id_comment").fill("A reply, previewed first.")
    form.locator("button[name=preview]").click()
    expect(page.locator("h1")).to_have_text("Preview of your comment")
    assert page.locator("input[name=reply_to]").input_value() == str(answer.pk)
    check("preview")
    page.goto(url + post.get_absolute_url())
    page.locator("form#comment-form #id_email").fill("not an address")
    page.evaluate("document.getElementById('comment-form').noValidate = true")
    page.locator("form#comment-form button[name=post]").click()
    expect(page.locator("h1")).to_have_text("Your comment was not posted yet")
    check("form with errors")
    sent = post_comment(client, post, name="Cy Reader")
    assert sent.status_code == 302
    page.goto(url + sent["Location"])
    assert page.locator("h1").inner_text() == "Check your e-mail to publish your comment"
    check("check your e-mail")
    # Following the link: a comment held for a moderator, and a link cut short.
    held = post_comment(client, post, name="Di Reader", comment="A casino? Not in my team.")
    assert held.status_code == 302
    link = confirmation_path()
    page.goto(url + link)
    assert page.locator("h1").inner_text() == "Publish your comment?"
    check("confirmation page")
    page.locator("form#confirm-form button").click()
    expect(page.locator("h1")).to_have_text("Your comment is awaiting approval")
    check("awaiting approval")
    page.goto(url + link)
    assert page.locator("h1").inner_text() == "This link has already been used"
    check("confirmation link used")
    page.goto(url + "/comments/confirm/cut-short/")
    check("confirmation link not valid")
    assert found == {}


def test_no_serious_or_critical_violations_when_following_by_email(live_server, schemed_page):
    """The same for following by e-mail (blog.following): the form's own page, the form
    sent back with an error, "check your inbox", the confirmation link's page and its
    answer, the unsubscribe page and its answer, and a link cut short."""
    page = schemed_page
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    expect = pytest.importorskip("playwright.sync_api").expect
    cache.clear()  # the per-IP limit counts in the default cache
    call_command("loaddata", "april_2014", verbosity=0)
    url = live_server.url
    axe = axe_module.Axe()
    found = {}

    def check(name: str) -> None:
        serious = serious_violations(axe, page)
        if serious:
            found[name] = serious

    page.goto(url + "/follow/")
    check("follow form")
    form = page.locator("main form.follow-form")
    form.locator("select[name=tag]").select_option("workforce")
    form.locator("input[name=email]").fill("Ann Reader <ann@example.org>")
    form.evaluate("form => { form.noValidate = true; }")
    form.locator("button[type=submit]").click()
    expect(page.locator("main .errorlist")).to_contain_text("without a name")
    check("follow form with an error")
    page.locator("main form.follow-form input[name=email]").fill("ann@example.org")
    page.locator("main form.follow-form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Check your inbox")
    check("check your inbox")
    page.goto(url + confirm_path())
    check("confirmation page")
    page.locator("#follow-confirm-form button").click()
    expect(page.locator("h1")).to_contain_text("Done: you follow")
    check("following confirmed")
    page.goto(url + unsubscribe_path(Follower.objects.get()))
    check("unsubscribe page")
    page.locator("#unfollow-form button").click()
    expect(page.locator("h1")).to_have_text("E-mails stopped")
    check("e-mails stopped")
    page.goto(url + "/follow/confirm/cut-short/")
    check("confirmation link not valid")
    assert found == {}
