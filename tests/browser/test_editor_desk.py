"""The editor's desk, in Chromium at 1280 and 390 px: a member of staff signs in, lands
on the admin's index, adds a post with a reference while the preview (beside the body,
or behind its tab on a phone) shows the marker resolved, presses "Publish now" and finds
the post on the home page. axe finds nothing serious or critical on the add and change
forms, light and dark; the screenshots are kept."""

import re

import pytest
from django.urls import reverse

from blog.models import Post
from tests.factories import make_staff

from .conftest import PASSWORD, WIDTHS, sign_in
from .conftest import screenshot as full_page_screenshot
from .test_accessibility import serious_violations
from .test_staff_editor import BODY, CITATION, TITLE  # the same post, written on the desk

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect





def screenshot(page, name: str) -> None:
    # From the top: the publishing bar is sticky, and a full-page picture taken lower
    # down shows it over the middle of the form.
    page.evaluate("window.scrollTo(0, 0)")
    full_page_screenshot(page, name)


def show_preview(page) -> None:
    """On a phone the preview is a tab; on a wide screen it is always beside the body."""
    if page.width_name == "phone":
        page.get_by_role("tab", name="Preview").click()
        expect(page.get_by_role("tab", name="Preview")).to_have_attribute("aria-selected", "true")
    expect(page.locator("iframe.editor__frame")).to_be_visible()


def show_writing(page) -> None:
    if page.width_name == "phone":
        page.get_by_role("tab", name="Write").click()
    expect(page.locator("#id_body")).to_be_visible()


def check_axe(page, name: str) -> None:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    found = serious_violations(axe_module.Axe(), page)
    assert found == [], f"{name}: {found}"


def test_editor_writes_previews_and_publishes_a_post(april_2014, page, browser):
    staff = make_staff("editor", first_name="Eve", last_name="Editor", password=PASSWORD)
    sign_in(page, april_2014, staff.username)

    # From the admin's index to a new post, by the index's own link.
    add_url = reverse("admin:blog_post_add")
    page.locator(f"a[href='{add_url}']").first.click()
    page.wait_for_url(april_2014 + add_url)
    expect(page.locator("#id_title")).to_be_focused()
    frame = page.frame_locator("iframe.editor__frame")

    # Both the preview and the writing area are in view on a wide screen, side by side.
    if page.width_name == "desktop":
        body_box = page.locator("#id_body").bounding_box()
        frame_box = page.locator("iframe.editor__frame").bounding_box()
        assert frame_box["x"] >= body_box["x"] + body_box["width"]
        assert body_box["height"] >= 400
    else:
        expect(page.locator("iframe.editor__frame")).to_be_hidden()
        expect(page.get_by_role("tab", name="Write")).to_have_attribute("aria-selected", "true")

    page.locator("#id_title").fill(TITLE)
    page.locator("#id_body").press_sequentially(BODY)
    expect(frame.locator("h1.post__title")).to_have_text(TITLE)
    expect(frame.locator(".post__body strong")).to_have_text("bold")
    # No reference 1 yet: the marker is text.
    expect(frame.locator(".post__body")).to_contain_text("went wrong [1].")
    expect(frame.locator(".post__body a.cite")).to_have_count(0)

    # The reference, typed into the inline's row and not saved: the marker resolves.
    page.locator("#id_references-0-number").fill("1")
    page.locator("#id_references-0-citation").fill(CITATION)
    if page.width_name == "phone":
        # The tabs answer the arrow keys, as tabs do.
        page.get_by_role("tab", name="Write").focus()
        page.keyboard.press("ArrowRight")
        expect(page.get_by_role("tab", name="Preview")).to_be_focused()
        expect(page.locator("#id_body")).to_be_hidden()
    show_preview(page)
    expect(frame.locator(".post__body a.cite")).to_have_attribute("href", "#ref-1")
    expect(frame.locator("#references li#ref-1")).to_contain_text(CITATION)
    # The resolved marker is a reference, not a word of the text.
    expect(page.locator(".editor__count")).to_have_text("· 19 words, 1 min read")
    # A marker in the preview leads to its reference inside the frame: the frame stays
    # the preview (it would otherwise load the admin's address, which refuses framing).
    frame.locator(".post__body a.cite").click()
    expect(frame.locator("#references li#ref-1")).to_be_in_viewport()
    assert [f.url for f in page.frames[1:]] == ["about:srcdoc"]
    assert page.locator(".editor__status").inner_text() == ""
    screenshot(page, "editor-desk-preview")
    page.locator("#id_tags").fill("workforce")
    check_axe(page, "add form")

    # Publish now, from the top of the form.
    page.locator(".publish-row--top").get_by_role("button", name="Publish now").click()
    post = Post.objects.get(title=TITLE)
    page.wait_for_url(april_2014 + reverse("admin:blog_post_change", args=[post.pk]))
    expect(page.locator(".messagelist .success")).to_contain_text(f"“{TITLE}” is published.")
    assert post.is_public and post.author == staff
    top = page.locator(".publish-row--top")
    expect(top.get_by_role("button")).to_have_text(["Update", "Unpublish"])
    expect(top.locator(".publish-row__state")).to_contain_text("Live since")
    screenshot(page, "editor-desk-published")
    check_axe(page, "change form")

    # The references fit: the Delete box inside the form's width at 1280; on a phone
    # each reference is a stack of labelled fields.
    group = page.locator("#references-group").bounding_box()
    delete = page.locator("#id_references-0-DELETE").bounding_box()
    assert delete["x"] + delete["width"] <= group["x"] + group["width"]
    number = page.locator("#id_references-0-number").bounding_box()
    citation = page.locator("#id_references-0-citation").bounding_box()
    if page.width_name == "phone":
        assert citation["y"] >= number["y"] + number["height"]
        expect(page.locator("label[for=id_references-0-citation]")).to_be_visible()
    else:
        assert citation["x"] >= number["x"] + number["width"]
    # Ticking the saved reference for deletion takes it out of the preview at once.
    page.locator("#id_references-0-DELETE").check()
    show_preview(page)
    expect(frame.locator(".post__body a.cite")).to_have_count(0)
    expect(frame.locator("#references")).to_have_count(0)
    page.locator("#id_references-0-DELETE").uncheck()
    expect(frame.locator(".post__body a.cite")).to_have_count(1)
    show_writing(page)

    # The same forms in the dark scheme, in the same session.
    dark = browser.new_context(
        viewport={"width": WIDTHS[page.width_name], "height": 900},
        color_scheme="dark",
        storage_state=page.context.storage_state(),
    )
    try:
        dark_page = dark.new_page()
        dark_page.width_name = page.width_name
        for url, name in [
            (add_url, "add"),
            (reverse("admin:blog_post_change", args=[post.pk]), "change"),
        ]:
            dark_page.goto(april_2014 + url)
            expect(dark_page.locator("[data-editor]")).to_have_attribute(
                "data-preview-state", "done"
            )
            check_axe(dark_page, f"{name} form, dark")
            screenshot(dark_page, f"editor-desk-{name}-dark")
    finally:
        dark.close()

    # The readers' home page: the new post at the top, its marker linked.
    page.goto(april_2014 + reverse("blog:post-index"))
    first = page.locator(".post-summary").first
    expect(first.locator(".post-summary__title a")).to_have_text(TITLE)
    first.locator(".post-summary__title a").click()
    page.wait_for_url(april_2014 + post.get_absolute_url())
    expect(page.locator(".post__body #cite-1")).to_have_attribute("href", "#ref-1")
    expect(page.locator("#references li#ref-1")).to_contain_text(CITATION)
    screenshot(page, "editor-desk-post")


def test_schedule_without_a_future_time_is_refused_in_words(april_2014, page):
    staff = make_staff("scheduler", password=PASSWORD)
    sign_in(page, april_2014, staff.username)
    page.goto(april_2014 + reverse("admin:blog_post_add"))
    page.locator("#id_title").fill("Not yet")
    page.locator("#id_body").fill("Soon.")
    # The form offers the time the page was opened: not in the future by the time
    # Schedule is pressed.
    page.locator(".publish-row--bottom").get_by_role("button", name="Schedule").click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-published_at .errorlist")).to_contain_text(
        "To schedule the post, give a time after now"
    )
    assert not Post.objects.filter(title="Not yet").exists()
    screenshot(page, "editor-desk-schedule-refused")


def test_an_image_dropped_into_the_body_is_uploaded_and_previewed(
    april_2014, page, settings, tmp_path
):
    """markdownx still owns the textarea: a PNG dropped on it is uploaded (through the
    site's own endpoint) and its Markdown inserted, and the preview shows it."""
    settings.MEDIA_ROOT = tmp_path
    staff = make_staff("illustrator", password=PASSWORD)
    sign_in(page, april_2014, staff.username)
    page.goto(april_2014 + reverse("admin:blog_post_add"))
    page.locator("#id_body").fill("A picture: ")
    page.evaluate(
        """async (base64) => {
            const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "photo.png", { type: "image/png" }));
            const body = document.querySelector("#id_body");
            body.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
        }""",
        PNG_BASE64,
    )
    expect(page.locator("#id_body")).to_have_value(
        re.compile(r"^A picture: !\[\]\(/media/images/renditions/[\w/]+-2\.png\)$")
    )
    source = re.search(r"\((.+)\)", page.locator("#id_body").input_value())[1]
    assert (tmp_path / source.removeprefix("/media/")).is_file()
    show_preview(page)
    frame = page.frame_locator("iframe.editor__frame")
    expect(frame.locator(".post__body img")).to_have_attribute("src", source)


# A 2×2 red PNG (Pillow's).
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8wcDAwMDAxMDAwMDAAAAKUgDMUCehPAAAAABJRU5ErkJggg=="
)
