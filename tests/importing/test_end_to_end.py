"""The export files, imported by the commands and read as readers meet them: the
posts, their references, threads and tags on the site's pages, their old addresses;
importing again; a later export; failures and hostile files leaving the site as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from taggit.models import Tag

from blog.importing.load import POST_BATCH
from blog.models import Comment, Post, Redirect, Reference, SearchDocument
from tests.html import soup
from tests.importing.generate import write_wordpress_export

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "files"
EXPORTS = [
    ("import_blogger", "blogger-classic.xml"),
    ("import_blogger", "blogger-2020.xml"),
    ("import_wordpress", "wordpress-1.2.xml"),
    ("import_wordpress", "wordpress-1.1.xml"),
    ("import_wordpress", "wordpress-1.0.xml"),
]


def run(command: str, path: Path | str, *args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(command, str(path), *args, stdout=out, verbosity=1)
    return out.getvalue()


def snapshot() -> dict[str, list]:
    """Every row an import writes, as values: two equal snapshots, no change."""
    return {
        "posts": list(
            Post.objects.order_by("pk").values_list(
                "pk",
                "title",
                "slug",
                "body",
                "body_html",
                "status",
                "published_at",
                "updated_at",
                "author_id",
                "source_digest",
            )
        ),
        "references": list(Reference.objects.order_by("pk").values_list("pk", "post", "number")),
        "tags": list(Tag.objects.order_by("pk").values_list("pk", "name")),
        "taggings": sorted(Post.tags.through.objects.values_list("content_object", "tag")),
        "comments": list(
            Comment.objects.order_by("pk").values_list(
                "pk",
                "comment",
                "is_public",
                "thread_id",
                "parent_id",
                "level",
                "order",
                "nested_count",
                "source_digest",
            )
        ),
        "users": list(get_user_model().objects.order_by("pk").values_list("pk", "username")),
        "redirects": list(Redirect.objects.order_by("pk").values_list("old_path", "post", "tag")),
    }


@pytest.mark.parametrize(("command", "name"), EXPORTS)
def test_every_export_imports_and_a_second_import_changes_nothing(command, name):
    run(command, FILES / name)
    assert Post.objects.filter(source_id__gt="").exists()
    before = snapshot()
    report = run(command, FILES / name)
    assert snapshot() == before
    posts_row = next(line for line in report.splitlines() if line.strip().startswith("posts"))
    created, updated, *_ = [int(n) for n in posts_row.split()[1:]]
    assert (created, updated) == (0, 0)


def test_a_blogger_post_reads_as_it_did_with_its_references_thread_and_tags(client):
    run("import_blogger", FILES / "blogger-classic.xml")
    post = Post.objects.get(title="Stepping up – but not staying in")
    # The notes at its end are its references, and its markers link to them.
    assert [r.number for r in post.references.all()] == [1, 2]
    assert post.references.get(number=1).citation.startswith("Peter Senge, The Fifth Discipline")
    assert "[1] Peter Senge" not in post.body
    page = soup(client.get(post.get_absolute_url()))
    assert page.select_one("article a.cite[href='#ref-1']") is not None
    assert page.select_one("#ref-2") is not None
    # The thread, three deep, the removed comment left out, the author's reply badged.
    comments = {c.user_name: c for c in Comment.objects.for_post(post)}
    assert set(comments) == {"Mary Ellis", "John Mills", "Anonymous", "Sam Patel"}
    assert comments["Sam Patel"].level == 3
    assert comments["John Mills"].user == post.author
    text = page.get_text(" ", strip=True)
    assert "removed by a blog administrator" not in text
    assert "Couldn’t agree more — the learning organisation is the whole point." in text
    # Tags merge with the site's by name, whatever the case.
    tag_page = client.get(reverse("blog:tag-detail", kwargs={"slug": "social-work"}))
    assert post.display_title in soup(tag_page).get_text(" ", strip=True)
    # Searchable: the write path indexed it.
    assert SearchDocument.objects.filter(post=post).exists()
    search = client.get(reverse("blog:search"), {"q": "cohorts"})
    assert post.display_title in soup(search).get_text(" ", strip=True)


def test_the_old_blogger_addresses_lead_to_the_post_and_the_comment(client):
    run("import_blogger", FILES / "blogger-classic.xml")
    post = Post.objects.get(title="Stepping up – but not staying in")
    old = "/2014/04/stepping-up-but-not-staying-in.html"
    for query in ("", "?m=1"):
        response = client.get(old + query)
        assert (response.status_code, response["Location"]) == (301, post.get_absolute_url())
    for old_feed, new_feed in [
        ("/feeds/posts/default", reverse("blog:feed-atom")),
        ("/feeds/posts/default?alt=rss", reverse("blog:feed-rss")),
        ("/feeds/comments/default", reverse("blog:feed-comments")),
        ("/search/label/Social Work", reverse("blog:tag-detail", kwargs={"slug": "social-work"})),
    ]:
        assert client.get(old_feed)["Location"] == new_feed
    reply = Comment.objects.get(user_name="Sam Patel")
    response = client.get(old, {"showComment": "1397576700000"})
    assert response["Location"] == reply.get_absolute_url()
    assert response["Location"].endswith(f"#c{reply.pk}")


def test_a_later_export_adds_and_updates_only_what_changed(tmp_path):
    original = (FILES / "wordpress-1.2.xml").read_text()
    run("import_wordpress", FILES / "wordpress-1.2.xml")
    before = snapshot()
    later = original.replace(
        "<title><![CDATA[Stepping up but not staying in?]]></title>",
        "<title><![CDATA[Stepping up, but not staying in]]></title>",
    ).replace(
        "</wp:comment>\n\t\t<wp:comment>\n\t\t\t<wp:comment_id>108</wp:comment_id>",
        "</wp:comment>\n"
        "\t\t<wp:comment>\n"
        "\t\t\t<wp:comment_id>999</wp:comment_id>\n"
        "\t\t\t<wp:comment_author><![CDATA[Late Reader]]></wp:comment_author>\n"
        "\t\t\t<wp:comment_author_email><![CDATA[late@example.org]]></wp:comment_author_email>\n"
        "\t\t\t<wp:comment_date_gmt><![CDATA[2014-05-01 08:00:00]]></wp:comment_date_gmt>\n"
        "\t\t\t<wp:comment_content><![CDATA[Still true a month on.]]></wp:comment_content>\n"
        "\t\t\t<wp:comment_approved><![CDATA[1]]></wp:comment_approved>\n"
        "\t\t\t<wp:comment_type><![CDATA[comment]]></wp:comment_type>\n"
        "\t\t\t<wp:comment_parent>101</wp:comment_parent>\n"
        "\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n"
        "\t\t</wp:comment>\n"
        "\t\t<wp:comment>\n\t\t\t<wp:comment_id>108</wp:comment_id>",
    )
    assert later.count("Late Reader") == 1 and "Stepping up, but" in later
    path = tmp_path / "later.xml"
    path.write_text(later)
    report = run("import_wordpress", path)
    rows = {
        line.split()[0]: [int(n) for n in line.split()[1:]] for line in report.splitlines()[2:10]
    }
    assert rows["posts"][:2] == [0, 1]
    assert rows["comments"][:2] == [1, 0]
    after = snapshot()
    assert len(after["posts"]) == len(before["posts"])
    changed = [a for a, b in zip(after["posts"], before["posts"], strict=True) if a != b]
    assert [row[1] for row in changed] == ["Stepping up, but not staying in"]
    late = Comment.objects.get(user_name="Late Reader")
    assert Comment.objects.get(pk=late.parent_id).source_id.endswith(":comment:101")


def test_a_failure_in_the_middle_leaves_the_site_as_it_was(tmp_path):
    run("import_blogger", FILES / "blogger-classic.xml")
    before = snapshot()
    # Long enough that the writer has written a batch of posts and comments before it
    # reads the broken item (a title longer than a title can be).
    path = tmp_path / "export.xml"
    write_wordpress_export(path, posts=POST_BATCH + 40, comments=600)
    items = path.read_text().split("<item>")
    broken = POST_BATCH + 30
    items[broken] = items[broken].replace("<title>", "<title>" + "x" * 300, 1)
    path.write_text("<item>".join(items))
    with pytest.raises(CommandError, match=f"item {broken}"):
        run("import_wordpress", path)
    assert snapshot() == before


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title></channel></rss>"""


def hostile_files() -> dict[str, bytes]:
    blogger = (FILES / "blogger-classic.xml").read_bytes()
    return {
        "not-xml": b"%PDF-1.4 this is not an export",
        "empty": b"",
        "html": b"<!doctype html><html><body><p>Hello</p></body></html>",
        "truncated": blogger[: len(blogger) // 2],
        "billion-laughs": BILLION_LAUGHS,
        "external-entity": EXTERNAL_ENTITY,
        "rss-feed": b'<?xml version="1.0"?><rss version="2.0"><channel><title>A feed</title>'
        b"<item><title>x</title></item></channel></rss>",
        "oversized-title": blogger.replace(
            b"<title type='text'>Stepping up", b"<title type='text'>" + b"y" * 5000, 1
        ),
    }


@pytest.mark.parametrize("command", ["import_blogger", "import_wordpress"])
@pytest.mark.parametrize("kind", list(hostile_files()))
def test_hostile_and_broken_files_are_refused_and_nothing_is_written(command, kind, tmp_path):
    path = tmp_path / f"{kind}.xml"
    path.write_bytes(hostile_files()[kind])
    users = get_user_model().objects.count()
    with pytest.raises(CommandError) as refused:
        run(command, path)
    message = str(refused.value)
    assert "Traceback" not in message and len(message) < 600
    assert not Post.objects.exists()
    assert not Comment.objects.exists()
    assert not Redirect.objects.exists()
    assert get_user_model().objects.count() == users
    if kind in ("billion-laughs", "external-entity"):
        assert "entities or a document type" in message
    if kind == "external-entity":
        assert "root:" not in message


@pytest.mark.parametrize(
    ("command", "name"),
    [("import_blogger", "wordpress-1.2.xml"), ("import_wordpress", "blogger-classic.xml")],
)
def test_an_export_of_the_other_kind_is_refused_naming_it(command, name):
    with pytest.raises(CommandError) as refused:
        run(command, FILES / name)
    expected = "Blogger" if command == "import_blogger" else "WordPress"
    assert expected in str(refused.value)
    assert not Post.objects.exists()
