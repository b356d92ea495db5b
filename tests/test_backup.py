"""Backups: `manage.py backup` and `manage.py restore` (blog.operations), and `make backup` /
`make restore`. The in-process tests run on the suite's database (SQLite under
`make test`, PostgreSQL under `make test-postgres`); the command tests run the commands
in subprocesses on databases of their own."""

from __future__ import annotations

import datetime
import gzip
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from unittest import mock

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core import mail, serializers
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_comments_xtd.models import BlackListedDomain
from reversion.models import Revision
from taggit.models import Tag

from blog import previews
from blog.models import (
    Comment,
    ContentVersion,
    Follower,
    Mailing,
    OutgoingMail,
    Post,
    PreviewLink,
    Reference,
)
from blog.operations import backup_file

from .discussion import comment_and_confirm
from .factories import london, make_post, make_staff, make_user

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
WORD = "xylophonic"  # in one post's body only: what search must find after a restore
STAFF_PASSWORD = "an-editor's-long-password"


def canonical() -> dict[str, list[dict]]:
    """Every row a backup holds, by Django's own serializer (not the backup's), each
    many-to-many list sorted: what a restore must give back exactly."""
    dump = {}
    for label in backup_file.INCLUDED:
        model = apps.get_model(label)
        rows = serializers.serialize(
            "python", model._base_manager.order_by("pk"), use_natural_foreign_keys=True
        )
        for row in rows:
            for name, value in row["fields"].items():
                if isinstance(value, list) and model._meta.get_field(name).many_to_many:
                    row["fields"][name] = sorted(value, key=str)
        dump[label] = rows
    return dump


def differences(expected: dict, actual: dict) -> list[tuple]:
    """(model, pk, field, expected, actual) of each value a restore got wrong: a
    readable failure where the dumps differ."""
    found = []
    for label, rows in expected.items():
        theirs = {row["pk"]: row["fields"] for row in actual.get(label, [])}
        ours = {row["pk"]: row["fields"] for row in rows}
        for pk in ours.keys() | theirs.keys():
            a, b = ours.get(pk, {}), theirs.get(pk, {})
            found += [(label, pk, name, a.get(name), b.get(name))
                      for name in a.keys() | b.keys() if a.get(name) != b.get(name)]  # fmt: skip
    return found


def add_comment(post: Post, parent: Comment | None = None, **fields) -> Comment:
    comment = Comment(
        content_type=ContentType.objects.get_for_model(Post),
        object_pk=str(post.pk),
        site=Site.objects.get_current(),
        user_name=fields.pop("user_name", "Ann Reader"),
        user_email=fields.pop("user_email", "ann@example.org"),
        comment=fields.pop("comment", "Words."),
        submit_date=fields.pop("submit_date", london(2024, 3, 1, 10)),
        parent_id=parent.pk if parent else 0,
        **fields,
    )
    comment.save()
    return comment


class BackupTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff("editor", password=STAFF_PASSWORD, email="editor@example.org")
        editors = Group.objects.create(name="Editors")
        editors.permissions.add(
            Permission.objects.get_by_natural_key("change_post", "blog", "post")
        )
        cls.staff.groups.add(editors)
        cls.staff.user_permissions.add(
            Permission.objects.get_by_natural_key("view_comment", "blog", "comment")
        )
        cls.reader = make_user("reader", password="a-reader's-password")
        cls.post = make_post(
            "Thresholds for intervention",
            f"A {WORD} argument about thresholds [1], and another [2].",
            author=cls.staff,
            published_at=london(2024, 2, 1, 9),
            tags=["Ofsted", "mandatory reporting"],
            references={2: "Munro, E. (2011) The Munro Review.", 1: "Laming (2009)."},
            call_for_answers="Where should the threshold be?",
        )
        cls.other = make_post(
            "Inspection reports",
            "Inspections, again.",
            author=cls.staff,
            published_at=london(2024, 1, 15, 9),
            tags=["Ofsted"],
        )
        cls.draft = make_post("A draft", "Not yet.", status=Post.Status.DRAFT, author=cls.staff)
        cls.top = top = add_comment(cls.post, comment="Where do we start?", followup=True)
        cls.reply = add_comment(cls.post, top, user_name="Ben", user_email="ben@example.org")
        add_comment(cls.post, cls.reply, comment="Deeper.", user=cls.reader, user_name="reader")
        cls.answer = add_comment(cls.post, top, comment="With the family.", is_highlighted=True)
        add_comment(cls.post, comment="Held.", is_public=False, submit_date=london(2024, 3, 2))
        add_comment(cls.other, comment="Removed.", is_removed=True)
        add_comment(cls.other, comment="Second thread.", followup=True)
        BlackListedDomain.objects.create(domain="spam.example")
        LogEntry.objects.create(
            user=cls.staff,
            content_type=ContentType.objects.get_for_model(Post),
            object_id=str(cls.post.pk),
            object_repr=str(cls.post),
            action_flag=ADDITION,
        )

    def setUp(self):
        directory = tempfile.TemporaryDirectory(prefix="cpsw-backup-test-")
        self.addCleanup(directory.cleanup)
        self.directory = Path(directory.name)

    def back_up(self) -> Path:
        call_command("backup", output=self.directory / "backups", stdout=_quiet())
        (path,) = sorted((self.directory / "backups").glob("cpsw-*.jsonl.gz"))
        return path

    def restore(self, path: Path, **options) -> str:
        out = _quiet()
        options.setdefault("interactive", False)
        call_command("restore", str(path), output=self.directory / "copies", stdout=out,
                     **options)  # fmt: skip
        return out.getvalue()


def _quiet() -> io.StringIO:
    return io.StringIO()


class ClassificationTests(TestCase):
    def test_every_model_is_backed_up_or_left_out_for_a_reason(self):
        # A model added later must be placed: in a backup, or out of it with a reason.
        unplaced = [
            model._meta.label_lower
            for model in apps.get_models()
            if model._meta.label_lower not in backup_file.INCLUDED
            and model._meta.label_lower not in backup_file.EXCLUDED
            and model._meta.app_label not in backup_file.EXCLUDED_APPS
        ]
        assert unplaced == [], "add these to blog.operations.backup_file.INCLUDED or EXCLUDED"

    def test_the_three_tables_of_a_comment_are_included(self):
        for label in ("django_comments.comment", "django_comments_xtd.xtdcomment", "blog.comment"):
            assert label in backup_file.INCLUDED


class RoundTripTests(BackupTestCase):
    def test_the_file_is_private_and_names_its_time(self):
        path = self.back_up()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.name.startswith("cpsw-") and path.name.endswith("Z.jsonl.gz")
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            header = json.loads(stream.readline())
            rows = [json.loads(line) for line in stream]
        assert header["format"] == backup_file.FORMAT
        assert header["database"] == connection.vendor
        assert header["counts"]["blog.post"] == 3
        assert header["counts"]["blog.comment"] == 7
        assert "0008_page_indexes" in header["migrations"]["blog"]
        assert len(rows) == sum(header["counts"].values())
        # Only migrate's rows go by natural key; everything else keeps its id.
        comment = next(row for row in rows if row["model"] == "django_comments.comment")
        assert comment["fields"]["content_type"] == ["blog", "post"]
        assert isinstance(comment["fields"]["site"], int)
        (staff,) = (r for r in rows if r["model"] == "auth.user" and r["pk"] == self.staff.pk)
        assert staff["fields"]["user_permissions"] == [["view_comment", "blog", "comment"]]
        assert not {row["model"] for row in rows} & {
            "blog.searchdocument", "blog.contentversion", "sessions.session",
            "contenttypes.contenttype", "auth.permission",
        }  # fmt: skip

    def test_a_backup_reads_each_table_in_a_fixed_number_of_queries(self):
        with CaptureQueriesContext(connection) as small:
            self.back_up()
        for i in range(3):
            user = make_user(f"more{i}")
            user.groups.add(Group.objects.get())
            add_comment(make_post(f"More {i}", tags=[f"tag {i}"], author=user), user=user)
        shutil.rmtree(self.directory / "backups")
        with CaptureQueriesContext(connection) as large:
            self.back_up()
        assert len(large) == len(small)

    def test_a_restore_gives_back_exactly_what_was_backed_up(self):
        before = canonical()
        path = self.back_up()
        reader_page = self.post.get_absolute_url()
        assert WORD in self.client.get(reader_page).content.decode()

        self._change_everything()
        changed = self.client.get(reverse("blog:post-index")).content.decode()
        assert "Written after the backup" in changed  # now cached under the current token
        assert canonical() != before

        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            output = self.restore(path)

        assert differences(before, canonical()) == []
        assert canonical() == before
        assert "Restored 3 posts, 7 comments, 2 users" in output
        assert mail.outbox == []  # no follower nor moderator was told anything
        self._assert_the_original_content()

        # The page cache shows the restored state, not the page cached before it.
        index = self.client.get(reverse("blog:post-index")).content.decode()
        assert "Written after the backup" not in index
        assert "Thresholds for intervention" in index
        # Search finds the post by a word of its body again.
        results = self.client.get(reverse("blog:search"), {"q": WORD}).content.decode()
        assert "Thresholds for intervention" in results
        # The staff signs in with the old password; the new one no longer works.
        assert not self.signs_in("changed-after-backup")
        assert self.signs_in(STAFF_PASSWORD)

    def signs_in(self, password: str) -> bool:
        """Whether the staff signs in at the admin's sign-in page with ``password``."""
        form = {"username": "editor", "password": password, "next": reverse("admin:index")}
        return Client().post(reverse("admin:login"), form).status_code == 302

    def test_new_rows_after_a_restore_get_new_ids(self):
        path = self.back_up()
        add_comment(self.post, comment="After the backup.")
        self.restore(path)
        restored_ids = set(Comment.objects.values_list("pk", flat=True))
        restored_posts = set(Post.objects.values_list("pk", flat=True))

        # Through the real form: the receivers work again after the restore.
        comment = comment_and_confirm(self.client, self.post, comment="A new thought.")
        assert comment.pk not in restored_ids and comment.pk > max(restored_ids)
        assert comment.thread_id == comment.pk
        assert len(mail.outbox) >= 1  # the confirmation, sent as usual
        post = make_post("After the restore", author=self.staff)
        assert post.pk > max(restored_posts)
        assert Reference.objects.create(post=post, number=1, citation="New.").pk > max(
            Reference.objects.exclude(post=post).values_list("pk", flat=True)
        )

    def test_the_replaced_content_is_backed_up_first(self):
        path = self.back_up()
        Post.objects.filter(pk=self.draft.pk).update(title="Edited after the backup")
        output = self.restore(path)
        (copy,) = (self.directory / "copies").glob("cpsw-*.jsonl.gz")
        assert f"backed up to {copy}" in output
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        with gzip.open(copy, "rt", encoding="utf-8") as stream:
            assert "Edited after the backup" in stream.read()

    def test_sessions_end(self):
        path = self.back_up()
        self.client.force_login(self.staff)
        assert self.client.get(reverse("admin:index")).status_code == 200
        self.restore(path)
        assert self.client.get(reverse("admin:index")).status_code == 302

    def test_the_outbox_is_emptied_and_mailings_kept(self):
        post = make_post("Mailed", author=self.staff)
        follower = Follower.objects.create(email="ann@example.org", confirmed_at=timezone.now())
        mailing = Mailing.objects.create(
            kind=Mailing.Kind.POST, post=post, due_at=post.published_at,
            started_at=post.published_at, recipients=1,
        )  # fmt: skip
        path = self.back_up()
        OutgoingMail.objects.create(
            kind=OutgoingMail.Kind.NEW_POST, to=follower.email, mailing=mailing, follower=follower
        )
        self.restore(path)
        assert not OutgoingMail.objects.exists()
        assert Mailing.objects.get().post_id == post.pk  # not mailed again when next saved

    def test_shared_previews_end(self):
        draft = make_post("Not yet", author=self.staff, status=Post.Status.DRAFT)
        path = self.back_up()
        link = previews.create_link(draft, self.staff, datetime.timedelta(days=1))
        self.restore(path)
        assert not PreviewLink.objects.exists()
        assert self.client.get(previews.url_for(link)).status_code == 404

    def _change_everything(self) -> None:
        post = Post.objects.get(pk=self.post.pk)
        post.title, post.body = "Retitled", "No longer the same words [1]."
        post.save()
        post.tags.set(["changed"])
        Reference.objects.filter(post=post, number=2).delete()
        Post.objects.get(pk=self.other.pk).delete()  # and its comments with it
        make_post("Written after the backup", author=self.staff)
        Comment.objects.filter(pk=self.answer.pk).update(is_highlighted=False, is_public=False)
        add_comment(post, comment="A comment after the backup.")
        Tag.objects.filter(name="mandatory reporting").delete()
        self.staff.set_password("changed-after-backup")
        self.staff.save()
        self.staff.groups.clear()
        User.objects.filter(username="reader").delete()
        make_user("newcomer")
        BlackListedDomain.objects.all().delete()

    def _assert_the_original_content(self) -> None:
        post = Post.objects.get(pk=self.post.pk)
        assert (post.title, post.slug, post.published_at) == (
            "Thresholds for intervention", self.post.slug, london(2024, 2, 1, 9),
        )  # fmt: skip
        assert post.body_html == self.post.body_html and 'href="#ref-2"' in post.body_html
        assert [(r.number, r.citation) for r in post.references.all()] == [
            (1, "Laming (2009)."),
            (2, "Munro, E. (2011) The Munro Review."),
        ]
        assert sorted(post.tags.names()) == ["Ofsted", "mandatory reporting"]
        assert list(Post.objects.get(pk=self.other.pk).tags.names()) == ["Ofsted"]
        top, reply, answer = self.top.pk, self.reply.pk, self.answer.pk
        comments = [
            (c.pk, c.thread_id, c.parent_id, c.level, c.order, c.is_public, c.is_removed,
             c.followup, c.is_highlighted, c.user and c.user.username)
            for c in Comment.objects.for_post(post).order_by("thread_id", "order")
        ]  # fmt: skip
        assert comments[:4] == [
            (top, top, top, 0, 1, True, False, True, False, None),
            (reply, top, top, 1, 2, True, False, False, False, None),
            (reply + 1, top, reply, 2, 3, True, False, False, False, "reader"),
            (answer, top, top, 1, 4, True, False, False, True, None),
        ]
        assert comments[4][5] is False  # held for approval
        removed = Comment.objects.for_post(self.other).get(comment="Removed.")
        assert removed.is_removed and removed.thread_id == removed.pk
        staff = User.objects.get(username="editor")
        assert [g.name for g in staff.groups.all()] == ["Editors"]
        assert staff.has_perm("blog.change_post") and staff.has_perm("blog.view_comment")
        assert list(BlackListedDomain.objects.values_list("domain", flat=True)) == ["spam.example"]
        assert not User.objects.filter(username="newcomer").exists()
        assert Site.objects.get_current().domain == settings.SITE_DOMAIN


class RefusalTests(BackupTestCase):
    def assert_refused(self, path: Path, message: str, **options) -> None:
        before, token = canonical(), ContentVersion.objects.values_list("token", flat=True)[:1]
        token = list(token)
        with pytest.raises(CommandError, match=message):
            self.restore(path, **options)
        assert canonical() == before
        assert list(ContentVersion.objects.values_list("token", flat=True)[:1]) == token

    def rewrite(self, path: Path, edit) -> Path:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            lines = stream.read().splitlines()
        edited = self.directory / "edited.jsonl.gz"
        with gzip.open(edited, "wt", encoding="utf-8") as stream:
            stream.write("\n".join(edit(lines)) + "\n")
        return edited

    def test_a_missing_file(self):
        self.assert_refused(self.directory / "nothing-here.jsonl.gz", "No backup file at")

    def test_a_truncated_file(self):
        path = self.back_up()
        data = path.read_bytes()
        cut = self.directory / "cut.jsonl.gz"
        cut.write_bytes(data[: len(data) // 2])
        self.assert_refused(cut, "is damaged")

    def test_a_file_that_is_not_gzip(self):
        plain = self.directory / "plain.jsonl.gz"
        plain.write_text("hello")
        self.assert_refused(plain, "not a gzip file")

    def test_a_fixture_of_another_format(self):
        fixture = self.directory / "fixture.json.gz"
        with gzip.open(fixture, "wt") as stream:
            call_command("dumpdata", "blog.post", stdout=stream)
        self.assert_refused(fixture, "is not a backup made by `manage.py backup`")

    def test_a_backup_of_a_database_at_other_migrations(self):
        def other_schema(lines):
            header = json.loads(lines[0])
            header["migrations"]["blog"].append("0042_from_the_future")
            return [json.dumps(header), *lines[1:]]

        edited = self.rewrite(self.back_up(), other_schema)
        self.assert_refused(
            edited, "other migrations than this one \\(blog: 0042_from_the_future in the backup"
        )

    def test_a_file_missing_rows(self):
        edited = self.rewrite(self.back_up(), lambda lines: lines[:-1])
        self.assert_refused(edited, "is incomplete: its header announces")

    def test_a_row_that_does_not_fit_changes_nothing(self):
        # The file is whole and of this schema; the failure comes while loading, after
        # the tables were emptied: the transaction gives everything back.
        def orphan(lines):
            rows = [json.loads(line) for line in lines[1:]]
            post = next(row for row in rows if row["model"] == "blog.post")
            post["fields"]["author"] = 999_999
            return [lines[0], *(json.dumps(row) for row in rows)]

        edited = self.rewrite(self.back_up(), orphan)
        self.assert_refused(edited, "does not fit this database")

    def test_it_asks_before_replacing_content(self):
        path = self.back_up()
        with mock.patch("builtins.input", return_value="no") as asked:
            self.assert_refused(path, "Restore cancelled", interactive=True)
        assert "This database holds 3 posts, 7 comments, 2 users" in asked.call_args[0][0]
        with mock.patch("builtins.input", side_effect=EOFError):
            self.assert_refused(path, "Pass --noinput", interactive=True)
        with mock.patch("builtins.input", return_value="yes"):
            self.restore(path, interactive=True)


class EmptyDatabaseTests(TestCase):
    def test_a_restore_into_an_empty_site_does_not_ask(self):
        make_post("Only post")
        directory = Path(tempfile.mkdtemp(prefix="cpsw-backup-test-"))
        self.addCleanup(shutil.rmtree, directory)
        call_command("backup", output=directory, stdout=_quiet())
        (path,) = directory.glob("*.jsonl.gz")
        Post.objects.all().delete()
        User.objects.all().delete()
        Revision.objects.all().delete()  # the deleted post's, kept by django-reversion
        with mock.patch("builtins.input", side_effect=AssertionError("asked")):
            call_command("restore", str(path), output=directory / "copies", stdout=_quiet())
        assert list(Post.objects.values_list("title", flat=True)) == ["Only post"]
        assert not (directory / "copies").exists()  # nothing was there to keep


# The commands, as an operator runs them ---------------------------------------------


def _environment(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        CACHE_URL="locmem://",
    )
    return env


def _run(args: list[str], database_url: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=_environment(database_url), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def _manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    result = _run([PYTHON, "manage.py", *args], database_url)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _make(database_url: str, *args: str) -> subprocess.CompletedProcess:
    # -o: never re-install the virtualenv from a test.
    return _run(["make", "--no-print-directory", "-o", ".venv/.installed-stamp", *args],
                database_url)  # fmt: skip


def _rows(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        stream.readline()
        return stream.read().splitlines()


def _header(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return json.loads(stream.readline())


def _only_backup(directory: Path) -> Path:
    (path,) = directory.glob("cpsw-*.jsonl.gz")
    return path


@pytest.fixture(scope="module")
def sqlite_site(tmp_path_factory) -> Path:
    """A SQLite site with the April entries and a few threaded discussions, and its
    backup made by `make backup`."""
    directory = tmp_path_factory.mktemp("sqlite-site")
    url = f"sqlite:///{directory / 'site.sqlite3'}"
    _manage(url, "migrate", "--noinput", "-v0")
    _manage(url, "load_april_2014")
    _manage(url, "seed_demo", "--posts", "3", "--comments", "30", "--force")
    result = _make(url, "backup", f"BACKUP_ARGS=--output {directory / 'backups'}")
    assert result.returncode == 0, result.stderr
    path = _only_backup(directory / "backups")
    assert f"to {path}" in result.stdout
    return path


def test_make_backup_and_make_restore(sqlite_site, tmp_path):
    path = sqlite_site
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    _manage(target, "migrate", "--noinput", "-v0")

    usage = _make(target, "restore")
    assert usage.returncode != 0 and "Usage: make restore FILE=" in usage.stderr
    missing = _make(target, "restore", f"FILE={tmp_path / 'missing.jsonl.gz'}")
    assert missing.returncode != 0 and "No backup file at" in missing.stderr

    copies = tmp_path / "copies"
    restored = _make(target, "restore", f"FILE={path}", f"BACKUP_ARGS=--output {copies}")
    assert restored.returncode == 0, restored.stderr
    assert "Restored 10 posts, 30 comments" in restored.stdout
    assert not copies.exists()  # a freshly migrated database: nothing to keep

    _manage(target, "backup", "--output", str(tmp_path / "again"))
    assert _rows(_only_backup(tmp_path / "again")) == _rows(path)

    # Restoring again, over content: the content is backed up first, and no question.
    again = _make(target, "restore", f"FILE={path}", f"BACKUP_ARGS=--output {copies}")
    assert again.returncode == 0, again.stderr
    assert _rows(_only_backup(copies)) == _rows(path)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the cross-database round trip runs in the PostgreSQL leg",
)
def test_sqlite_to_postgresql_and_back(sqlite_site, tmp_path):
    """A backup from SQLite restores into PostgreSQL, and PostgreSQL's backup of it into
    SQLite, row for row."""
    import psycopg

    path = sqlite_site
    server = settings.DATABASES["default"]
    name = f"cpsw_backup_test_{uuid.uuid4().hex[:12]}"
    admin_url = f"postgresql://{server['USER']}@{server['HOST']}:{server['PORT'] or 5432}/postgres"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        pg_url = f"postgres://{server['USER']}@{server['HOST']}:{server['PORT'] or 5432}/{name}"
        _manage(pg_url, "migrate", "--noinput", "-v0")
        _manage(pg_url, "restore", "--noinput", str(path))
        _manage(pg_url, "backup", "--output", str(tmp_path / "from-pg"))
        from_pg = _only_backup(tmp_path / "from-pg")
        assert _header(from_pg)["database"] == "postgresql"
        assert _rows(from_pg) == _rows(path)
        # New rows in PostgreSQL get ids above the restored ones.
        result = _manage(pg_url, "shell", "-c", (
            "from blog.models import Post; from tests.factories import make_post; "
            "print(make_post('New').pk > max(Post.objects.exclude(title='New')"
            ".values_list('pk', flat=True)))"
        ))  # fmt: skip
        assert result.stdout.strip().endswith("True")
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    sqlite_url = f"sqlite:///{tmp_path / 'back.sqlite3'}"
    _manage(sqlite_url, "migrate", "--noinput", "-v0")
    _manage(sqlite_url, "restore", "--noinput", str(from_pg))
    _manage(sqlite_url, "backup", "--output", str(tmp_path / "back"))
    assert _rows(_only_backup(tmp_path / "back")) == _rows(path)


def test_backup_refuses_an_unwritable_directory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(CommandError, match="Cannot create the backup directory"):
        call_command("backup", output=blocker / "backups", stdout=_quiet())
