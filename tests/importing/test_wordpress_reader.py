"""The WordPress export reader: what each part of a WXR file becomes, for each version
WordPress has written, and every file it refuses. Nothing is written to the database:
the reader only turns a file into records."""

from __future__ import annotations

import datetime
import io
import xml.etree.ElementTree as ET  # nosec B405 # only to read our own test file
from collections import Counter
from pathlib import Path

import pytest

from blog.importing import wordpress
from blog.importing.comment_text import comment_text
from blog.importing.convert import convert_body
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
    SourcePost,
)

FILES = Path(__file__).parent / "files"
BASE = "https://childrenfirst.example.org/"
BST = datetime.timezone(datetime.timedelta(hours=1))
EST = datetime.timezone(datetime.timedelta(hours=-5))


def records(name: str) -> list:
    with open(FILES / name, "rb") as file:
        return list(wordpress.read(file))


def read_bytes(data: bytes) -> list:
    return list(wordpress.read(io.BytesIO(data)))


@pytest.fixture(scope="module")
def v12() -> list:
    return records("wordpress-1.2.xml")


def content_of(post_id: int) -> str:
    """An item's content:encoded in the 1.2 file, read here with the standard library
    (the file is the tests' own)."""
    tree = ET.parse(FILES / "wordpress-1.2.xml")  # nosec B314 # our own file
    for item in tree.getroot().iter("item"):
        if item.findtext("{http://wordpress.org/export/1.2/}post_id") == str(post_id):
            return item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    raise LookupError(post_id)


def post(stream: list, post_id: int) -> SourcePost:
    wanted = f"wordpress:{BASE}:{post_id}"
    return next(r for r in stream if isinstance(r, SourcePost) and r.source_id == wanted)


def comments(stream: list) -> dict[str, SourceComment]:
    return {r.source_id.rpartition(":")[2]: r for r in stream if isinstance(r, SourceComment)}


def skipped(stream: list) -> dict[str, Skipped]:
    return {r.source_id.rpartition(":")[2]: r for r in stream if isinstance(r, Skipped)}


def all_addresses(stream: list) -> list[OldAddress]:
    return [a for r in stream if isinstance(r, SourcePost) for a in r.old_addresses]


# --- the blog and its authors ---------------------------------------------------------


def test_the_blog_comes_first_with_its_address_ending_in_a_slash(v12):
    assert v12[0] == SourceBlog(
        platform="wordpress", title="Children First & Foremost", base_url=BASE
    )
    assert records("wordpress-1.1.xml")[0].base_url == "http://oldblog.example.com/blog/"


def test_the_channel_link_stands_in_for_a_missing_base_blog_url():
    data = (FILES / "wordpress-1.0.xml").read_bytes()
    data = data.replace(b"<wp:base_blog_url>http://garden.example.org</wp:base_blog_url>", b"")
    data = data.replace(
        b"<link>http://garden.example.org</link>", b"<link>http://other.example.org</link>"
    )
    assert read_bytes(data)[0].base_url == "http://other.example.org/"


def test_authors_with_their_display_names_else_first_and_last_else_login(v12):
    authors = [r for r in v12 if isinstance(r, SourceAuthor)]
    assert authors == [
        SourceAuthor("mills", "mills", "Michael Mills", "mills@childrenfirst.example.org"),
        SourceAuthor("zoe", "zoe", "Zoë Ørsted", "zoe@childrenfirst.example.org"),
        SourceAuthor("guest", "guest", "guest", ""),
    ]


def test_each_author_comes_before_the_first_post_naming_them():
    for name in ("wordpress-1.2.xml", "wordpress-1.1.xml", "wordpress-1.0.xml"):
        seen = set()
        for record in records(name):
            if isinstance(record, SourceAuthor):
                seen.add(record.key)
            elif isinstance(record, SourcePost):
                assert record.author_key in seen, (name, record.source_id)


def test_wxr_1_0_has_no_authors_list_so_the_creators_login_is_the_author():
    stream = records("wordpress-1.0.xml")
    assert [r for r in stream if isinstance(r, SourceAuthor)] == [
        SourceAuthor("gardener", "gardener", "gardener", "")
    ]
    assert stream.index(SourceAuthor("gardener", "gardener", "gardener", "")) == 1


# --- posts --------------------------------------------------------------------------


def test_a_published_post_like_the_april_2014_entries(v12):
    item = post(v12, 10)
    html = content_of(10)
    converted = convert_body(html, base_url=BASE, autop=True)
    assert item.title == "Stepping up but not staying in?"
    assert item.is_page is False
    assert item.status == PostStatus.PUBLISHED
    assert item.body == converted.body and "Step Up to Social Work" in item.body
    assert item.notes == converted.notes
    assert item.images == converted.images
    assert item.slug == "stepping-up-but-not-staying-in"
    assert item.author_key == "mills"
    assert item.allow_comments is True
    assert item.tags == ("Social Work", "Workforce")
    assert item.position.item == 1 and item.position.line == 78


def test_times_are_exact_and_in_the_blogs_offset(v12):
    item = post(v12, 10)
    assert item.published_at == datetime.datetime(2014, 4, 15, 9, 0, tzinfo=datetime.UTC)
    assert item.published_at.utcoffset() == datetime.timedelta(hours=1)
    assert item.updated_at == datetime.datetime(2014, 4, 16, 7, 30, tzinfo=datetime.UTC)
    snow = records("wordpress-1.1.xml")[2]
    assert snow.published_at == datetime.datetime(2012, 1, 10, 9, 0, tzinfo=EST)
    assert snow.published_at.utcoffset() == datetime.timedelta(hours=-5)
    assert snow.updated_at is None  # WXR 1.1 has no wp:post_modified_gmt


def test_a_drafts_local_time_is_read_in_the_offset_last_seen(v12):
    draft = post(v12, 11)
    assert draft.status == PostStatus.DRAFT
    assert draft.published_at == datetime.datetime(2014, 4, 20, 14, 30, tzinfo=BST)
    assert draft.updated_at is None  # its modified date has no UTC either
    assert draft.slug == ""
    seed_order = [r for r in records("wordpress-1.0.xml") if isinstance(r, SourcePost)][1]
    assert seed_order.published_at == datetime.datetime(2009, 8, 1, 9, 0, tzinfo=BST)


def test_a_draft_before_any_dated_item_is_read_as_utc():
    data = (FILES / "wordpress-1.0.xml").read_bytes()
    data = data.replace(
        b"<wp:post_date_gmt>2009-07-15 17:00:00</wp:post_date_gmt>",
        b"<wp:post_date_gmt>0000-00-00 00:00:00</wp:post_date_gmt>",
    )
    first = next(r for r in read_bytes(data) if isinstance(r, SourcePost))
    assert first.published_at == datetime.datetime(2009, 7, 15, 18, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("post_id", "status"),
    [
        (10, PostStatus.PUBLISHED),  # publish
        (12, PostStatus.PUBLISHED),  # future: scheduled
        (11, PostStatus.DRAFT),  # draft
        (13, PostStatus.DRAFT),  # private: only WordPress's editors could read it
        (17, PostStatus.DRAFT),  # published behind a password
    ],
)
def test_statuses(v12, post_id, status):
    assert post(v12, post_id).status == status


def test_a_scheduled_post_keeps_its_future_date(v12):
    assert post(v12, 12).published_at == datetime.datetime(2030, 1, 1, 9, 0, tzinfo=datetime.UTC)


def test_a_pending_post_is_a_draft():
    pending = records("wordpress-1.1.xml")[6]
    assert pending.title == "Awaiting review"
    assert pending.status == PostStatus.DRAFT


def test_trash_and_auto_drafts_are_skipped_with_the_reason(v12):
    skips = skipped(v12)
    assert skips["14"].kind == "post" and skips["14"].reason == "in WordPress's trash"
    assert skips["23"].reason == "an unsaved auto-draft"
    assert skips["140"].kind == "comment"  # the trashed post's comment goes with it
    assert "not imported" in skips["140"].reason


def test_attachments_menu_entries_and_unknown_types_are_skipped(v12):
    skips = skipped(v12)
    assert skips["21"].kind == "attachment" and "attachment" in skips["21"].reason
    assert skips["22"].kind == "nav_menu_item" and "menu" in skips["22"].reason
    product = skipped(records("wordpress-1.1.xml"))["8"]
    assert product.kind == "product" and "type this site does not have" in product.reason
    assert product.position.item == 4


def test_an_untitled_post_stays_untitled(v12):
    assert post(v12, 15).title == ""


def test_unicode_and_entities_in_and_out_of_cdata(v12):
    assert post(v12, 11).title == "Drafts & doubts: “half-written”"  # entities, no CDATA
    assert post(v12, 16).title == "Café talk"  # a character reference
    body = post(v12, 15).body
    assert "Ünïcödé — “quotes”, 日本語" in body
    assert "émile" in body and "–" in body  # HTML entities inside CDATA


def test_slugs_and_permalinks_are_percent_decoded(v12):
    cafe = post(v12, 16)
    assert cafe.slug == "café-talk"
    assert OldAddress("/2014/04/18/café-talk/", Kind.POST) in cafe.old_addresses


def test_a_page(v12):
    about = post(v12, 20)
    assert about.is_page is True
    assert about.status == PostStatus.PUBLISHED
    assert about.allow_comments is False
    assert about.old_addresses[:2] == (
        OldAddress("/?page_id=20", Kind.PAGE),
        OldAddress("/about/", Kind.PAGE),
    )


def test_an_image_in_a_body_is_listed_by_the_converter(v12):
    cafe = post(v12, 16)
    converted = convert_body(content_of(16), base_url=BASE, autop=True)
    assert "wp-content/uploads/2014/04/vacancies.png" in content_of(16)
    assert (cafe.body, cafe.images) == (converted.body, converted.images)
    assert "vacancies.png" in cafe.body


# --- tags -----------------------------------------------------------------------------


def test_categories_and_tags_are_tags_merged_without_regard_to_case(v12):
    # The category "Policy" and the tag "policy" are one tag here; "Uncategorized",
    # WordPress's default, is none.
    assert post(v12, 15).tags == ("Policy", "Éducation")
    assert post(v12, 16).tags == ("Child Protection", "Workforce")
    assert post(v12, 11).tags == ()


def test_wxr_1_0_tags_and_the_doubled_terms():
    beans = next(r for r in records("wordpress-1.0.xml") if isinstance(r, SourcePost))
    assert beans.tags == ("Vegetables", "beans")
    assert OldAddress("/tag/beans/", Kind.TAG, target="beans") in beans.old_addresses


def test_each_category_and_tag_address_once_per_file(v12):
    addresses = [a for a in all_addresses(v12) if a.kind == Kind.TAG]
    assert addresses == [
        OldAddress("/category/social-work/", Kind.TAG, target="Social Work"),
        OldAddress("/tag/workforce/", Kind.TAG, target="Workforce"),
        OldAddress("/category/policy/", Kind.TAG, target="Policy"),
        OldAddress("/tag/policy-2/", Kind.TAG, target="policy"),
        OldAddress("/tag/éducation/", Kind.TAG, target="Éducation"),
        OldAddress("/category/policy/child-protection/", Kind.TAG, target="Child Protection"),
        OldAddress("/category/child-protection/", Kind.TAG, target="Child Protection"),
    ]


# --- old addresses ------------------------------------------------------------------


def test_a_posts_old_addresses(v12):
    assert post(v12, 10).old_addresses == (
        OldAddress("/?p=10", Kind.POST),
        OldAddress("/2014/04/15/stepping-up-but-not-staying-in/", Kind.POST),
        OldAddress("/category/social-work/", Kind.TAG, target="Social Work"),
        OldAddress("/tag/workforce/", Kind.TAG, target="Workforce"),
        OldAddress("/author/mills/", Kind.AUTHOR, target="mills"),
        OldAddress("/feed/", Kind.FEED),
        OldAddress("/comments/feed/", Kind.COMMENTS_FEED),
    )


def test_plain_permalinks_are_not_listed_twice(v12):
    assert post(v12, 11).old_addresses == (
        OldAddress("/?p=11", Kind.POST),
        OldAddress("/author/zoe/", Kind.AUTHOR, target="zoe"),
    )


def test_feeds_and_authors_once_per_file(v12):
    paths = Counter(a.path for a in all_addresses(v12))
    assert paths["/feed/"] == paths["/comments/feed/"] == 1
    authors = [a for a in all_addresses(v12) if a.kind == Kind.AUTHOR]
    assert [a.target for a in authors] == ["mills", "zoe", "guest"]
    assert max(paths.values()) == 1


def test_a_blog_in_a_folder_keeps_its_folder_in_its_addresses():
    snow = records("wordpress-1.1.xml")[2]
    assert [a.path for a in snow.old_addresses] == [
        "/blog/?p=5",
        "/blog/2012/01/10/snow-day/",
        "/blog/category/news/",
        "/blog/tag/winter/",
        "/blog/author/pat/",
        "/blog/feed/",
        "/blog/comments/feed/",
    ]


# --- comments -------------------------------------------------------------------------


def test_a_comment(v12):
    first = comments(v12)["101"]
    assert first.source_id == f"wordpress:{BASE}:10:comment:101"
    assert first.post_source_id == f"wordpress:{BASE}:10"
    assert first.parent_source_id == ""
    assert first.status == CommentStatus.APPROVED
    assert first.submit_date == datetime.datetime(2014, 4, 15, 11, 5, tzinfo=datetime.UTC)
    assert first.author_name == "Anne Reader"
    assert first.author_email == "anne@example.net"
    assert first.author_url == "https://anne.example.net/"
    assert first.ip_address == "192.0.2.15"
    assert first.author_key == ""
    assert first.position == post(v12, 10).position


def test_a_comments_html_becomes_plain_text(v12):
    assert comments(v12)["101"].text == (
        "Retention is the whole story.\n\n"
        "We lost three social workers in a year & none of them left the profession. "
        "See the report (https://example.net/report).\n"
        "Thanks for writing this."
    )
    assert comments(v12)["103"].text == "Three deep now: still agreed."
    assert comments(v12)["112"].text == "Thank you all. Anne, I’d like to read that report."


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("a<br>b<br/>c", "a\nb\nc"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ('<a href="https://x.example/">https://x.example/</a>', "https://x.example/"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("x<script>alert(1)</script>y", "xy"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("line  \r\n\r\n\r\n\r\nnext", "line\n\nnext"),
    ],
)
def test_comment_text(html, text):
    assert comment_text(html, newlines=True) == text


def test_threads_three_and_four_deep(v12):
    by_id = comments(v12)

    def depth(comment_id: str) -> int:
        parent = by_id[comment_id].parent_source_id
        return 1 if not parent else 1 + depth(parent.rpartition(":")[2])

    assert [depth(c) for c in ("101", "102", "103")] == [1, 2, 3]
    assert [depth(c) for c in ("104", "105", "106", "107")] == [1, 2, 3, 4]
    assert by_id["107"].parent_source_id == f"wordpress:{BASE}:10:comment:106"


def test_comment_statuses(v12):
    by_id = comments(v12)
    assert by_id["108"].status == CommentStatus.PENDING
    assert by_id["109"].status == CommentStatus.SPAM
    assert by_id["110"].status == CommentStatus.TRASH


def test_pingbacks_and_trackbacks_are_skipped(v12):
    assert skipped(v12)["111"] == Skipped(
        "comment", f"wordpress:{BASE}:10:comment:111", "a pingback", post(v12, 10).position
    )
    assert skipped(records("wordpress-1.1.xml"))["33"].reason == "a trackback"


def test_a_comment_by_one_of_the_blogs_authors_keeps_the_author(v12):
    assert comments(v12)["112"].author_key == "mills"
    assert comments(records("wordpress-1.1.xml"))["32"].author_key == "pat"


def test_ip_addresses_are_validated(v12):
    assert comments(v12)["102"].ip_address == "2001:db8::42"
    assert comments(v12)["103"].ip_address == ""  # "unknown"


def test_records_come_in_file_order(v12):
    kinds = [type(r).__name__ for r in v12]
    assert kinds[:5] == ["SourceBlog", "SourceAuthor", "SourceAuthor", "SourceAuthor", "SourcePost"]
    assert [r.position.item for r in v12 if isinstance(r, SourcePost)] == [1, 2, 3, 4, 6, 7, 8, 9]


# --- refusals -------------------------------------------------------------------------

BLOGGER = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/'>
<id>tag:blogger.com,1999:blog-123</id><title type='text'>A Blogger blog</title>
<entry><id>tag:blogger.com,1999:blog-123.post-1</id><title type='text'>Hi</title>
<content type='html'>Hello</content></entry>
</feed>"""

PLAIN_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>News</title><link>https://news.example/</link>
<item><title>One</title><link>https://news.example/1</link><description>x</description></item>
</channel></rss>"""


def refusal(data: bytes) -> str:
    with pytest.raises(ImportFileError) as caught:
        read_bytes(data)
    return str(caught.value)


def test_a_blogger_export_is_refused():
    message = refusal(BLOGGER)
    assert "not a WordPress export" in message and "Blogger" in message


def test_a_large_blogger_export_is_refused_without_being_read_to_its_end():
    entry = b"<entry><id>x</id><content type='html'>" + b"words " * 2000 + b"</content></entry>\n"
    data = BLOGGER.replace(b"</feed>", entry * 200 + b"</feed>")
    file = io.BytesIO(data)
    with pytest.raises(ImportFileError, match="Atom"):
        list(wordpress.read(file))
    assert file.tell() < len(data) // 4


def test_a_plain_rss_feed_is_refused():
    assert "wxr_version" in refusal(PLAIN_RSS)
    assert "wxr_version" in refusal(
        PLAIN_RSS.replace(b"<item>", b"<x>").replace(b"</item>", b"</x>")
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<wp:wxr_version>1.2</wp:wxr_version>", b"<wp:wxr_version>1.3</wp:wxr_version>"),
        (b"http://wordpress.org/export/1.2/", b"http://wordpress.org/export/2.0/"),
    ],
)
def test_an_unknown_wxr_version_is_refused(old, new):
    data = (FILES / "wordpress-1.2.xml").read_bytes().replace(old, new)
    message = refusal(data)
    assert "does not know" in message and "1.0, 1.1 and 1.2" in message


def test_a_truncated_export_is_refused():
    data = (FILES / "wordpress-1.2.xml").read_bytes()
    assert "ends before" in refusal(data[: len(data) // 2])


def test_not_xml_is_refused():
    assert refusal(b"PK\x03\x04 a zip file")


def test_a_dtd_with_entities_is_refused():
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<wp:wxr_version>1.2</wp:wxr_version><title>&b;</title></channel></rss>"""
    assert "entities or a document type" in refusal(laughs)


def test_an_external_entity_is_refused():
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&x;</title></channel></rss>"""
    assert "refused" in refusal(xxe)


def item_with(**fields: str) -> bytes:
    """The 1.1 file's first item with some of its fields replaced."""
    data = (FILES / "wordpress-1.1.xml").read_text()
    for old, new in fields.items():
        assert old in data
        data = data.replace(old, new, 1)
    return data.encode()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("<title>Snow day</title>", "<title>" + "t" * 201 + "</title>", "title"),
        ("<wp:post_name>snow-day<", "<wp:post_name>" + "s" * 121 + "<", "slug"),
        ("[CDATA[Sam]]", "[CDATA[" + "n" * 51 + "]]", "author's name"),
        (
            "<wp:comment_author_email>sam@example.com<",
            "<wp:comment_author_email>" + "e" * 243 + "@example.com<",
            "e-mail",
        ),
        (
            "<wp:comment_author_url>http://sam.example.com<",
            "<wp:comment_author_url>http://sam.example.com/" + "u" * 180 + "<",
            "URL",
        ),
        ("[CDATA[Lucky kids!]]", "[CDATA[" + "c" * 3001 + "]]", "text"),
        ('"winter"><![CDATA[Winter]]', '"winter"><![CDATA[' + "w" * 101 + "]]", "tag name"),
        ("[CDATA[The schools are closed.", "[CDATA[" + "b" * 4_000_001, "body"),
    ],
)
def test_oversized_fields_are_refused_naming_the_item_and_field(old, new, field):
    message = refusal(item_with(**{old: new}))
    assert field in message
    assert "item 1, line 29" in message
    assert "post 5" in message or "comment 31" in message


def test_an_address_too_long_to_keep_is_left_out():
    long_path = "/2012/01/10/" + "x" * 500 + "/"
    snow = read_bytes(item_with(**{"/2012/01/10/snow-day/": long_path}))[2]
    assert snow.old_addresses[0].path == "/blog/?p=5"
    assert snow.old_addresses[1].path == "/blog/category/news/"


def test_a_body_longer_than_a_million_characters_after_conversion_is_refused():
    message = refusal(item_with(**{"[CDATA[The schools are closed.": "[CDATA[" + "b" * 1_000_001}))
    assert "body is 1,000,0" in message and "post 5" in message


def test_a_date_that_is_not_one_is_refused():
    message = refusal(item_with(**{"2012-01-10 14:00:00": "yesterday"}))
    assert "post 5" in message and "wp:post_date_gmt" in message


def test_a_post_id_that_is_not_a_number_is_refused():
    assert "wp:post_id" in refusal(item_with(**{"<wp:post_id>5<": "<wp:post_id>5 OR 1=1<"}))


def test_the_reader_streams_the_file():
    """The first post is handed over long before the parser reaches the file's end."""
    data = (FILES / "wordpress-1.2.xml").read_bytes()
    big = data.replace(b"</channel>", b"<!--" + b" " * 1_000_000 + b"-->\n</channel>")
    file = io.BytesIO(big)
    stream = wordpress.read(file)
    first = next(r for r in stream if isinstance(r, SourcePost))
    assert first.position.item == 1
    assert file.tell() < len(big) // 2
