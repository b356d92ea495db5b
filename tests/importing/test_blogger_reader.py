"""The Blogger reader: both exports read into records, and every file it must refuse.

The reader writes nothing, so these tests never touch the database."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest

from blog.importing import blogger
from blog.importing.comment_text import comment_text
from blog.importing.convert import Converted
from blog.importing.records import (
    CommentStatus,
    ImportFileError,
    Kind,
    OldAddress,
    PostStatus,
    Skipped,
    SourceAuthor,
    SourceBlog,
    SourceComment,
    SourceNote,
    SourcePost,
)

FILES = Path(__file__).parent / "files"
JOHN = "https://www.blogger.com/profile/01234567890123456789"
JANE = "https://www.blogger.com/profile/09876543210987654321"
BST = datetime.timezone(datetime.timedelta(hours=1))
CLASSIC = "blogger:tag:blogger.com,1999:blog-7013"
NEW = "blogger:tag:blogger.com,1999:blog-2018"


def read_file(name: str) -> list:
    with open(FILES / name, "rb") as file:
        return list(blogger.read(file))


def read_bytes(data: bytes) -> list:
    return list(blogger.read(io.BytesIO(data)))


def by_id(records: list) -> dict:
    return {r.source_id: r for r in records if isinstance(r, SourcePost | SourceComment)}


@pytest.fixture(scope="module")
def classic() -> list:
    return read_file("blogger-classic.xml")


@pytest.fixture(scope="module")
def new() -> list:
    return read_file("blogger-2020.xml")


# The classic export --------------------------------------------------------------------


def test_classic_blog_comes_first(classic):
    assert classic[0] == SourceBlog(
        platform="blogger",
        title="Notes from the Front Line",
        base_url="https://example.blogspot.com/",
    )
    assert not any(isinstance(r, SourceBlog) for r in classic[1:])


def test_classic_authors_once_and_before_their_first_item(classic):
    authors = [r for r in classic if isinstance(r, SourceAuthor)]
    assert authors == [
        SourceAuthor(key=JOHN, username="john-mills", display_name="John Mills", email=""),
        SourceAuthor(
            key=JANE, username="jane-oneill", display_name="Jane O’Neill", email="jane@example.org"
        ),
    ]
    for author in authors:
        first_naming = next(
            i for i, r in enumerate(classic) if getattr(r, "author_key", None) == author.key
        )
        assert classic.index(author) < first_naming


def test_classic_settings_and_template_are_skipped(classic):
    skipped = [r for r in classic if isinstance(r, Skipped)]
    assert [(s.kind, s.source_id) for s in skipped] == [
        ("template", f"{CLASSIC}.layout"),
        ("setting", f"{CLASSIC}.settings.BLOG_NAME"),
        ("setting", f"{CLASSIC}.settings.BLOG_COMMENT_MODERATION"),
    ]
    assert {s.reason for s in skipped} == {"Blogger's settings and template are not imported"}
    assert skipped[0].position.item == 1 and skipped[0].position.line == 2


def test_classic_published_post(classic):
    post = by_id(classic)[f"{CLASSIC}.post-1001"]
    assert post.is_page is False
    assert post.title == "Stepping up – but not staying in"
    assert post.status == PostStatus.PUBLISHED
    assert post.published_at == datetime.datetime(2014, 4, 15, 10, 31, tzinfo=BST)
    assert post.published_at.utcoffset() == datetime.timedelta(hours=1)
    assert post.updated_at == datetime.datetime(2014, 4, 15, 11, 2, 45, 123000, tzinfo=BST)
    assert post.author_key == JOHN
    assert post.slug == "stepping-up-but-not-staying-in"
    assert post.tags == ("Social Work", "learning organisations")
    assert post.allow_comments is True
    assert post.old_addresses == (
        OldAddress("/2014/04/stepping-up-but-not-staying-in.html", Kind.POST),
        OldAddress("/search/label/Social Work", Kind.TAG, target="Social Work"),
        OldAddress(
            "/search/label/learning organisations", Kind.TAG, target="learning organisations"
        ),
        OldAddress("/feeds/posts/default", Kind.FEED),
        OldAddress("/feeds/posts/default?alt=rss", Kind.FEED),
        OldAddress("/feeds/comments/default", Kind.COMMENTS_FEED),
    )


def test_classic_april_2014_shaped_post_keeps_its_notes_text(classic):
    post = by_id(classic)[f"{CLASSIC}.post-1001"]
    assert "makes interesting reading.[1]" in post.body
    assert "learning organisations.[2]" in post.body
    # Whether the converter takes the notes off the body is its own test's business;
    # the reader hands on whatever it gives, body and notes together.
    in_body = "[1] Peter Senge" in post.body
    in_notes = any(n.citation.startswith("Peter Senge") for n in post.notes)
    assert in_body or in_notes


def test_untitled_post_stays_untitled_and_its_image_is_kept(classic):
    post = by_id(classic)[f"{CLASSIC}.post-1002"]
    assert post.title == ""
    assert post.slug == "blog-post"
    assert "https://blogger.googleusercontent.com/img/b/R29vZ2xl/s320/whiteboard.jpg" in post.body
    assert post.tags == ("social work",)


def test_labels_differing_in_case_are_both_kept_with_an_address_each(classic):
    addresses = [a for r in classic if isinstance(r, SourcePost) for a in r.old_addresses]
    tag_paths = [a.path for a in addresses if a.kind == Kind.TAG]
    assert tag_paths == [
        "/search/label/Social Work",
        "/search/label/learning organisations",
        "/search/label/social work",
        "/search/label/Café culture",
    ]
    assert len([a for a in addresses if a.kind == Kind.FEED]) == 2  # Atom, and ?alt=rss
    assert len([a for a in addresses if a.kind == Kind.COMMENTS_FEED]) == 1


def test_unicode_and_entities_in_title_and_body(classic):
    post = by_id(classic)[f"{CLASSIC}.post-1003"]
    assert post.title == "Fish & chips, “naïve” questions & a £5 budget"
    assert "A “naïve” question: what does £5 buy a family of four? Fish & chips, once." in post.body
    assert "> It’s not the money, it’s the time." in post.body
    assert post.author_key == JANE
    # The permalink's query (?m=1, the mobile view) is not part of the old path.
    assert post.old_addresses[0] == OldAddress(
        "/2014/04/fish-chips-naive-questions-5-budget.html", Kind.POST
    )
    assert post.slug == "fish-chips-naive-questions-5-budget"


def test_classic_draft_has_no_old_address(classic):
    post = by_id(classic)[f"{CLASSIC}.post-1004"]
    assert post.status == PostStatus.DRAFT
    assert post.slug == ""
    assert post.old_addresses == ()


def test_classic_scheduled_post_is_published_in_the_future(classic):
    post = by_id(classic)[f"{CLASSIC}.post-1005"]
    assert post.status == PostStatus.PUBLISHED
    assert post.published_at == datetime.datetime(2031, 6, 1, 9, 0, tzinfo=BST)
    assert post.slug == "written-ahead"


def test_classic_page(classic):
    page = by_id(classic)[f"{CLASSIC}.page-2001"]
    assert page.is_page is True
    assert page.title == "About this blog"
    assert page.slug == "about"
    assert page.old_addresses == (OldAddress("/p/about.html", Kind.PAGE),)


def test_classic_threads_three_and_four_deep(classic):
    comments = by_id(classic)
    parents = {
        cid.rpartition("-")[2]: comments[cid].parent_source_id.rpartition("-")[2]
        for cid in comments
        if isinstance(comments[cid], SourceComment)
    }
    assert parents == {
        "3001": "",
        "3002": "3001",
        "3003": "3002",
        "3004": "3003",
        "3005": "",
        "3006": "",
    }
    reply = comments[f"{CLASSIC}.post-3004"]
    assert reply.parent_source_id == f"{CLASSIC}.post-3003"
    assert reply.post_source_id == f"{CLASSIC}.post-1001"
    assert comments[f"{CLASSIC}.post-3006"].post_source_id == f"{CLASSIC}.post-1002"


def test_classic_comment_fields(classic):
    comments = by_id(classic)
    first = comments[f"{CLASSIC}.post-3001"]
    assert first.status == CommentStatus.APPROVED
    assert first.submit_date == datetime.datetime(2014, 4, 15, 12, 10, tzinfo=BST)
    assert first.text == (
        "Couldn’t agree more — the learning organisation is the whole point.\n\n"
        "See my notes on Senge (https://example.org/senge) & example.org."
    )
    assert first.author_name == "Mary Ellis"
    assert first.author_url == "https://maryellis.example.net/"
    assert first.author_email == ""  # Blogger's noreply@blogger.com is nobody's
    assert first.author_key == ""

    anonymous = comments[f"{CLASSIC}.post-3003"]
    assert (anonymous.author_name, anonymous.author_url, anonymous.author_key) == (
        "Anonymous",
        "",
        "",
    )

    reader = comments[f"{CLASSIC}.post-3004"]
    assert reader.author_url == "https://www.blogger.com/profile/11112222333344445555"
    assert reader.author_key == ""  # a Blogger profile, but not the blog's author

    google_plus = comments[f"{CLASSIC}.post-3006"]
    assert google_plus.author_url == ""
    assert google_plus.text == "Lovely board.\nWho drew the owl?"


def test_classic_comment_by_the_blogs_author_keeps_the_author(classic):
    answer = by_id(classic)[f"{CLASSIC}.post-3002"]
    assert answer.author_key == JOHN
    assert answer.author_name == "John Mills"


def test_classic_removed_comment_is_trash(classic):
    removed = by_id(classic)[f"{CLASSIC}.post-3005"]
    assert removed.status == CommentStatus.TRASH


def test_anonymous_commenters_are_not_authors(classic):
    keys = {r.key for r in classic if isinstance(r, SourceAuthor)}
    assert keys == {JOHN, JANE}


def test_blog_owner_commenting_before_any_post_is_yielded_as_author_first():
    records = read_bytes(
        classic_export(
            comment_entry("9", post="1", author=f"<name>John Mills</name><uri>{JOHN}</uri>")
        )
    )
    assert isinstance(records[1], SourceAuthor) and records[1].key == JOHN
    assert records[2].author_key == JOHN


def test_the_body_goes_through_the_converter(monkeypatch):
    calls = []

    def convert(html: str, *, base_url: str = "", autop: bool = False) -> Converted:
        calls.append((html, base_url, autop))
        return Converted(
            body="converted",
            notes=(SourceNote(1, "Peter Senge, The Fifth Discipline"),),
            images=("https://example.org/a.jpg",),
        )

    monkeypatch.setattr(blogger, "convert_body", convert)
    post = by_id(read_file("blogger-classic.xml"))[f"{CLASSIC}.post-1001"]
    assert calls[0][1:] == ("https://example.blogspot.com/", False)
    assert calls[0][0].startswith("<p>The research on the first two cohorts")
    assert post.body == "converted"
    assert post.notes == (SourceNote(1, "Peter Senge, The Fifth Discipline"),)
    assert post.images == ("https://example.org/a.jpg",)


# The newer export ----------------------------------------------------------------------


def test_new_blog_comes_first(new):
    # The newer export's feed has no link to the blog: its old addresses are paths.
    assert new[0] == SourceBlog(platform="blogger", title="Notes from the Front Line", base_url="")


def test_new_settings_and_template_are_skipped(new):
    skipped = [(r.kind, r.source_id, r.reason) for r in new if isinstance(r, Skipped)]
    assert skipped[:2] == [
        ("setting", f"{NEW}.settings", "Blogger's settings and template are not imported"),
        ("template", f"{NEW}.layout", "Blogger's settings and template are not imported"),
    ]


def test_new_posts(new):
    posts = by_id(new)
    live = posts[f"{NEW}.post-1001"]
    assert live.status == PostStatus.PUBLISHED
    assert live.published_at == datetime.datetime(2014, 4, 15, 9, 31, tzinfo=datetime.UTC)
    assert live.updated_at == datetime.datetime(2014, 4, 15, 10, 2, 45, 123000, tzinfo=datetime.UTC)
    assert live.slug == "stepping-up-but-not-staying-in"
    assert live.tags == ("Social Work", "social work")
    assert live.author_key == JOHN
    assert live.old_addresses == (
        OldAddress("/2014/04/stepping-up-but-not-staying-in.html", Kind.POST),
        OldAddress("/search/label/Social Work", Kind.TAG, target="Social Work"),
        OldAddress("/search/label/social work", Kind.TAG, target="social work"),
        OldAddress("/feeds/posts/default", Kind.FEED),
        OldAddress("/feeds/posts/default?alt=rss", Kind.FEED),
        OldAddress("/feeds/comments/default", Kind.COMMENTS_FEED),
    )

    untitled = posts[f"{NEW}.post-1002"]
    assert untitled.title == ""
    assert "A “naïve” £5 question." in untitled.body
    assert "whiteboard.jpg" in untitled.body

    draft = posts[f"{NEW}.post-1004"]
    assert draft.status == PostStatus.DRAFT
    assert draft.title == "Half a thought & a “naïve” one"
    assert (draft.slug, draft.old_addresses) == ("", ())
    assert draft.author_key == JANE

    scheduled = posts[f"{NEW}.post-1005"]
    assert scheduled.status == PostStatus.PUBLISHED
    assert scheduled.published_at == datetime.datetime(2031, 6, 1, 8, 0, tzinfo=datetime.UTC)

    page = posts[f"{NEW}.post-2001"]
    assert page.is_page is True
    assert page.old_addresses == (OldAddress("/p/about.html", Kind.PAGE),)


def test_new_trashed_post_is_skipped(new):
    skipped = [r for r in new if isinstance(r, Skipped) and r.kind == "post"]
    assert [(s.source_id, s.reason) for s in skipped] == [
        (f"{NEW}.post-1006", "it was in Blogger's trash when the blog was exported")
    ]
    assert f"{NEW}.post-1006" not in by_id(new)


def test_new_comments(new):
    comments = {k: v for k, v in by_id(new).items() if isinstance(v, SourceComment)}
    assert {
        k.rpartition("-")[2]: (v.parent_source_id.rpartition("-")[2], v.status)
        for k, v in comments.items()
    } == {
        "3001": ("", CommentStatus.APPROVED),
        "3002": ("3001", CommentStatus.APPROVED),
        "3003": ("3002", CommentStatus.APPROVED),
        "3004": ("3003", CommentStatus.APPROVED),
        "3005": ("", CommentStatus.PENDING),
        "3006": ("", CommentStatus.SPAM),
        "3007": ("", CommentStatus.TRASH),
    }
    assert {c.post_source_id for c in comments.values()} == {f"{NEW}.post-1001"}
    assert (
        comments[f"{NEW}.post-3001"].text
        == "Couldn’t agree more — see my notes (https://example.org/senge)."
    )
    assert comments[f"{NEW}.post-3002"].author_key == JOHN
    anonymous = comments[f"{NEW}.post-3003"]
    assert (anonymous.author_name, anonymous.author_key, anonymous.author_url) == (
        "Anonymous",
        "",
        "",
    )
    assert comments[f"{NEW}.post-3005"].author_name == "New Reader"


def test_new_reply_named_by_its_number():
    records = read_bytes(new_export(new_comment("3002", post="1001", in_reply_to="3001")))
    assert records[1].parent_source_id == f"{NEW}.post-3001"


# Refusals ------------------------------------------------------------------------------


def wxr(items: int = 1) -> bytes:
    item = (
        "<item><title>Hello</title><link>https://example.org/?p=1</link>"
        "<wp:post_id>1</wp:post_id><wp:post_type>post</wp:post_type>"
        "<content:encoded><![CDATA[<p>" + "words " * 50 + "</p>]]></content:encoded></item>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>A WordPress blog</title>'
        "<wp:wxr_version>1.2</wp:wxr_version>" + item * items + "</channel></rss>"
    ).encode()


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_wordpress_export_is_refused_without_reading_it_all():
    data = wxr(items=2000)
    file = CountingFile(data)
    with pytest.raises(ImportFileError, match=r"not a Blogger export.*<rss>.*import_wordpress"):
        list(blogger.read(file))
    assert file.bytes_read < len(data) / 4


def test_a_small_wordpress_export_is_refused():
    with pytest.raises(ImportFileError, match="not a Blogger export"):
        read_bytes(wxr())


def test_an_ordinary_atom_feed_is_refused():
    feed = (
        b"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        b"<id>https://example.org/</id><title>Someone's site</title>"
        b"<entry><id>https://example.org/1</id><title>Hi</title>"
        b"<published>2014-04-15T10:31:00Z</published></entry></feed>"
    )
    with pytest.raises(ImportFileError, match="not a Blogger blog's"):
        read_bytes(feed)


def test_a_blogger_blogs_public_feed_is_refused():
    feed = classic_export(
        f"<entry><id>tag:blogger.com,1999:blog-7013.post-1</id>"
        f"<published>2014-04-15T10:31:00Z</published>"
        f"<category scheme='{blogger.LABEL_SCHEME}' term='Social Work'/>"
        f"<title type='text'>Hi</title><content type='html'>Hi</content></entry>"
    )
    with pytest.raises(ImportFileError, match="Back up content"):
        read_bytes(feed)


def test_a_truncated_export_is_refused():
    data = (FILES / "blogger-classic.xml").read_bytes()
    with pytest.raises(ImportFileError, match="ends before its XML does"):
        read_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "preamble",
    [
        '<!DOCTYPE feed [<!ENTITY lol "lol">]>',
        '<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE feed SYSTEM "http://example.org/feed.dtd">',
    ],
)
def test_a_document_type_or_entity_is_refused(preamble):
    data = (
        (FILES / "blogger-classic.xml")
        .read_bytes()
        .replace(b"?><feed ", f"?>{preamble}<feed ".encode(), 1)
    )
    with pytest.raises(ImportFileError, match="entities or a document type"):
        read_bytes(data)


def test_not_xml_is_refused():
    with pytest.raises(ImportFileError, match="not XML"):
        read_bytes(b"PK\x03\x04 this is a zip file")


def too_long(field: str) -> tuple[str, str]:
    """An entry with ``field`` one character too long, and the words the error names."""
    if field == "title":
        where = "post “tag:blogger.com,1999:blog-7013.post-1” (item 1, line 2)"
        return post_entry_xml(title="t" * 201), f"{where}: its title"
    if field == "slug":
        link = f"https://example.blogspot.com/2014/04/{'s' * 121}.html"
        return post_entry_xml(link=link), "its slug"
    if field == "body":
        return post_entry_xml(content="b" * 1_000_001), "its body"
    if field == "label":
        return post_entry_xml(labels=("l" * 101,)), "its label"
    if field == "name":
        author = f"<name>{'n' * 51}</name>"
        return comment_entry("9", post="1", author=author), "its commenter's name"
    if field == "email":
        address = "e" * 243 + "@example.org"  # 255 characters
        return (
            comment_entry("9", post="1", author=f"<name>Ann</name><email>{address}</email>"),
            "its commenter's e-mail address",
        )
    if field == "url":
        address = "https://example.org/" + "u" * 181  # 201 characters
        return comment_entry(
            "9", post="1", author=f"<name>Ann</name><uri>{address}</uri>"
        ), "its commenter's address"
    if field == "text":
        return comment_entry("9", post="1", content="c" * 3001), "its text"
    raise AssertionError(field)


@pytest.mark.parametrize(
    "field", ["title", "slug", "body", "label", "name", "email", "url", "text"]
)
def test_a_field_too_long_is_refused_naming_item_and_field(field):
    entry, words = too_long(field)
    with pytest.raises(ImportFileError) as refused:
        read_bytes(classic_export(entry))
    message = str(refused.value)
    assert words in message
    assert "tag:blogger.com,1999:blog-7013.post-" in message
    assert "item 1, line" in message


def test_the_comment_limit_follows_the_setting(settings):
    settings.COMMENT_MAX_LENGTH = 20
    refusal = r"its text is 21 characters long; the site keeps 20 at most"
    with pytest.raises(ImportFileError, match=refusal):
        read_bytes(classic_export(comment_entry("9", post="1", content="c" * 21)))
    settings.COMMENT_MAX_LENGTH = 3000
    assert (
        read_bytes(classic_export(comment_entry("9", post="1", content="c" * 21)))[1].text
        == "c" * 21
    )


def test_the_longest_fields_that_fit_are_read():
    records = read_bytes(
        classic_export(
            post_entry_xml(
                title="t" * 200,
                link=f"https://example.blogspot.com/2014/04/{'s' * 120}.html",
                labels=("l" * 100,),
            )
        )
    )
    post = records[-1]
    assert (len(post.title), len(post.slug), len(post.tags[0])) == (200, 120, 100)


def test_an_unknown_kind_is_skipped_with_its_reason():
    records = read_bytes(
        classic_export(
            "<entry><id>tag:blogger.com,1999:blog-7013.widget-1</id>"
            f"<category scheme='{blogger.KIND_SCHEME}' term='{blogger.KIND_PREFIX}widget'/>"
            "<published>2014-04-15T10:31:00Z</published></entry>"
        )
    )
    assert records[1] == Skipped(
        "widget",
        f"{CLASSIC}.widget-1",
        "Blogger's “widget” entries are not imported",
        records[1].position,
    )


def test_hostile_addresses_are_not_kept():
    records = read_bytes(
        classic_export(
            comment_entry("9", post="1", author="<name>Eve</name><uri>javascript:alert(1)</uri>")
            + post_entry_xml(link="https://example.blogspot.com/2014/04/%3Cscript%3E.html")
        )
    )
    assert records[1].author_url == ""
    post = records[-1]
    assert post.slug == ""  # "<script>" is no slug: the writer makes one
    assert post.old_addresses[0] == OldAddress("/2014/04/<script>.html", Kind.POST)


# Small exports written here ------------------------------------------------------------


def classic_export(entries: str) -> bytes:
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:gd='http://schemas.google.com/g/2005' "
        "xmlns:thr='http://purl.org/syndication/thread/1.0'>"
        "<id>tag:blogger.com,1999:blog-7013.archive</id><title type='text'>Notes</title>"
        "<link rel='alternate' type='text/html' href='https://example.blogspot.com/'/>"
        f"<author><name>John Mills</name><uri>{JOHN}</uri></author>\n{entries}</feed>"
    ).encode()


def post_entry_xml(
    *,
    title: str = "A post",
    content: str = "Words.",
    link: str = "https://example.blogspot.com/2014/04/a-post.html",
    labels: tuple[str, ...] = (),
) -> str:
    categories = "".join(
        f"<category scheme='{blogger.LABEL_SCHEME}' term='{label}'/>" for label in labels
    )
    return (
        "<entry><id>tag:blogger.com,1999:blog-7013.post-1</id>"
        "<published>2014-04-15T10:31:00.000+01:00</published>"
        f"<category scheme='{blogger.KIND_SCHEME}' term='{blogger.KIND_PREFIX}post'/>{categories}"
        f"<title type='text'>{title}</title><content type='html'>{content}</content>"
        f"<link rel='alternate' type='text/html' href='{link}'/>"
        f"<author><name>John Mills</name><uri>{JOHN}</uri></author></entry>"
    )


def comment_entry(
    number: str, *, post: str, author: str = "<name>Anonymous</name>", content: str = "Hi"
) -> str:
    return (
        f"<entry><id>tag:blogger.com,1999:blog-7013.post-{number}</id>"
        "<published>2014-04-15T12:10:00.000+01:00</published>"
        f"<category scheme='{blogger.KIND_SCHEME}' term='{blogger.KIND_PREFIX}comment'/>"
        f"<content type='html'>{content}</content><author>{author}</author>"
        f"<thr:in-reply-to ref='tag:blogger.com,1999:blog-7013.post-{post}'/></entry>"
    )


def new_export(entries: str) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:blogger='http://schemas.google.com/blogger/2018'>"
        f"<id>tag:blogger.com,1999:blog-2018</id><title>Notes</title>{entries}</feed>"
    ).encode()


def new_comment(number: str, *, post: str, in_reply_to: str = "") -> str:
    return (
        f"<entry><id>tag:blogger.com,1999:blog-2018.post-{number}</id>"
        f"<blogger:parent>tag:blogger.com,1999:blog-2018.post-{post}</blogger:parent>"
        f"<blogger:inReplyTo>{in_reply_to}</blogger:inReplyTo>"
        "<blogger:type>COMMENT</blogger:type><blogger:status>LIVE</blogger:status>"
        "<author><name>Ann</name><blogger:type>BLOGGER</blogger:type></author>"
        "<content type='html'>Hi</content><published>2014-04-15T12:00:00Z</published></entry>"
    )


# A comment's HTML as plain text --------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One.</p><p>Two.</p>", "One.\n\nTwo."),
        ("Line one<br>line two<br/>line three", "Line one\nline two\nline three"),
        ("Fish &amp; chips &pound;5 &#8212; &ldquo;na&iuml;ve&rdquo;", "Fish & chips £5 — “naïve”"),
        ('<a href="https://example.org/x">the report</a>', "the report (https://example.org/x)"),
        ('<a href="https://www.example.org/">example.org</a>', "example.org"),
        ('<a href="https://example.org/x">https://example.org/x</a>', "https://example.org/x"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ("<b>bold</b> and <i>italic</i><script>alert(1)</script>", "bold and italic"),
        ("  spaced\n   out  ", "spaced out"),
    ],
)
def test_comment_text(html, text):
    assert comment_text(html) == text
