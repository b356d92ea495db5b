"""The export's HTML as the site's Markdown: what renders through blog.markup reads as
the HTML did, the April 2014 notes come off as SourceNotes, and hostile HTML neither
crashes the converter nor gets past the renderer."""

import html as htmllib
import re

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from blog.importing.convert import MAX_DEPTH, convert_body, unwrap_captions, wpautop
from blog.importing.records import SourceNote
from blog.markup import plain_text, render_markdown

BLOCKS = [
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
]


def visible(html: str) -> str:
    """The words a reader sees in ``html``, as blog.markup.plain_text folds them."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(["script", "style"]):
        tag.decompose()
    for tag in soup.find_all(BLOCKS):  # a line of its own: words either side do not touch
        tag.insert_before(" ")
        tag.insert_after(" ")
    return plain_text(htmllib.escape(soup.get_text(), quote=False))


def rendered_text(markdown_text: str) -> str:
    return visible(render_markdown(markdown_text))


BLOGGER = (
    '<div dir="ltr" style="text-align: left;" trbidi="on">'
    '<span style="font-family: &quot;Arial&quot;, sans-serif;">I&#8217;m not really surprised '
    'to hear, as reported in <a href="http://www.cypnow.co.uk/">Children and Young People '
    "Now</a>, that&nbsp;the Government is considering *outsourcing*.<br /><br />"
    "It fits with the ideological perspective_of_ our government.&nbsp;&nbsp; <br />"
    "A second line.<br /><br />"
    '<span style="font-weight: bold;">Bold words</span> and <i>italic</i>.</span>'
    '<div class="separator" style="clear: both; text-align: center;">'
    '<a href="//1.bp.blogspot.com/-x/s1600/photo.jpg" style="margin-left: 1em;">'
    '<img border="0" src="//1.bp.blogspot.com/-x/s320/photo.jpg" alt="A photo" /></a></div>'
    "</div>"
)

WORDPRESS = (
    "Passing child protection to the <strong>private</strong> sector\n"
    "is no guarantee.\n\n"
    "<h2>What next</h2>\n"
    "<ul>\n<li>one</li>\n<li>two\n<ol><li>nested</li></ol></li>\n</ul>\n"
    "<blockquote>Quoted words.\n\nMore quoted.</blockquote>\n\n"
    '[caption id="attachment_7" align="aligncenter" width="300"]<a href="/wp/big.jpg">'
    '<img src="/wp/small.jpg" alt="Hall" width="300" /></a> The hall in 2014[/caption]\n\n'
    "<pre>def f():\n\n    return 1</pre>\n"
    '[gallery ids="1,2"]\n\n'
    "Last words & thanks."
)


def test_blogger_lines_and_paragraphs():
    converted = convert_body(BLOGGER, base_url="https://example.blogspot.com/")
    assert converted.body == (
        "I’m not really surprised to hear, as reported in [Children and Young People Now]"
        "(http://www.cypnow.co.uk/), that\xa0the Government is considering \\*outsourcing\\*.\n\n"
        "It fits with the ideological perspective\\_of\\_ our government.\n"
        "A second line.\n\n"
        "**Bold words** and *italic*.\n"
        "[![A photo](https://1.bp.blogspot.com/-x/s320/photo.jpg)]"
        "(https://1.bp.blogspot.com/-x/s1600/photo.jpg)"
    )
    assert converted.images == ("https://1.bp.blogspot.com/-x/s320/photo.jpg",)
    rendered = render_markdown(converted.body)
    assert (
        "<p>It fits with the ideological perspective_of_ our government.<br>\nA second line.</p>"
        in rendered
    )
    assert rendered_text(converted.body) == visible(BLOGGER)


def test_wordpress_autop_and_captions():
    converted = convert_body(WORDPRESS, base_url="https://example.org/", autop=True)
    rendered = render_markdown(converted.body)
    assert (
        "<p>Passing child protection to the <strong>private</strong> sector<br>\n"
        "is no guarantee.</p>" in rendered
    )
    assert "<h2>What next</h2>" in rendered
    assert re.search(r"<li>two\s*<ol>\s*<li>nested</li>", rendered)
    assert "<blockquote>\n<p>Quoted words.</p>\n<p>More quoted.</p>\n</blockquote>" in rendered
    assert (
        '<img alt="Hall" src="https://example.org/wp/small.jpg"></a><br>\nThe hall in 2014'
        in rendered
    )
    assert "<pre><code>def f():\n\n    return 1\n</code></pre>" in rendered
    assert '<p>[gallery ids="1,2"]</p>' in rendered  # other shortcodes stay text
    assert converted.images == ("https://example.org/wp/small.jpg",)
    assert rendered_text(converted.body) == visible(wpautop(unwrap_captions(WORDPRESS)))


def test_wpautop_leaves_blocks_alone():
    assert wpautop("a\nb\n\n<ul>\n<li>x</li>\n</ul>\n\nc") == (
        "<p>a<br />\nb</p>\n<ul>\n<li>x</li>\n</ul>\n<p>c</p>"
    )
    assert wpautop("<pre>x\n\ny</pre>") == "<pre>x\n\ny</pre>"
    assert wpautop("  \n ") == ""


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<h1>Title</h1><h3>Sub</h3>", "## Title\n\n### Sub"),  # h1 is the page's own
        ("<ol start='3'><li>x</li><li>y</li></ol>", "3. x\n4. y"),
        ("<ul><li>a<ul><li>b</li></ul></li></ul>", "- a\n    - b"),
        ("<p>x<sup>2</sup> H<sub>2</sub>O <u>u</u></p>", "x<sup>2</sup> H<sub>2</sub>O u"),
        ("<p>England<sup>[2]</sup>.</p>", "England[2]."),
        ("<p><code>a*b</code></p>", "`a*b`"),
        ("<pre>a ``` b</pre>", "````\na ``` b\n````"),
        (
            "<p># no</p><p>1. no</p><p>- no</p><p>===</p>",
            "\\# no\n\n1\\. no\n\n\\- no\n\n&#61;&#61;&#61;",
        ),
        (
            "<p>&lt;script&gt;x&lt;/script&gt; &amp;copy; a &gt; b</p>",
            "&lt;script>x&lt;/script> &amp;copy; a > b",
        ),
        # Left as typed where Markdown reads it as text: the editor sees what was meant.
        (
            "<p>Fish &amp; chips, 2 &lt; 3 &amp;&amp; 5 &gt; 4</p><p>&gt; not a quote</p>",
            "Fish & chips, 2 < 3 && 5 > 4\n\n&gt; not a quote",
        ),
        (
            "<p>[a](http://x) [1] see [2](x) and [3]</p>",
            "\\[a\\](http://x) [1] see \\[2\\](x) and [3]",
        ),
        ("<p>10&nbsp;km&nbsp;&nbsp;&nbsp;away</p>", "10\xa0km away"),
        ("<p><a href='javascript:alert(1)'>js</a> <a href='#top'>top</a></p>", "js [top](#top)"),
        (
            "<table><tr><th>A</th><th>B|C</th></tr><tr><td>1</td><td>2</td></tr></table>",
            "| A | B\\|C |\n| --- | --- |\n| 1 | 2 |",
        ),
        ("<table><tr><td>1</td><td>2</td></tr></table>", "|  |  |\n| --- | --- |\n| 1 | 2 |"),
        (
            "<table style='x'><tr><td colspan='2'>wide</td></tr></table>",
            '<table><tr><td colspan="2">wide</td></tr></table>',
        ),
        (
            "<table><tr><td><p>a</p><p>b</p></td></tr></table>",
            "<table><tr><td><p>a</p><p>b</p></td></tr></table>",
        ),
        (
            '<iframe src="https://www.youtube.com/embed/x"></iframe>',
            "<https://www.youtube.com/embed/x>",
        ),
    ],
)
def test_markdown(html, markdown):
    assert convert_body(html).body == markdown


def test_text_that_looks_like_markdown_renders_as_itself():
    html = "<p># no</p><p>1. no</p><p>*a* _b_ `c` [d](e) &lt;i&gt; &amp;amp; \\ ===</p>"
    body = convert_body(html).body
    assert rendered_text(body) == visible(html)
    assert "<h1" not in render_markdown(body) and "<ol" not in render_markdown(body)


def test_relative_addresses_made_absolute():
    converted = convert_body(
        '<a href="/2014/04/x.html">x</a> <img src="pics/a.png">'
        '<img src="data:image/png;base64,AA">'
        '<img src="https://cdn.example/b c.png"><img src="pics/a.png">',
        base_url="https://old.example.com/blog/",
    )
    assert "[x](https://old.example.com/2014/04/x.html)" in converted.body
    assert converted.images == (
        "https://old.example.com/blog/pics/a.png",
        "https://cdn.example/b%20c.png",
    )
    assert "data:" not in converted.body


APRIL = (
    "<p>Trainees [1]. There are 3,800 vacancies in England [2].</p>"
    "<p>It is about changing the culture. [3] in the middle stays.</p>"
    "<p>[1] The Views of Step Up to Social Work Trainees - Cohort 1 and Cohort 2 Research report"
    " April 2014 by Dr Mary Baginsky and Professor Jill Manthorpe, Social Care Workforce Research"
    " Unit, King’s College, London </p>"
    '<p>[2] <a href="https://www.gov.uk/stats">Children’s social work workforce</a>, DfE</p>'
)


def test_april_2014_notes():
    converted = convert_body(APRIL)
    assert converted.body == (
        "Trainees [1]. There are 3,800 vacancies in England [2].\n\n"
        "It is about changing the culture. [3] in the middle stays."
    )
    assert converted.notes == (
        SourceNote(
            1,
            "The Views of Step Up to Social Work Trainees - Cohort 1 and Cohort 2 Research report"
            " April 2014 by Dr Mary Baginsky and Professor Jill Manthorpe, Social Care Workforce"
            " Research Unit, King’s College, London",
        ),
        SourceNote(2, "Children’s social work workforce, DfE", "https://www.gov.uk/stats"),
    )
    rendered = render_markdown(converted.body, [1, 2])
    assert 'href="#ref-1"' in rendered and 'href="#ref-2"' in rendered


def test_notes_as_lines_under_a_heading():
    converted = convert_body(
        "Text [1] [2].<br><br><b>Notes</b><br><br>[1] First <a href='http://a'>a</a> "
        "<a href='http://b'>b</a><br>[2] Second<br>continued"
    )
    assert converted.body == "Text [1] [2]."
    assert converted.notes == (SourceNote(1, "First a b"), SourceNote(2, "Second continued"))


@pytest.mark.parametrize(
    "html",
    [
        "<p>Text.</p><p>[1] one</p><p>[1] again</p>",  # not unique
        "<p>Text.</p><p>[0] zero</p>",  # not 1..999
        "<p>[1] a note-like line</p><p>then more text</p>",  # not at the end
    ],
)
def test_no_notes_leaves_the_text(html):
    converted = convert_body(html)
    assert converted.notes == ()
    assert rendered_text(converted.body) == visible(html)


HOSTILE = [
    "<div>" * 10_000 + "deep" + "</div>" * 10_000,
    "<b><i><ul><li><blockquote>" * 2_000 + "x",
    '<a href="http://x/' + "a" * 1_000_000 + '" title="' + "t" * 1_000_000 + '">t</a>',
    "<script>alert('secret')</script><style>body{x:y}</style><noscript>ns</noscript>",
    "<!-- comment --><![CDATA[cdata]]><?php echo 1 ?><!DOCTYPE html>",
    '<a href="javascript:alert(1)">a</a><a href=" JaVa&#x09;Script:alert(1)">b</a>',
    '<img src="x" onerror="alert(1)"><a href="http://x" onclick="alert(1)">c</a>',
    '<table><tr><td colspan="2"><script>alert(1)</script>'
    '<a href="javascript:x">d</a></td></tr></table>',
    "<svg><script>alert(1)</script></svg><iframe src='javascript:alert(1)'></iframe>",
]


@pytest.mark.parametrize("html", HOSTILE)
@pytest.mark.parametrize("autop", [False, True])
def test_hostile_html(html, autop):
    converted = convert_body(html, autop=autop)
    rendered = render_markdown(converted.body)
    for bad in (
        "<script",
        "alert(",
        "javascript:",
        "onerror",
        "onclick",
        "secret",
        "cdata",
        "comment",
        "<iframe",
    ):
        assert bad not in rendered.lower()


def test_depth_is_bounded():
    html = (
        "<blockquote>" * (MAX_DEPTH + 50) + "<b>deep</b> words" + "</blockquote>" * (MAX_DEPTH + 50)
    )
    body = convert_body(html).body
    assert "deep words" in body and body.count(">") < MAX_DEPTH + 5


words = st.text(alphabet="abc *_#[]1.-<>&\\`=", min_size=1, max_size=12)
inline = st.one_of(
    words.map(htmllib.escape),
    words.map(lambda w: f"<b>{htmllib.escape(w)}</b>"),
    words.map(lambda w: f"<em>{htmllib.escape(w)}</em>"),
    st.just("<br>"),
)
paragraphs = st.lists(st.lists(inline, min_size=1, max_size=5).map("".join), min_size=1, max_size=4)


# Deterministic, as tests/test_properties.py: the same examples on every run.
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(paragraphs)
def test_visible_text_survives(paragraphs):
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    assert rendered_text(convert_body(html).body) == visible(html)
