"""Uploaded images (issue 17): stored once without their camera and location data, in
renditions made at upload, shown with srcset/sizes/width/height, their uses recorded by
the write path, listed in the admin's Media, and a post's first image its og:image."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image as Pillow

from blog import media
from blog.markup import absolutize, render_markdown
from blog.models import Image, Post, Rendition
from blog.writing import post_writes, posts_changed, save_post
from tests.factories import make_post, make_staff, make_user
from tests.html import soup

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def photo(size=(2000, 1500), fmt="JPEG", colour=(30, 120, 200), gps=True) -> bytes:
    """A picture with a camera's make and model and a GPS position in its EXIF."""
    picture = Pillow.new("RGB", size, colour)
    # Not a flat colour: a re-encoded image of one colour could not show a resize.
    for x in range(0, size[0], 50):
        picture.paste((x % 255, 40, 90), (x, 0, x + 10, size[1]))
    exif = Pillow.Exif()
    exif[0x010F] = "Phonemaker"  # Make
    exif[0x0110] = "Pocket 12"  # Model
    exif[0x0112] = 1  # Orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    buffer = BytesIO()
    picture.save(buffer, fmt, exif=exif.tobytes(), comment=b"secret comment")
    return buffer.getvalue()


def upload(data: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def stored_files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_the_test_photo_really_carries_gps():
    with Pillow.open(BytesIO(photo())) as picture:
        exif = picture.getexif()
        assert exif[0x010F] == "Phonemaker"
        assert exif.get_ifd(GPS_IFD)[1] == "N"


def test_exif_and_gps_are_gone_from_every_stored_file(media_root):
    image = media.store_upload(upload(photo()), make_user())
    files = stored_files(media_root)
    assert len(files) == 1 + 2 * 3  # the original, and 3 widths in 2 formats
    for path in files:
        data = path.read_bytes()
        assert b"Phonemaker" not in data and b"secret comment" not in data
        with Pillow.open(path) as stored:
            assert not stored.getexif(), path
            assert "exif" not in stored.info and "icc_profile" not in stored.info, path
            assert "comment" not in stored.info and "xmp" not in stored.info, path
    assert image.format == "JPEG"


def test_exif_orientation_is_applied():
    picture = Pillow.new("RGB", (600, 300), (200, 0, 0))
    exif = Pillow.Exif()
    exif[0x0112] = 6  # turned 90°: the camera meant it portrait
    buffer = BytesIO()
    picture.save(buffer, "JPEG", exif=exif.tobytes())
    image = media.store_upload(upload(buffer.getvalue()))
    assert (image.width, image.height) == (300, 600)


def test_renditions_are_made_once_at_upload_with_the_right_sizes(media_root):
    image = media.store_upload(upload(photo()), make_user())
    # The editor's limit keeps the original to 1600 px wide (MARKDOWNX_IMAGE_MAX_SIZE).
    assert (image.width, image.height) == (1600, 1200)
    made = sorted((r.format, r.width, r.height) for r in image.renditions.all())
    assert made == [
        ("JPEG", 480, 360), ("JPEG", 960, 720), ("JPEG", 1600, 1200),
        ("WEBP", 480, 360), ("WEBP", 960, 720), ("WEBP", 1600, 1200),
    ]  # fmt: skip
    for rendition in image.renditions.all():
        assert rendition.file.name.startswith("images/renditions/")
        with Pillow.open(rendition.file.path) as stored:
            assert (stored.format, stored.size) == (
                rendition.format,
                (rendition.width, rendition.height),
            )
    # Rendering pages makes none.
    count = Rendition.objects.count()
    post = make_post(body=f"![A chart]({media.canonical_url(image)})")
    assert "srcset" in post.body_html
    assert Rendition.objects.count() == count


def test_a_small_image_is_not_upscaled_and_a_png_stays_png():
    image = media.store_upload(upload(photo((700, 350), "PNG"), "small.png"))
    made = sorted((r.format, r.width) for r in image.renditions.all())
    assert made == [("PNG", 480), ("PNG", 700), ("WEBP", 480), ("WEBP", 700)]
    assert image.file.name.endswith(".png")


def test_the_same_picture_uploaded_twice_is_stored_once(media_root):
    first = media.store_upload(upload(photo()), make_user())
    files = stored_files(media_root)
    second = media.store_upload(upload(photo(), "again.jpg"), make_user())
    assert second.pk == first.pk
    assert Image.objects.count() == 1
    assert stored_files(media_root) == files


def test_a_failed_upload_leaves_no_rows_and_no_files(media_root, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Rendition.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        media.store_upload(upload(photo()))
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_file_that_is_not_an_image_is_refused():
    with pytest.raises(ValidationError):
        media.store_upload(upload(b"<svg onload=alert(1)>", "x.jpg"))


# The editor's upload endpoint ------------------------------------------------------------


def test_the_editor_upload_stores_through_store_upload(client, media_root):
    client.force_login(make_staff())
    response = client.post(
        reverse("editor:upload"), {"image": upload(photo()), "alt_text": "A family's kitchen"}
    )
    assert response.status_code == 200
    image = Image.objects.get()
    assert image.alt_text == "A family's kitchen"
    assert response.json()["image_code"] == f"![A family's kitchen]({media.canonical_url(image)})"
    assert media.canonical_url(image).endswith("-1600.jpg")


def test_a_bad_upload_is_a_400_with_a_message(client, media_root):
    client.force_login(make_staff())
    response = client.post(reverse("editor:upload"), {"image": upload(b"not an image")})
    assert response.status_code == 400
    assert "not an image that can be read" in response.json()["error"]
    assert Image.objects.count() == 0 and stored_files(media_root) == []


# Rendering -------------------------------------------------------------------------------


def test_an_uploaded_image_is_rendered_responsive():
    image = media.store_upload(upload(photo()), alt_text="Ignored: the body's words win")
    url = media.canonical_url(image)
    html = render_markdown(f"![A chart]({url})", images=media.images_in([f"![A chart]({url})"]))
    page = soup_of(html)
    img = page.select_one("picture > img")
    assert img["src"] == url
    assert img["alt"] == "A chart"
    assert (img["width"], img["height"]) == ("1600", "1200")
    assert img["sizes"] == "(max-width: 42rem) 100vw, 38rem"
    assert [c.split()[1] for c in img["srcset"].split(", ")] == ["480w", "960w", "1600w"]
    assert (img["loading"], img["decoding"]) == ("lazy", "async")
    source = page.select_one("picture > source")
    assert source["type"] == "image/webp"
    assert all(".webp " in c for c in source["srcset"].split(", "))
    # The image's own alt text when the body gives none.
    html = render_markdown(f"![]({url})", images=media.images_in([url]))
    assert soup_of(html).select_one("img")["alt"] == "Ignored: the body's words win"


def test_the_sizes_measure_matches_the_column():
    with open("static/css/site.css") as stylesheet:
        css = stylesheet.read()
    assert "--measure: 32em;" in css
    assert "--step-0: clamp(1.0625rem, 1rem + 0.3vw, 1.1875rem);" in css  # 32 × 1.1875 = 38


def test_a_writer_cannot_point_srcset_elsewhere():
    html = render_markdown(
        '<img src="/a.png" srcset="https://evil.example/x.png 2x" loading="nope" alt="x">'
        '<picture><source srcset="https://evil.example/y.png" type="text/html"></picture>'
    )
    assert "evil.example" not in html and "nope" not in html and "text/html" not in html


def test_feeds_get_absolute_srcsets():
    image = media.store_upload(upload(photo()))
    url = media.canonical_url(image)
    html = render_markdown(f"![A chart]({url})", images=media.images_in([url]))
    feed = absolutize(html, "https://blog.example/2014/04/15/post/")
    assert f'src="https://blog.example{url}"' in feed
    srcset = re.search(r'<img[^>]*srcset="([^"]+)"', feed)[1]
    assert all(c.startswith("https://blog.example/media/") for c in srcset.split(", "))


# Uses -----------------------------------------------------------------------------------


def test_the_write_path_records_where_images_are_used():
    first = media.store_upload(upload(photo()))
    second = media.store_upload(upload(photo(colour=(10, 200, 10), size=(800, 600))))
    post = make_post(body=f"![One]({media.canonical_url(first)})\n\n![]({second.file.url})")
    other = make_post(body=f"![One again]({media.canonical_url(first)})")
    assert set(post.images.all()) == {first, second}
    assert list(first.posts.order_by("pk")) == [post, other]
    # The Markdown's words become the image's own alt text when it had none.
    first.refresh_from_db()
    assert first.alt_text == "One"
    post.body = "No picture now."
    save_post(post)
    assert list(post.images.all()) == []
    assert list(first.posts.all()) == [other]


def test_writing_many_posts_with_images_takes_a_fixed_number_of_queries():
    images = [
        media.store_upload(upload(photo((600, 400), colour=(i * 40, 10, 10)))) for i in range(3)
    ]

    def write(count: int) -> int:
        posts = [
            make_post(body=f"![Pic]({media.canonical_url(images[i % 3])})\n\nText.")
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            posts_changed([p.pk for p in posts])
        return len(queries)

    assert write(2) == write(12)


def test_a_post_page_with_images_costs_no_more_queries_than_one_without(client):
    images = [
        media.store_upload(upload(photo((600, 400), colour=(i * 40, 10, 10)))) for i in range(3)
    ]
    plain = make_post("Plain", body="No pictures.")
    pictured = make_post(
        "Pictured", body="\n\n".join(f"![Pic]({media.canonical_url(i)})" for i in images)
    )
    client.get(reverse("blog:post-index"))  # the sidebar, cached once
    counts = {}
    for post in (plain, pictured):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(post.get_absolute_url())
        assert response.status_code == 200
        counts[post.title] = len(queries)
    assert response.content.decode().count("srcset=") == 6
    assert counts["Plain"] == counts["Pictured"]


# Metadata --------------------------------------------------------------------------------


def test_the_first_image_is_the_og_image(client):
    image = media.store_upload(upload(photo()), alt_text="A kitchen table")
    url = media.canonical_url(image)
    post = make_post(body=f"Words.\n\n![]({url})\n\n![Second](https://example.org/b.png)")
    page = soup(client.get(post.get_absolute_url()))
    meta = {m["property"]: m["content"] for m in page.select("meta[property^='og:image']")}
    assert meta["og:image"].endswith(url) and meta["og:image"].startswith("http")
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1600", "1200")
    assert meta["og:image:alt"] == "A kitchen table"
    assert '"image": ["http' in page.select_one("script[type='application/ld+json']").string


def test_a_post_without_images_keeps_the_site_card(client):
    post = make_post(body="No pictures.")
    page = soup(client.get(post.get_absolute_url()))
    assert "og-default" in page.select_one("meta[property='og:image']")["content"]
    assert page.select_one("meta[property='og:image:width']") is None


# The media admin --------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(make_staff())
    return client


def test_the_media_list_shows_sizes_uses_and_missing_alt(
    staff_client, django_assert_max_num_queries
):
    described = media.store_upload(upload(photo()), alt_text="A kitchen")
    bare = media.store_upload(upload(photo((900, 600), colour=(0, 0, 0))))
    make_post(body=f"![]({media.canonical_url(bare)})")
    make_post(body=f"Again: ![]({media.canonical_url(bare)})")
    for i in range(5):  # more images: the same number of queries
        media.store_upload(upload(photo((500, 300), colour=(i * 30, 0, 0))), alt_text=f"n{i}")
    with django_assert_max_num_queries(12):
        response = staff_client.get(reverse("admin:blog_image_changelist"))
    page = soup(response)
    rows = {
        row.select_one(".field-name").get_text(): row
        for row in page.select("#result_list tbody tr")
    }
    bare_row = rows[bare.file.name.rsplit("/", 1)[1]]
    assert bare_row.select_one(".field-uses").get_text() == "2"
    assert bare_row.select_one(".field-dimensions").get_text() == "900 × 600"
    assert "KB" in bare_row.select_one(".field-file_size").get_text()
    assert bare_row.select_one(".field-has_alt img")["alt"] == "False"
    assert "-480." in bare_row.select_one(".field-thumbnail img")["src"]
    described_row = rows[described.file.name.rsplit("/", 1)[1]]
    assert described_row.select_one(".field-uses").get_text() == "0"
    missing = staff_client.get(reverse("admin:blog_image_changelist") + "?alt=missing")
    assert [
        r.select_one(".field-name").get_text()
        for r in soup(missing).select("#result_list tbody tr")
    ] == [bare.file.name.rsplit("/", 1)[1]]


def test_the_change_page_links_the_posts_using_it(staff_client):
    image = media.store_upload(upload(photo()))
    post = make_post("Kitchen table", body=f"![A table]({media.canonical_url(image)})")
    page = soup(staff_client.get(reverse("admin:blog_image_change", args=[image.pk])))
    link = page.select_one(".field-used_by a")
    assert link["href"] == reverse("admin:blog_post_change", args=[post.pk])
    assert "Kitchen table" in link.get_text()


def test_adding_an_image_in_the_admin_goes_through_store_upload(staff_client, media_root):
    form = soup(staff_client.get(reverse("admin:blog_image_add")))
    assert form.select_one("form[enctype='multipart/form-data'] input[type=file][name=upload]")
    response = staff_client.post(
        reverse("admin:blog_image_add"), {"upload": upload(photo()), "alt_text": "A garden"}
    )
    assert response.status_code == 302
    image = Image.objects.get()
    assert image.alt_text == "A garden" and image.renditions.count() == 6
    for path in stored_files(media_root):
        with Pillow.open(path) as stored:
            assert not stored.getexif()
    refused = staff_client.post(reverse("admin:blog_image_add"), {"upload": upload(b"nope")})
    assert refused.status_code == 200
    assert "not an image that can be read" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
def test_deleting_an_image_in_use_warns_then_removes_its_files(client, media_root):
    client.force_login(make_staff())
    image = media.store_upload(upload(photo()))
    post = make_post("Kitchen table", body=f"![A table]({media.canonical_url(image)})")
    url = reverse("admin:blog_image_delete", args=[image.pk])
    confirm = soup(client.get(url))
    warning = confirm.select_one(".messagelist .warning")
    assert "is used in 1 post(s) or page(s)" in warning.get_text()
    assert warning.select_one("a")["href"] == reverse("admin:blog_post_change", args=[post.pk])
    assert stored_files(media_root)
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert Image.objects.count() == 0 and Rendition.objects.count() == 0
    assert stored_files(media_root) == []
    # The post is rendered again: no srcset pointing at files that are gone.
    post.refresh_from_db()
    assert "srcset" not in post.body_html


@pytest.mark.django_db(transaction=True)
def test_the_bulk_delete_action_warns_and_removes_files(client, media_root):
    client.force_login(make_staff())
    used = media.store_upload(upload(photo()))
    unused = media.store_upload(upload(photo((600, 400), colour=(1, 2, 3))))
    make_post(body=f"![A]({media.canonical_url(used)})")
    changelist = reverse("admin:blog_image_changelist")
    data = {"action": "delete_selected", "_selected_action": [used.pk, unused.pk]}
    confirm = soup(client.post(changelist, data))
    assert len(confirm.select(".messagelist .warning")) == 1
    client.post(changelist, {**data, "post": "yes"})
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


def test_saving_a_post_with_an_image_without_alt_text_warns(staff_client):
    from tests.factories import admin_post_form

    image = media.store_upload(upload(photo()))
    author = make_user()
    data = admin_post_form(author, body=f"Look: ![]({media.canonical_url(image)})", references=())
    response = staff_client.post(reverse("admin:blog_post_add"), data, follow=True)
    assert response.status_code == 200
    warnings = [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and "no alternative text" in str(warnings[0])
    post = Post.objects.get()
    assert list(post.images.all()) == [image]


def soup_of(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def test_nothing_stale_after_a_rolled_back_write():
    image = media.store_upload(upload(photo()))
    post = make_post(body="Plain.")
    with pytest.raises(RuntimeError), post_writes() as writes:
        post.body = f"![]({media.canonical_url(image)})"
        post.save()
        writes.add(post)
        raise RuntimeError
    assert list(image.posts.all()) == []


def test_a_post_page_with_uploaded_images_passes_the_nu_html_checker(client):
    from tests.test_html_validity import checker, vnu_errors

    command = checker()
    image = media.store_upload(upload(photo()), alt_text="A kitchen table")
    post = make_post(
        "Pictured",
        body=f"Before ![]({media.canonical_url(image)}) after.\n\n![Again]({image.file.url})",
    )
    html = client.get(post.get_absolute_url()).content
    assert b"<picture>" in html
    assert vnu_errors(command, {"post with images": html}) == {}
