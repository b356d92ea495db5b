import pytest

from blog.markup import plain_text, render_markdown

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<iframe src="https://example.org"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div onmouseover="alert(1)">hover</div>',
    "<object data='x.swf'></object><embed src='x.swf'>",
    '<form action="/"><input name="x"><button>go</button></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style>"
    "</mglyph></table></mtext></math>",
    '<a href=" javascript:alert(1)">spaced</a>',
    "<base href='https://evil.example/'>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_dangerous_markup_never_survives(payload):
    html = render_markdown(payload).lower()
    for bad in (
        "<script", "javascript:", "data:", "onerror", "onload", "onmouseover", "<iframe",
        "<svg", "<object", "<embed", "<form", "<input", "<style", "style=", "<base",
        "<meta", "<link",
    ):  # fmt: skip
        assert bad not in html, (payload, html)


def test_ordinary_markdown_is_kept():
    html = render_markdown("Some *emphasis*, **strong**, a [link](https://example.org/a?b=1).")
    assert "<em>emphasis</em>" in html
    assert "<strong>strong</strong>" in html
    assert '<a href="https://example.org/a?b=1" rel="noopener">link</a>' in html


def test_block_quotes_and_line_breaks():
    html = render_markdown("> Dear (County Council),\n> Please tell me\n\nOne line\nnext line")
    assert "<blockquote>\n<p>Dear (County Council),<br>\nPlease tell me</p>\n</blockquote>" in html
    assert "<p>One line<br>\nnext line</p>" in html


def test_typography_is_untouched():
    text = "I’m naïve – “quoted” ‘single’ … etc. etc.!!"
    assert render_markdown(text) == f"<p>{text}</p>"


def test_citation_with_a_reference_becomes_a_superscript_link_named_for_screen_readers():
    html = render_markdown("Senge [1] on the RSA [2] website.", citations=[1, 2])
    for n in (1, 2):
        assert (
            f'<sup><a aria-label="Reference {n}" class="cite" href="#ref-{n}" id="cite-{n}" '
            f'rel="noopener">[{n}]</a></sup>'
        ) in html


def test_writers_cannot_label_their_own_links():
    # The sanitiser lets through the accessible name the markers carry, and only it.
    html = render_markdown(
        '<a href="#x" aria-label="Click here to win">x</a> '
        '<a href="#y" aria-label="Reference 7">y</a> <sup aria-label="Reference 1">z</sup>'
    )
    assert "Click here" not in html
    assert '<a href="#y" aria-label="Reference 7" rel="noopener">y</a>' in html
    assert "<sup>z</sup>" in html


def test_plain_text_leaves_citation_markers_out():
    html = render_markdown("Senge [1] on the RSA [2]. Trainees [3], then `list[1]`.", [1, 2])
    assert plain_text(html) == "Senge on the RSA. Trainees, then list[1]."
    # Bodies rendered before the markers were superscript read the same.
    old = '<p>Senge <a class="cite" href="#ref-1" id="cite-1" rel="noopener">[1]</a> said.</p>'
    assert plain_text(old) == "Senge said."


def test_citation_without_a_reference_stays_plain_text():
    html = render_markdown("Trainees [1] and vacancies [2].", citations=[1])
    assert 'href="#ref-1"' in html
    assert "vacancies [2]." in html
    assert "#ref-2" not in html


def test_repeated_citation_links_every_time_but_ids_stay_unique():
    html = render_markdown("First [1], again [1].", citations=[1])
    assert html.count('href="#ref-1"') == 2
    assert html.count('id="cite-1"') == 1


def test_citations_in_code_and_escaped_markers_are_left_alone():
    html = render_markdown("`list[1]` and \\[1] stay.", citations=[1])
    assert "#ref-1" not in html
    assert "<code>list[1]</code>" in html


def test_markdown_reference_links_win_over_citations():
    html = render_markdown("See [the report][1].\n\n[1]: https://example.org/r", citations=[1])
    assert '<a href="https://example.org/r" rel="noopener">the report</a>' in html
    assert "#ref-1" not in html


def test_writers_cannot_forge_ids():
    html = render_markdown('<a id="references" href="#x">x</a> <h2 id="main">t</h2>')
    assert 'id="references"' not in html
    assert 'id="main"' not in html


def test_empty_body():
    assert render_markdown("") == ""
