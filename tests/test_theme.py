"""The readers' look as files and markup: the self-hosted fonts (small, covering the
text, served for ever under hashed names), the favicon, and the frame around the text
(the tags page without a second list of tags, the foot of a post in its order)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, TestCase, override_settings

from blog.models import Post

from .html import soup, text

ROOT = Path(__file__).resolve().parent.parent
# The faces are declared once, in fonts.css, which the readers' pages and the admin link.
CSS = ROOT / "static" / "css" / "fonts.css"
FONTS = ROOT / "static" / "fonts"
FONT_FACE = re.compile(r"@font-face\s*{(?P<body>[^}]*)}")
URL = re.compile(r"""url\(["']?(?P<url>[^"')]+)["']?\)""")


def font_faces(css: str) -> list[str]:
    """The url() of each @font-face rule, in order."""
    return [URL.search(rule["body"])["url"] for rule in FONT_FACE.finditer(css)]


def test_the_fonts_are_self_hosted_woff2_and_under_150_kb_in_all():
    urls = font_faces(CSS.read_text())
    assert len(urls) >= 2, urls  # a serif to read, a sans for the interface
    files = [(CSS.parent / url).resolve() for url in urls]
    assert all(path.suffix == ".woff2" and path.parent == FONTS for path in files), files
    assert all(path.read_bytes()[:4] == b"wOF2" for path in files), files
    total = sum(path.stat().st_size for path in set(files))
    assert total < 150 * 1024, f"{total / 1024:.1f} KB"
    # Every face swaps in when it arrives: the text is never invisible meanwhile.
    assert all("font-display: swap" in rule["body"] for rule in FONT_FACE.finditer(CSS.read_text()))
    licence = (FONTS / "OFL.txt").read_text()
    assert "SIL OPEN FONT LICENSE" in licence.upper() and licence.count("Copyright") >= 2


def test_the_reading_face_has_every_character_of_the_april_posts():
    ttlib = pytest.importorskip("fontTools.ttLib")
    rows = json.loads((ROOT / "fixtures" / "april_2014.json").read_text(encoding="utf-8"))
    words = "".join(
        str(value) for row in rows if row["model"] == "blog.post"
        for key, value in row["fields"].items() if key in ("title", "body", "call_for_answers")
    )  # fmt: skip
    assert len(words) > 1000
    for face in ("source-serif-4-roman.woff2", "source-serif-4-italic.woff2"):
        cmap = ttlib.TTFont(FONTS / face).getBestCmap()
        lacking = {
            ch for ch in words if ch.isprintable() and not ch.isspace() and ord(ch) not in cmap
        }
        assert lacking == set(), (face, lacking)


@pytest.fixture
def collected(tmp_path):
    """Our own static files collected as in production (hashed names, compressed), and a
    client whose WhiteNoise serves them from there."""
    production = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(
        STATIC_ROOT=tmp_path,
        STORAGES=production,
        # The project's files only: the admin's would take longer and prove nothing more.
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
        WHITENOISE_AUTOREFRESH=False,
        WHITENOISE_USE_FINDERS=False,
    ):
        call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())
        yield tmp_path, Client()


def test_the_stylesheet_points_at_the_fonts_hashed_names(collected):
    root, _ = collected
    paths = json.loads((root / "staticfiles.json").read_text())["paths"]
    stylesheet = root / paths["css/fonts.css"]
    urls = font_faces(stylesheet.read_text())
    assert urls, "no @font-face in the collected stylesheet"
    for url in urls:
        served = (stylesheet.parent / url).resolve()
        name = served.relative_to(root).as_posix()
        assert name in paths.values(), f"{url} is not a hashed name"
        assert re.search(r"\.[0-9a-f]{12}\.woff2$", name), name
        assert served.exists(), served


@pytest.mark.django_db
def test_the_fonts_and_stylesheet_are_cached_for_ever_and_the_preload_matches(collected):
    root, client = collected
    paths = json.loads((root / "staticfiles.json").read_text())["paths"]
    page = soup(client.get("/"))
    preload = page.select_one('link[rel="preload"][as="font"]')
    assert preload["type"] == "font/woff2" and preload.has_attr("crossorigin")
    assert preload["href"] == f"/static/{paths['fonts/source-serif-4-roman.woff2']}"
    # The preloaded file is the one the stylesheet asks for, or the browser fetches twice.
    stylesheet = page.select_one('link[rel="stylesheet"]')["href"]
    first_face = font_faces((root / paths["css/fonts.css"]).read_text())[0]
    assert f"/static/{paths['css/fonts.css']}" == stylesheet
    assert (Path("/static/css") / first_face).resolve().as_posix() == preload["href"]
    for address in (preload["href"], stylesheet):
        response = client.get(address)
        assert response.status_code == 200, address
        assert "max-age=315360000" in response["Cache-Control"], response["Cache-Control"]
        assert "immutable" in response["Cache-Control"]
    assert client.get(preload["href"])["Content-Type"] == "font/woff2"


@pytest.mark.django_db
def test_favicon_ico_is_served_at_the_root():
    image = pytest.importorskip("PIL.Image")
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content)
    icon = image.open(io.BytesIO(body))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32)} <= set(icon.info["sizes"])


class FrameTests(TestCase):
    fixtures = ["april_2014"]

    def test_the_tags_page_does_not_list_the_tags_twice(self):
        tags = soup(self.client.get("/tags/"))
        self.assertGreater(len(tags.select(".tag-index a")), 5)
        self.assertEqual(tags.select(".tag-cloud"), [])
        self.assertEqual(len(tags.select(".archive-tree")), 1)
        home = soup(self.client.get("/"))
        self.assertEqual(
            [text(a) for a in home.select(".tag-cloud a")],
            [text(a) for a in tags.select(".tag-index a")],
        )

    def test_the_foot_of_a_post_in_reading_order(self):
        post = Post.objects.get(slug="learning-organisations")
        page = soup(self.client.get(post.get_absolute_url()))
        order = [
            "section#references", ".post__footer .post-tags", "aside.answers-please",
            "section#comments", "nav.related-reading", "nav.post-nav",
        ]  # fmt: skip
        found = [page.select_one(selector) for selector in order]
        self.assertNotIn(None, found)
        everything = list(page.find_all(True))
        positions = [everything.index(element) for element in found]
        self.assertEqual(positions, sorted(positions))
        # Older before newer, as they sit left and right.
        links = page.select("nav.post-nav a")
        self.assertEqual([a["rel"] for a in links], [["prev"], ["next"]])
