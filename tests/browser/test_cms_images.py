"""An editor uploads a photo into a post (dropped on the body, as markdownx takes it),
is asked for its alternative text, publishes, and a reader on a phone gets a rendition
no wider than the phone needs, laid out within the screen."""

import base64
import re
from io import BytesIO

import pytest
from PIL import Image as Pillow

from blog.models import Image, Post
from tests.factories import make_staff

from .conftest import PASSWORD, WIDTHS, screenshot, sign_in
from .test_accessibility import serious_violations

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect

ALT = "A child's drawing of a house"


def photo_base64() -> str:
    """A 2000×1500 JPEG with a camera's EXIF and GPS position."""
    picture = Pillow.new("RGB", (2000, 1500), (40, 110, 160))
    for x in range(0, 2000, 80):
        picture.paste((230, 180, 40), (x, 0, x + 20, 1500))
    exif = Pillow.Exif()
    exif[0x010F] = "Phonemaker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}
    buffer = BytesIO()
    picture.save(buffer, "JPEG", exif=exif.tobytes())
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def contexts(browser):
    opened = []

    def open_at(width: int):
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(15_000)
        opened.append(context)
        page = context.new_page()
        page.width_name = "phone" if width == WIDTHS["phone"] else "desktop"
        return page

    yield open_at
    for context in opened:
        context.close()


def test_an_editor_uploads_a_photo_and_a_phone_gets_a_small_rendition(
    april_2014, contexts, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    staff = make_staff("photographer", password=PASSWORD)
    editor = contexts(WIDTHS["desktop"])
    sign_in(editor, april_2014, staff.username)
    editor.goto(april_2014 + "/admin/blog/post/add/")
    editor.locator("#id_title").fill("A drawing from the visit")
    editor.locator("#id_body").fill("What she drew: ")
    # The editor asks for the alternative text once the upload is done.
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept(ALT)

    editor.on("dialog", answer)
    editor.evaluate(
        """async (base64) => {
            const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "drawing.jpg", { type: "image/jpeg" }));
            const body = document.querySelector("#id_body");
            body.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
        }""",
        photo_base64(),
    )
    expect(editor.locator("#id_body")).to_have_value(
        re.compile(
            r"^What she drew: !\["
            + re.escape(ALT)
            + r"\]\(/media/images/renditions/[\w/]+-1600\.jpg\)$"
        )
    )
    assert asked and "Alternative text" in asked[0]
    editor.locator(".publish-row--bottom").get_by_role("button", name="Publish now").click()
    editor.wait_for_url(re.compile(r"/admin/blog/post/\d+/change/$"))
    expect(editor.locator(".messagelist .success")).to_contain_text("is published")
    post = Post.objects.get(title="A drawing from the visit")
    image = Image.objects.get()
    assert list(post.images.all()) == [image]
    assert image.alt_text == ALT

    reader = contexts(WIDTHS["phone"])
    reader.goto(april_2014 + post.get_absolute_url())
    img = reader.locator(".post__body picture img")
    expect(img).to_have_attribute("alt", ALT)
    reader.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=img.element_handle()
    )
    current = img.evaluate("img => img.currentSrc")
    width = int(re.search(r"-(\d+)\.(?:webp|jpg)$", current)[1])
    assert width <= 960, current
    box = img.bounding_box()
    assert 0 < box["width"] <= WIDTHS["phone"]
    assert reader.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"]
    # Its place was kept before it loaded: the width and height attributes are there.
    assert img.get_attribute("width") == "1600" and img.get_attribute("height") == "1200"
    screenshot(reader, "cms-image-on-a-phone")
    # axe finds nothing serious on the page with its picture.
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    assert serious_violations(axe_module.Axe(), reader) == []
