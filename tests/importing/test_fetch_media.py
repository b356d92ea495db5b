"""``--fetch-media`` through the command: a post's remote images, served by a local
HTTP server (tests.importing.test_media), copied into the media folder and the body
pointed at them; a failure reported and its link left; without the option, nothing is
fetched, and a later import with it fetches what is still remote."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from blog.models import Post
from tests.importing.test_media import media_root, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

EXPORT = Path(__file__).parent / "files" / "wordpress-1.0.xml"


@pytest.fixture
def export(tmp_path, server):  # noqa: F811 (the fixture imported above)
    body = (
        f'The runner beans are <strong>up</strong>.<img src="{server}/photo.png" alt="Beans">'
        f'<img src="{server}/gone.png" alt="Gone">'
    )
    text = EXPORT.read_text().replace("The runner beans are <strong>up</strong>.", body, 1)
    path = tmp_path / "export.xml"
    path.write_text(text)
    return path


def run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_wordpress", str(path), *args, "--details", stdout=out)
    return out.getvalue()


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
    assert f"{settings.MEDIA_URL}imported/" in post.body
    assert f"{server}/gone.png" in post.body
    stored = list(Path(settings.MEDIA_ROOT).rglob("*.png"))
    assert len(stored) == 1
    # The page shows the copy, from the site itself.
    assert f'src="{settings.MEDIA_URL}imported/' in post.body_html


def test_without_the_option_nothing_is_fetched_until_asked(export, server, settings):  # noqa: F811
    run(export)
    post = Post.objects.get(title="First beans")
    assert f"{server}/photo.png" in post.body
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.png"))
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
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.png"))
    assert not Post.objects.exists()
