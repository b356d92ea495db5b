"""manage.py import_blogger / import_wordpress: the plumbing around the writer, with the
platform's reader replaced by one yielding records built here (the readers have tests
of their own)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

import blog.importing
from blog.importing.records import CommentStatus, ImportFileError, SourceBlog
from blog.models import Comment, Post
from tests.factories import make_user

from .test_load import JANE, comment, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def export(tmp_path, monkeypatch):
    """A file whose reader yields ``records`` (set by the test); what it was asked for."""
    state = {"records": [], "platforms": []}

    def reader(platform: str):
        state["platforms"].append(platform)

        def read(file):
            file.read()  # as a reader would, for the progress
            yield from state["records"]

        return read

    monkeypatch.setattr(blog.importing, "reader", reader)
    path = tmp_path / "export.xml"
    path.write_bytes(b"<feed/>")
    state["path"] = str(path)
    return state


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def records(platform: str = "blogger") -> list:
    return [
        SourceBlog(platform, "Old", ""),
        JANE,
        post(1),
        comment(1),
        comment(2, status=CommentStatus.SPAM),
    ]


@pytest.mark.parametrize("platform", ["blogger", "wordpress"])
def test_the_command_imports_and_reports(export, platform):
    export["records"] = records(platform)
    text = run(f"import_{platform}", export["path"])
    assert export["platforms"] == [platform]
    assert text.startswith("Imported:")
    assert "posts" in text and "1 × comment: spam on the old blog" in text
    assert Post.objects.filter(source_id="blogger:post-1").exists()
    assert Comment.objects.count() == 1


def test_details_lists_each_skipped_item(export):
    export["records"] = records()
    text = run("import_blogger", export["path"], details=True)
    assert "comment blogger:comment-2 (item 1002): spam on the old blog" in text


def test_dry_run_writes_nothing(export):
    export["records"] = records()
    text = run("import_blogger", export["path"], dry_run=True)
    assert text.startswith("Dry run: nothing was written.")
    assert not Post.objects.exists()


def test_author_gives_every_post_to_an_account(export):
    editor = make_user("editor")
    export["records"] = records()
    run("import_blogger", export["path"], author="editor")
    assert Post.objects.get().author == editor


def test_an_unknown_author_is_an_error(export):
    export["records"] = records()
    with pytest.raises(CommandError, match="no account 'nobody'"):
        run("import_blogger", export["path"], author="nobody")
    assert not Post.objects.exists()


def test_a_bad_file_is_a_command_error_and_nothing_is_written(export):
    def broken():
        yield SourceBlog("blogger", "Old", "")
        yield JANE
        yield post(1)
        raise ImportFileError("line 3: not a Blogger export")

    export["records"] = broken()
    with pytest.raises(CommandError, match="line 3: not a Blogger export"):
        run("import_blogger", export["path"])
    assert not Post.objects.exists()


def test_a_bad_file_exits_with_one(export):
    export["records"] = iter([SourceBlog("blogger", "Old", ""), post(1, author_key="")])
    # No superuser and no --author: the file is refused. Django's run_from_argv turns a
    # CommandError into sys.exit(returncode) (called here, it would also close the test
    # database's connection).
    with pytest.raises(CommandError, match="--author") as refused:
        run("import_blogger", export["path"])
    assert refused.value.returncode == 1
    assert not Post.objects.exists()


def test_a_missing_file_is_a_command_error(export, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_blogger", str(tmp_path / "nothing.xml"))


def test_progress_is_told_the_bytes_read(export):
    export["records"] = records()
    seen: list[int] = []
    with open(export["path"], "rb") as file:
        blog.importing.import_file(file, "blogger", progress=seen.append)
    assert seen and seen[-1] == len(b"<feed/>")
