"""The April 2014 entries came from Blogger. Written back into a Blogger export the way
Blogger's editor wrote bodies (paragraphs as ``<br /><br />``, the numbered notes as
lines at the end), then imported into an empty site, they read word for word as the
fixture has them: titles (the untitled one untitled), text, references, tags, times."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from django.core.management import call_command

from blog.markup import plain_text, render_markdown
from blog.models import Post

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "april_2014.json"
BLOG = "tag:blogger.com,1999:blog-4242"


def fixture_posts() -> list[dict]:
    rows = json.loads(FIXTURE.read_text())
    references: dict[str, list[tuple[int, str]]] = {}
    tags: dict[str, list[str]] = {}
    for row in rows:
        fields = row["fields"]
        if row["model"] == "blog.reference":
            references.setdefault(fields["post"][0], []).append(
                (fields["number"], fields["citation"])
            )
        if row["model"] == "blog.taggedpost":
            # Natural keys: the post's slug, the tag's name.
            tags.setdefault(fields["content_object"][0], []).append(fields["tag"][0])
    return [
        {
            **row["fields"],
            "references": sorted(references.get(row["fields"]["slug"], [])),
            "tags": sorted(tags.get(row["fields"]["slug"], [])),
        }
        for row in rows
        if row["model"] == "blog.post"
    ]


def blogger_html(post: dict) -> str:
    """The body as Blogger's compose mode wrote it: no <p>, paragraphs as two <br />."""
    html = render_markdown(post["body"])
    html = re.sub(r"</p>\s*<p>", "<br /><br />", html.strip())
    html = html.removeprefix("<p>").removesuffix("</p>")
    notes = "<br />".join(f"[{n}] {escape(citation)}" for n, citation in post["references"])
    return f"{html}<br /><br />{notes}" if notes else html


def blogger_export(posts: list[dict]) -> str:
    entries = []
    for n, post in enumerate(posts, start=1):
        day = post["published_at"][:7].replace("-", "/")
        labels = "".join(
            f"<category scheme='http://www.blogger.com/atom/ns#' term={quoteattr(t)}/>"
            for t in post["tags"]
        )
        entries.append(
            f"<entry><id>{BLOG}.post-{n}</id>"
            f"<published>{post['published_at'].replace('Z', '+00:00')}</published>"
            f"<updated>{post['updated_at'].replace('Z', '+00:00')}</updated>"
            "<category scheme='http://schemas.google.com/g/2005#kind' "
            "term='http://schemas.google.com/blogger/2008/kind#post'/>"
            f"{labels}<title type='text'>{escape(post['title'])}</title>"
            f"<content type='html'>{escape(blogger_html(post))}</content>"
            "<link rel='alternate' type='text/html' "
            f"href='https://cpsw.blogspot.com/{day}/{post['slug']}.html'/>"
            "<author><name>Ray Jones</name>"
            "<uri>https://www.blogger.com/profile/1</uri></author></entry>"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<id>{BLOG}</id><title type='text'>Child Protection Social Work</title>"
        "<link rel='alternate' type='text/html' href='https://cpsw.blogspot.com/'/>"
        + "".join(entries)
        + "</feed>"
    )


def test_the_april_2014_entries_come_back_word_for_word(tmp_path):
    posts = fixture_posts()
    assert len(posts) == 7
    path = tmp_path / "blogger.xml"
    path.write_text(blogger_export(posts), encoding="utf-8")
    call_command("import_blogger", str(path), stdout=StringIO())

    assert Post.objects.count() == 7
    for expected in posts:
        post = Post.objects.get(slug=expected["slug"])
        assert post.title == expected["title"]
        wanted = render_markdown(expected["body"], [n for n, _ in expected["references"]])
        assert plain_text(post.body_html) == plain_text(wanted), expected["slug"]
        assert [(r.number, r.citation) for r in post.references.all()] == expected["references"]
        assert sorted(t.name for t in post.tags.all()) == expected["tags"]
        assert post.published_at.isoformat().replace("+00:00", "Z") == expected["published_at"]
    assert Post.objects.get(title="").opening_words.startswith("I’m not really surprised")
