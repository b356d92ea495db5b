import shutil
import tempfile
from io import BytesIO
from pathlib import Path

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse
from PIL import Image

from blog.models import Image as StoredImage

from .factories import make_staff, make_user

PREVIEW = reverse("editor:preview")
UPLOAD = reverse("editor:upload")


def image_bytes(fmt: str, size=(40, 30), extra: bytes = b"") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue() + extra


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


class TemporaryMediaMixin:
    """Uploads land in a fresh folder that each test can inspect."""

    def setUp(self):
        super().setUp()
        self.media = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.media)
        override = override_settings(MEDIA_ROOT=self.media)
        override.enable()
        self.addCleanup(override.disable)

    def stored(self) -> list[Path]:
        return [p for p in self.media.rglob("*") if p.is_file()]

    def originals(self) -> list[Path]:
        """The stored originals, not their renditions (blog.media)."""
        return [p for p in self.stored() if "renditions" not in p.parts]


class EditorAccessTests(TemporaryMediaMixin, TestCase):
    """markdownx's endpoints are for staff only: 403 for everyone else, nothing stored."""

    def assert_refused(self):
        self.assertEqual(self.client.post(PREVIEW, {"content": "*hi*"}).status_code, 403)
        response = self.client.post(UPLOAD, {"image": upload("a.png", image_bytes("PNG"))})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.stored(), [])

    def test_anonymous_is_refused(self):
        self.assert_refused()

    def test_signed_in_reader_is_refused(self):
        self.client.force_login(make_user())
        self.assert_refused()

    def test_inactive_staff_is_refused(self):
        self.client.force_login(make_staff(is_active=False))
        self.assert_refused()

    def test_get_is_not_allowed(self):
        self.client.force_login(make_staff())
        self.assertEqual(self.client.get(PREVIEW).status_code, 405)


@override_settings(MARKDOWNX_UPLOAD_MAX_SIZE=5 * 1024 * 1024)
class EditorStaffTests(TemporaryMediaMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()

    def setUp(self):
        super().setUp()
        self.client.force_login(self.staff)

    def test_preview_uses_the_sanitiser(self):
        response = self.client.post(
            PREVIEW, {"content": "*hi* <script>alert(1)</script>[x](javascript:alert(1))"}
        )
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("<em>hi</em>", html)
        self.assertNotIn("<script", html)
        self.assertNotIn("javascript:", html)

    def test_preview_without_content_is_empty(self):
        response = self.client.post(PREVIEW, {})
        self.assertEqual((response.status_code, response.content), (200, b""))

    def test_png_upload_is_stored_under_its_detected_format(self):
        # The client's name and content type lie; the stored file follows the bytes.
        response = self.client.post(
            UPLOAD, {"image": upload("photo.gif", image_bytes("PNG"), "image/gif")}
        )
        self.assertEqual(response.status_code, 200)
        code = response.json()["image_code"]
        self.assertRegex(code, r"^!\[\]\(/media/images/renditions/[\w/]+-40\.png\)$")
        [path] = self.originals()
        self.assertEqual(path.suffix, ".png")
        with Image.open(path) as image:
            self.assertEqual(image.format, "PNG")

    def test_jpeg_upload_gets_jpg(self):
        response = self.client.post(
            UPLOAD, {"image": upload("x.png", image_bytes("JPEG"), "image/png")}
        )
        self.assertEqual(response.status_code, 200)
        [path] = self.originals()
        self.assertEqual(path.suffix, ".jpg")

    def test_trailing_payload_is_not_kept(self):
        polyglot = image_bytes("PNG", extra=b"<script>alert(1)</script>")
        self.client.post(UPLOAD, {"image": upload("x.png", polyglot)})
        for path in self.stored():
            self.assertNotIn(b"<script>", path.read_bytes())

    def test_large_images_are_scaled_down(self):
        self.client.post(UPLOAD, {"image": upload("big.png", image_bytes("PNG", (4000, 100)))})
        [path] = self.originals()
        with Image.open(path) as image:
            self.assertEqual(image.width, 1600)

    def assert_rejected(self, file: SimpleUploadedFile, message: str):
        response = self.client.post(UPLOAD, {"image": file})
        self.assertEqual(response.status_code, 400)
        self.assertIn(message, response.json()["error"])
        self.assertEqual(self.stored(), [])

    def test_other_formats_are_rejected(self):
        self.assert_rejected(upload("a.gif", image_bytes("GIF"), "image/gif"), "Only JPEG and PNG")
        self.assert_rejected(upload("a.png", image_bytes("WEBP"), "image/png"), "Only JPEG and PNG")

    def test_non_images_are_rejected(self):
        svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
        self.assert_rejected(upload("a.png", svg), "not an image")
        self.assert_rejected(upload("a.jpg", b"<html>hello</html>", "image/jpeg"), "not an image")
        self.assert_rejected(upload("a.png", image_bytes("PNG")[:40]), "not an image")

    def test_files_over_five_megabytes_are_rejected(self):
        big = image_bytes("PNG") + b"\0" * (5 * 1024 * 1024)
        self.assert_rejected(upload("big.png", big), "the limit is 5.0\xa0MB")

    def test_missing_file(self):
        response = self.client.post(UPLOAD, {})
        self.assertEqual(response.status_code, 400)
        self.assertIn("required", response.json()["error"])


class EditorPermissionTests(TemporaryMediaMixin, TestCase):
    """Staff status alone is not enough (issue 14, item 9): the preview and the upload
    are for those who may add or change posts."""

    def assert_answers(self, expected: int) -> None:
        response = self.client.post(PREVIEW, {"content": "*hi*"})
        self.assertEqual(response.status_code, expected)
        response = self.client.post(UPLOAD, {"image": upload("a.png", image_bytes("PNG"))})
        self.assertEqual(response.status_code, expected)
        self.assertEqual(len(self.originals()), 1 if expected == 200 else 0)

    def staff_with(self, *codenames: str):
        user = make_user(is_staff=True)
        user.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="blog", codename__in=codenames)
        )
        return user

    def test_who_may_use_the_editor(self):
        cases = [
            ("anonymous", None, 403),
            ("reader", make_user(), 403),
            ("staff without post rights", self.staff_with(), 403),
            ("staff who may only delete or view posts",
             self.staff_with("delete_post", "view_post"), 403),
            ("staff who moderate comments", self.staff_with("change_comment"), 403),
            ("staff with add_post", self.staff_with("add_post"), 200),
            ("staff with change_post", self.staff_with("change_post"), 200),
            ("superuser", make_staff(), 200),
        ]  # fmt: skip
        for who, user, expected in cases:
            with self.subTest(who):
                for stored in self.stored():
                    stored.unlink()
                # Else the same picture is found stored already (blog.media).
                StoredImage.objects.all().delete()
                self.client.logout()
                if user is not None:
                    self.client.force_login(user)
                self.assert_answers(expected)

    def test_post_rights_without_staff_status_are_not_enough(self):
        user = make_user()
        user.user_permissions.add(
            *Permission.objects.filter(codename__in=["add_post", "change_post"])
        )
        self.client.force_login(user)
        self.assert_answers(403)
