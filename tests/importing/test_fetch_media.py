"""``--fetch-media`` through the command: a post's remote images, served by a local
HTTP server (tests.importing.test_media), stored as uploaded images (blog.media: no
camera or location data, renditions, an Image row the admin's Media lists) and the
body pointed at them, so the page offers them with srcset; a failure reported and its
link left; without the option, nothing is fetched, and a later import with it fetches
what is still remote; importing the same pictures again stores nothing new."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.urls import reverse
from PIL import Image as Pillow

from blog import media
from blog.models import Image, Post
from tests.factories import make_staff
from tests.importing.test_media import media_root, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

EXPORT = Path(__file__).parent / "files" / "wordpress-1.0.xml"


def export_with(tmp_path, body: str, name: str = "export.xml") -> Path:
    text = EXPORT.read_text().replace("The runner beans are <strong>up</strong>.", body, 1)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def export(tmp_path, server):  # noqa: F811 (the fixture imported above)
    body = (
        f'The runner beans are <strong>up</strong>.<img src="{server}/photo.png" alt="Beans">'
        f'<img src="{server}/gone.png" alt="Gone">'
    )
    return export_with(tmp_path, body)


def run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_wordpress", str(path), *args, "--details", stdout=out)
    return out.getvalue()


def media_files(root) -> list[Path]:
    """The stored files (the export being in the same temporary folder)."""
    return [p for p in Path(root).rglob("*") if p.is_file() and p.suffix != ".xml"]


def images_row(report: str) -> list[int]:
    line = next(line for line in report.splitlines() if line.strip().startswith("images"))
    return [int(n) for n in line.split()[1:]]


def test_images_are_fetched_and_failures_reported(export, server, settings):  # noqa: F811
    report = run(export, "--fetch-media")
    assert images_row(report)[0] == 1  # created
    assert images_row(report)[3] == 1  # skipped
    assert f"{server}/gone.png" in report and "HTTP 404" in report
    post = Post.objects.get(title="First beans")
    assert f"{server}/photo.png" not in post.body
    image = Image.objects.get()
    assert f"({media.canonical_url(image)})" in post.body
    assert f"{server}/gone.png" in post.body
    # The page shows the copy, from the site itself.
    assert f'src="{media.canonical_url(image)}"' in post.body_html


def test_without_the_option_nothing_is_fetched_until_asked(export, server, settings):  # noqa: F811
    run(export)
    post = Post.objects.get(title="First beans")
    assert f"{server}/photo.png" in post.body
    assert not media_files(settings.MEDIA_ROOT)
    report = run(export, "--fetch-media")
    assert images_row(report)[0] == 1
    post.refresh_from_db()
    assert f"{server}/photo.png" not in post.body
    # Once fetched, a third import changes nothing (the missing image is tried again).
    third = run(export, "--fetch-media")
    assert images_row(third)[:2] == [0, 0]
    posts = next(line for line in third.splitlines() if line.strip().startswith("posts"))
    assert [int(n) for n in posts.split()[1:3]] == [0, 0]


def test_a_dry_run_fetches_nothing(export, settings):
    run(export, "--fetch-media", "--dry-run")
    assert not media_files(settings.MEDIA_ROOT)
    assert not Image.objects.exists()
    assert not Post.objects.exists()


def test_an_imported_photo_is_stripped_shown_with_srcset_and_listed(
    tmp_path,
    server,  # noqa: F811
    settings,
    client,
):
    url = f"{server}/gps.jpg"
    run(export_with(tmp_path, f'Beans.<img src="{url}" alt="Runner beans">'), "--fetch-media")
    post = Post.objects.get(title="First beans")
    image = Image.objects.get()
    assert image.renditions.count() == 6 and image.alt_text == "Runner beans"
    for stored in [image.file, *(r.file for r in image.renditions.all())]:
        with Pillow.open(stored.path) as picture:
            assert not picture.getexif()
    # The body points at it; the write path rendered it with its renditions.
    address = media.canonical_url(image)
    assert f"]({address})" in post.body and url not in post.body
    img = BeautifulSoup(post.body_html, "html.parser").select_one("img")
    assert img["src"] == address and "960w" in img["srcset"]
    assert {"width", "height", "sizes"} <= set(img.attrs)
    # Its use is recorded: the Media admin names the post.
    assert list(image.posts.all()) == [post]
    client.force_login(make_staff())
    response = client.get(reverse("admin:blog_image_change", args=[image.pk]))
    page = BeautifulSoup(response.content.decode(), "html.parser")
    link = page.select_one(".field-used_by a")
    assert link["href"] == reverse("admin:blog_post_change", args=[post.pk])

    # The same picture, imported again with another post: no new image, same address.
    again = export_with(tmp_path, f"Beans again.<img src='{url}'>", "again.xml")
    again.write_text(again.read_text().replace("First beans", "Second beans"))
    again.write_text(again.read_text().replace("<wp:post_id>", "<wp:post_id>9"))
    run(again, "--fetch-media")
    second = Post.objects.get(title="Second beans")
    assert Image.objects.count() == 1
    assert f"]({address})" in second.body
    assert set(image.posts.all()) == {post, second}
