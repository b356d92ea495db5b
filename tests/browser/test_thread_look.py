"""The discussion as a reader sees it, light and dark, at both widths: replies indented
with no rule trailing beside them, names and dates alike whether linked or not, the
author's and the staff's badges shown, the byline's count on one line; axe finds
nothing serious on it. Screenshots: test-artifacts/screenshots/discussion-thread-*."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.utils import timezone

from blog.models import Comment, Post
from tests.factories import make_staff

from .conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

LEARNING = "/2014/04/09/learning-organisations/"

_STYLE = """el => {
    const s = getComputedStyle(el);
    return {colour: s.color, underline: s.textDecorationLine, rule: s.borderLeftWidth};
}"""


def discuss(post: Post) -> None:
    staff = make_staff("eda", first_name="Eda", last_name="Editor")
    common = {
        "content_type": ContentType.objects.get_for_model(Post),
        "object_pk": str(post.pk),
        "site": Site.objects.get_current(),
        "user_email": "x@example.org",
    }
    start = timezone.now() - datetime.timedelta(days=1)

    def add(name, text, parent=0, user=None, url="", minutes=0) -> Comment:
        when = start + datetime.timedelta(minutes=minutes)
        comment = Comment(**common, user=user, user_name=name, user_url=url, comment=text,
                          parent_id=parent, submit_date=when)  # fmt: skip
        comment.save()
        return comment

    ann = add("Ann Reader", "We tried a no-blame review.", url="https://example.org/")
    author = add("Mills", "Did the managers take part?", ann.pk, post.author, minutes=5)
    add("Ann Reader", "Some did; the others are the question.", author.pk, minutes=9)
    add("Eda Editor", "We will collect these answers.", user=staff, minutes=12)
    add("Bob", "Learning needs time.", minutes=20)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_thread_reads_as_replies_with_badges(live_server, browser, page, scheme):
    call_command("loaddata", "april_2014", verbosity=0)
    discuss(Post.objects.get(slug="learning-organisations"))
    width = page.viewport_size["width"]
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    reader = context.new_page()
    reader.width_name = f"{page.width_name}-{scheme}"
    try:
        reader.goto(live_server.url + LEARNING)
        thread = reader.locator("#comments")
        assert thread.locator(".comment__badge--author").first.is_visible()
        assert thread.locator(".comment__badge--staff").first.is_visible()
        # No rule beside any comment: nothing trails under a short reply.
        for comment in thread.locator("article.comment").all():
            assert comment.evaluate(_STYLE)["rule"] == "0px"
        linked = thread.locator(".comment__author a").first.evaluate(_STYLE)
        unlinked = thread.locator(".comment__author").nth(1).evaluate(_STYLE)
        assert linked["colour"] == unlinked["colour"]
        assert linked["underline"] == "none"
        assert thread.locator(".comment__permalink").first.evaluate(_STYLE)["underline"] == "none"
        screenshot(reader, "discussion-thread")

        reader.goto(live_server.url + "/")
        count = reader.locator("a.post-meta__comments").first
        assert count.inner_text().startswith("5 comments")
        # The count and its word stay on one line.
        assert count.evaluate("el => el.getClientRects().length") == 1
        assert "0 comments" not in reader.locator("main").inner_text()

        axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
        reader.goto(live_server.url + LEARNING)
        violations = axe_module.Axe().run(reader).response["violations"]
        serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == []
    finally:
        context.close()
