"""Importing from the admin (blog.importing.adminpage): upload, the dry run's report,
confirm; who may; what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from blog.importing import adminpage
from blog.models import Comment, Post
from tests.factories import make_staff, make_user
from tests.html import soup

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "files"
URL = reverse("admin:blog_post_import")


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    data = content if content is not None else (FILES / name).read_bytes()
    return SimpleUploadedFile(name, data, content_type="text/xml")


@pytest.fixture
def editor(client):
    user = make_staff("editor", first_name="Ed", last_name="Itor")
    client.force_login(user)
    return user


@pytest.fixture(autouse=True)
def _private_waiting_room(tmp_path, monkeypatch):
    monkeypatch.setattr(adminpage, "waiting_directory", lambda: tmp_path)


def check(client, name="blogger-classic.xml", platform="blogger", **data):
    return client.post(URL, {"platform": platform, "file": upload(name), **data})


def confirmation(response) -> str:
    return soup(response).select_one("input[name=confirm]")["value"]


def test_the_page_offers_the_upload_and_says_large_files_are_for_the_command(client, editor):
    page = soup(client.get(URL))
    assert page.select_one("input[type=file][name=file]") is not None
    assert {o["value"] for o in page.select("select[name=platform] option")} == {
        "blogger",
        "wordpress",
    }
    text = page.get_text(" ", strip=True)
    assert "up to 5 MB" in text
    assert "python manage.py import_blogger" in text
    assert "python manage.py import_wordpress" in text


def test_the_posts_list_links_to_the_page(client, editor):
    page = soup(client.get(reverse("admin:blog_post_changelist")))
    assert page.select_one(f".object-tools a[href='{URL}']").get_text(strip=True) == (
        "Import a blog"
    )


def test_checking_a_file_reports_and_writes_nothing(client, editor):
    response = check(client)
    assert response.status_code == 200
    page = soup(response)
    assert "Nothing has been written yet" in page.get_text(" ", strip=True)
    rows = {
        row.th.get_text(strip=True): [td.get_text(strip=True) for td in row.select("td")]
        for row in page.select("table.import-report tbody tr")
    }
    assert rows["Posts"][0] == "5"  # created
    assert rows["Pages"][0] == "1"  # created (a standalone page)
    assert not Post.objects.exists()
    assert not Comment.objects.exists()


def test_confirming_imports_the_file_checked(client, editor, tmp_path):
    token = confirmation(check(client))
    response = client.post(URL, {"confirm": token})
    assert response.status_code == 200
    assert "The import is done" in soup(response).get_text(" ", strip=True)
    assert Post.objects.filter(source_id__startswith="blogger:").count() == 5
    assert Comment.objects.count() == 5
    # The file is gone, and the same confirmation imports nothing a second time.
    assert not list(tmp_path.glob("*.xml"))
    again = client.post(URL, {"confirm": token})
    assert again.status_code == 302
    assert Post.objects.count() == 5


def test_every_post_can_go_to_one_account(client, editor):
    token = confirmation(check(client, author=editor.pk))
    client.post(URL, {"confirm": token})
    assert set(Post.objects.values_list("author", flat=True)) == {editor.pk}


def test_a_forged_or_expired_confirmation_imports_nothing(client, editor, monkeypatch):
    token = confirmation(check(client))
    forged = signing.dumps(
        {"token": "../../etc/passwd", "platform": "blogger", "author": None}, salt="other"
    )
    assert client.post(URL, {"confirm": forged}).status_code == 302
    monkeypatch.setattr(adminpage, "CONFIRM_WITHIN", -1)
    assert client.post(URL, {"confirm": token}).status_code == 302
    assert not Post.objects.exists()


def test_a_file_of_the_other_kind_is_refused_with_its_reason(client, editor):
    response = check(client, name="wordpress-1.2.xml", platform="blogger")
    assert response.status_code == 400
    errors = soup(response).select_one(".field-file .errorlist").get_text(" ", strip=True)
    assert "Blogger" in errors
    assert not Post.objects.exists()


def test_a_file_over_the_limit_is_left_to_the_command(client, editor, settings):
    settings.BLOG_IMPORT_UPLOAD_MAX_BYTES = 1024
    response = client.post(
        URL, {"platform": "blogger", "file": upload("big.xml", b"<feed>" + b" " * 2048)}
    )
    assert response.status_code == 200
    errors = soup(response).select_one(".field-file .errorlist").get_text(" ", strip=True)
    assert "Import it with the command on the server" in errors
    assert not Post.objects.exists()


def test_staff_without_the_permission_may_not_import(client):
    clerk = make_user("clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="change_post"))
    client.force_login(clerk)
    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, {"platform": "blogger", "file": upload("blogger-classic.xml")}).status_code
        == 403
    )
    page = soup(client.get(reverse("admin:blog_post_changelist")))
    assert page.select_one(f"a[href='{URL}']") is None
    clerk.user_permissions.add(Permission.objects.get(codename="import_posts"))
    assert client.get(URL).status_code == 200


def test_readers_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
