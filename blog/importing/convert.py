"""An export's HTML as the site's Markdown.

``convert_body(html, base_url=..., autop=...)`` returns the body in Markdown, the
numbered notes taken off its end, and the remote images it shows.

The converter is markdownify (maintained, BeautifulSoup-based, one method per tag,
so the site's dialect is a subclass rather than a fork), tuned for what renders it:
Python-Markdown with nl2br, sane_lists, fenced_code and tables, then nh3
(``blog.markup.render_markdown``). So:

- a newline is a line break (nl2br): ``<br>`` becomes a bare newline, ``<br><br>`` a
  paragraph break, and the HTML's own newlines (which a browser shows as spaces)
  become spaces;
- nested lists are indented by four spaces, Python-Markdown's tab length;
- text is escaped for Python-Markdown, which has no ``\\<`` or ``\\&``: those become
  entities. ``[N]`` markers are left bare, since the site links them to references;
- what Markdown cannot say stays HTML for nh3 to judge: ``<sup>``, ``<sub>``, and
  tables that cannot be pipe tables. Scripts, styles, comments and CDATA are dropped
  with their content here (they never reach the body at all);
- the tree is flattened below ``MAX_DEPTH`` levels: markdownify recurses once per
  level, and no real post is nested that deep.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import markdown
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction
from markdownify import MarkdownConverter
from markdownify import should_remove_whitespace_inside as inside
from markdownify import should_remove_whitespace_outside as outside

from .records import SourceNote


@dataclass(frozen=True)
class Converted:
    body: str  # Markdown
    notes: tuple[SourceNote, ...] = ()  # the trailing "[1] …" notes, taken off the body
    images: tuple[str, ...] = ()  # absolute URLs of the images the body shows


# markdownify recurses about three Python frames per element level: 100 levels stay well
# inside the interpreter's limit of 1000 wherever the converter is called from.
MAX_DEPTH = 100
# Elements whose content is not text for readers: dropped whole, before conversion.
DROPPED = ("script", "style", "noscript", "template", "head", "title", "meta", "link")
# Kinds of node that are never text: comments, <![CDATA[…]]>, <?…?>, <!DOCTYPE …>.
NOT_TEXT = (Comment, CData, ProcessingInstruction, Declaration, Doctype)
LINK_SCHEMES = {"http", "https", "mailto"}
IMAGE_SCHEMES = {"http", "https"}
# A table cell with one of these cannot be a pipe-table cell (one line of inline text).
BLOCK_IN_CELL = ("p", "div", "ul", "ol", "li", "pre", "blockquote", "table", "br", "hr", "dl")
BLOCK_IN_CELL += tuple(f"h{n}" for n in range(1, 7))
# Attributes kept on elements that stay HTML (tables); nh3 narrows them further.
KEPT_ATTRIBUTES = {"href", "src", "alt", "title", "colspan", "rowspan", "start"}
REFERENCE_URL_MAX = 500  # Reference.url's max_length

# A marker the site links to reference N ("[2]"), unless it opens a Markdown link.
MARKER = re.compile(r"\[\d{1,3}\](?![(\[:])")
# What Python-Markdown would read as an entity, a tag or a block quote, not as text.
LOOKS_LIKE_ENTITY = re.compile(r"&(?=[#A-Za-z])")  # browsers take "&copy" and "&#1" too
LOOKS_LIKE_TAG = re.compile(r"<(?=[A-Za-z/!?])")
LINE_QUOTE = re.compile(r"^([ \t]*)>", re.MULTILINE)
BRACKET = re.compile(r"[\[\]]")
# Text that Markdown would read as block syntax where a line starts (over-escaping in
# mid-line is harmless: "\#" and "1\." render as "#" and "1.").
LINE_HASHES = re.compile(r"(\s|^)(#)")  # Python-Markdown's "#1" is a heading
LINE_DASHES = re.compile(r"(\s|^)([-+]+(?:\s|$))")
LINE_EQUALS = re.compile(r"(\s|^)(=+)(?=\s|$)")
LINE_NUMBER = re.compile(r"((?:\s|^)\d{1,9})(\.(?:\s|$))")
NBSP_BETWEEN_WORDS = re.compile(r"(?<=\S)\xa0(?=\S)")
SPACES = re.compile(r"\s+")  # \s includes the no-break space
MANY_BLANK_LINES = re.compile(r"\n{3,}")
BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.IGNORECASE)
ITALIC_STYLE = re.compile(r"font-style\s*:\s*italic", re.IGNORECASE)
URL_JUNK = re.compile(r"[\x00-\x20\x7f]")  # browsers ignore these in a URL's scheme

NOTE_LINE = re.compile(r"^\s*\[(\d{1,3})\]\s+(\S.*)$")
NOTES_HEADING = re.compile(
    r"^(?:#{1,6}\s*|\*\*)?(?:notes?|references?|sources?|footnotes?)\s*:?(?:\*\*)?\s*:?$",
    re.IGNORECASE,
)
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def convert_body(html: str, *, base_url: str = "", autop: bool = False) -> Converted:
    """``html`` as Markdown. ``autop``: the text is WordPress's, whose paragraphs are
    blank lines rather than <p> elements (its wpautop makes them at display time).
    ``base_url``: the old blog's address, against which relative links are made
    absolute."""
    if autop:
        html = wpautop(unwrap_captions(html))
    soup = BeautifulSoup(html or "", "html.parser")
    _clean_tree(soup, base_url)
    images = _images(soup)
    body = _BodyConverter().convert_soup(soup)
    body = _tidy(body)
    body, notes = take_notes(body)
    return Converted(body=body, notes=notes, images=images)


# -- The tree, before conversion ---------------------------------------------------------


def _clean_tree(soup: BeautifulSoup, base_url: str) -> None:
    """Drop what is not text, bound the depth, make addresses absolute and safe."""
    for node in list(soup.descendants):
        if isinstance(node, NOT_TEXT):
            node.extract()
    for tag in soup.find_all(DROPPED):
        tag.decompose()
    _flatten(soup)
    _merge_neighbours(soup)
    for table in soup.find_all("table", class_="tr-caption-container"):
        # Blogger's image with its caption: the image, then the caption on its line.
        for part in table.find_all(["tbody", "thead", "tfoot", "tr"]):
            part.unwrap()
        for cell in table.find_all(["td", "th"]):
            cell.name = "div"
        table.name = "div"
    for tag in soup.find_all(["a", "img", "iframe", "embed", "source", "video"]):
        for attribute in ("href", "src"):
            if tag.has_attr(attribute):
                tag[attribute] = absolute_url(str(tag[attribute]), base_url)


def _flatten(soup: BeautifulSoup) -> None:
    """Below MAX_DEPTH levels, keep only the text: each element at the limit gets its
    subtree's strings, in order, in place of the subtree (its images, links and line
    breaks go). BeautifulSoup builds and walks the tree without recursion; markdownify
    does not."""
    depth: dict[int, int] = {id(soup): 0}
    at_limit = []
    for node in soup.descendants:  # a generator over next_element: no recursion
        if isinstance(node, Tag):
            level = depth.get(id(node.parent), MAX_DEPTH) + 1
            depth[id(node)] = level
            if level == MAX_DEPTH and node.contents:
                at_limit.append(node)
    for tag in at_limit:
        if tag.find(True) is None:
            continue  # text only already
        text = "".join(str(s) for s in tag.descendants if isinstance(s, NavigableString))
        for child in list(tag.contents):
            child.extract()
        tag.append(NavigableString(text))


SAME_MARK = {"b": "strong", "strong": "strong", "i": "em", "em": "em"}


def _merge_neighbours(soup: BeautifulSoup) -> None:
    """``<em>a</em><i>b</i>`` as one ``<em>ab</em>``: written side by side, Markdown's
    "*a**b*" would read as strong."""
    for tag in soup.find_all(list(SAME_MARK)):
        if tag.parent is None:
            continue  # merged into its neighbour already
        tag.name = SAME_MARK[tag.name]
        while isinstance(after := tag.next_sibling, Tag) and SAME_MARK.get(after.name) == tag.name:
            for child in list(after.contents):
                tag.append(child.extract())
            after.decompose()


def absolute_url(url: str, base_url: str) -> str:
    """``url`` made absolute against ``base_url`` (a fragment alone stays a fragment:
    it names a place in the post itself); "" when its scheme is not one a reader's link
    may have (``javascript:``, ``data:``…)."""
    url = url.strip()
    if url.startswith("#"):
        return url
    if base_url:
        url = urljoin(base_url, url)
    elif url.startswith("//"):
        url = "https:" + url  # Blogger's protocol-relative images
    scheme = urlsplit(URL_JUNK.sub("", url)).scheme.lower() if ":" in url else ""
    if scheme and scheme not in LINK_SCHEMES:
        return ""
    # A Markdown link destination ends at a space and counts parentheses: encode them.
    return quote(url, safe=":/?#[]@!$&'*+,;=%~")


def _images(soup: BeautifulSoup) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for img in soup.find_all("img"):
        src = str(img.get("src") or "")
        if urlsplit(src).scheme.lower() in IMAGE_SCHEMES:
            seen.setdefault(src, None)
    return tuple(seen)


# -- Conversion ---------------------------------------------------------------------------


def escape_text(text: str) -> str:
    """Text that must read as itself in Python-Markdown. Its escapable characters do
    not include ``<`` and ``&``, so those become entities, but only where Markdown would
    read them otherwise (an entity, a tag, a block quote): "Fish & chips" stays as
    typed, for the editor who opens the post."""
    text = text.replace("\\", "\\\\")
    text = LOOKS_LIKE_ENTITY.sub("&amp;", text)
    text = LOOKS_LIKE_TAG.sub("&lt;", text)
    text = LINE_QUOTE.sub(r"\1&gt;", text)
    for char in "*_`":
        text = text.replace(char, "\\" + char)
    # Brackets could make links; a marker "[2]" stays bare for the site's citations.
    pieces = []
    last = 0
    for match in MARKER.finditer(text):
        pieces.append(BRACKET.sub(r"\\\g<0>", text[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(BRACKET.sub(r"\\\g<0>", text[last:]))
    text = "".join(pieces)
    text = LINE_HASHES.sub(r"\1\\\2", text)
    text = LINE_DASHES.sub(r"\1\\\2", text)
    text = LINE_EQUALS.sub(lambda m: m.group(1) + "&#61;" * len(m.group(2)), text)
    return LINE_NUMBER.sub(r"\1\\\2", text)


def _escape_attribute_text(text: str) -> str:
    """Alt text and titles, inside ``![…]`` and ``"…"``."""
    text = SPACES.sub(" ", text).strip()
    return BRACKET.sub(r"\\\g<0>", text.replace("\\", "\\\\"))


class _BodyConverter(MarkdownConverter):
    """markdownify, for Python-Markdown with nl2br and the site's sanitiser."""

    class Options(MarkdownConverter.DefaultOptions):
        heading_style = "atx"
        bullets = "-"
        sup_symbol = "<sup>"
        sub_symbol = "<sub>"
        keep_inline_images_in = ["td", "th"]
        escape_misc = False  # escape_text does it, leaving [N] markers bare

    # markdownify drops an emphasis that holds only white space, and the space with
    # it ("1<b> </b>1" read "11"): a styled space is still a space between words.
    def _space_kept(convert):  # applied in the class body, on its functions
        def converted(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            if text and not text.strip():
                return " "
            return convert(self, el, text, parent_tags)

        return converted

    convert_b = _space_kept(MarkdownConverter.convert_b)
    convert_strong = _space_kept(MarkdownConverter.convert_strong)
    convert_em = _space_kept(MarkdownConverter.convert_em)
    convert_i = _space_kept(MarkdownConverter.convert_i)
    convert_del = _space_kept(MarkdownConverter.convert_del)
    convert_s = _space_kept(MarkdownConverter.convert_s)
    del _space_kept

    def __init__(self) -> None:
        super().__init__()
        self._first_rows: dict[int, Tag | None] = {}
        self._numbers: dict[int, dict[int, int]] = {}

    def process_text(self, el: NavigableString, parent_tags: set[str] | None = None) -> str:
        # markdownify's own, but: every run of white space is one space (a newline in
        # HTML is a space; nl2br would make it a line break), and no-break spaces are
        # plain spaces except a single one between two words ("10&nbsp;km").
        parent_tags = parent_tags or set()
        text = str(el)
        if "pre" not in parent_tags:
            text = NBSP_BETWEEN_WORDS.sub("\x00", text)
            text = SPACES.sub(" ", text).replace("\x00", "\xa0")
        if "_noformat" not in parent_tags:
            text = escape_text(text)
        # No space at a line's start or end: after or before a block or a <br>.
        before, after = el.previous_sibling, el.next_sibling
        if outside(before) or _is_br(before) or (inside(el.parent) and not before):
            text = text.lstrip(" ")
        if outside(after) or _is_br(after) or (inside(el.parent) and not after):
            text = text.rstrip(" ")
        return text

    def convert_br(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return " " if "_inline" in parent_tags else "\n"

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if not el.get("href"):  # no address, or one refused by absolute_url
            return text
        title = el.get("title")
        if title:
            el["title"] = _escape_attribute_text(str(title))
        return super().convert_a(el, text, parent_tags)

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        alt = _escape_attribute_text(str(el.get("alt") or ""))
        src = str(el.get("src") or "")
        if not src:
            return escape_text(alt)
        title = _escape_attribute_text(str(el.get("title") or ""))
        quoted = title.replace('"', '\\"')
        title_part = f' "{quoted}"' if title else ""
        return f"![{alt}]({src}{title_part})"

    def convert_iframe(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        # An embedded video or map: nh3 would remove the frame, so readers get a link to
        # what it showed instead of nothing.
        src = str(el.get("src") or "")
        if urlsplit(src).scheme in IMAGE_SCHEMES:
            return f"\n\n<{src}>\n\n"
        return ""

    convert_embed = convert_iframe

    def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:
        # The post's title is the page's one <h1>, and nh3 allows h2-h6 only.
        return super().convert_hN(max(2, n), el, text, parent_tags)

    def convert_span(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        # Blogger's editor writes bold and italic as styled spans.
        style = str(el.get("style") or "")
        if ITALIC_STYLE.search(style):
            text = self.convert_em(el, text, parent_tags)
        if BOLD_STYLE.search(style):
            text = self.convert_strong(el, text, parent_tags)
        return text

    def convert_sup(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        # "<sup>[2]</sup>": the site makes a marker superscript itself.
        if MARKER.fullmatch(text.strip()):
            return text
        return super().convert_sup(el, text, parent_tags)

    def convert_u(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return text  # underline reads as a link; nh3 would drop <u> anyway

    def convert_div(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        # Blogger's newer editor writes one <div> per line and <div><br></div> for a
        # blank line: a div of inline content is a line, not a paragraph.
        if "_inline" in parent_tags:
            return " " + text.strip() + " "
        text = text.strip()
        if not text:
            return "\n\n" if el.find("br") else ""
        if any(isinstance(c, Tag) and c.name in BLOCK_IN_CELL for c in el.children):
            return f"\n\n{text}\n\n"
        return f"\n{text}\n"

    def convert_li(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        # Python-Markdown nests by four spaces, whatever the marker's width.
        text = (text or "").strip()
        if not text:
            return "\n"
        parent = el.parent
        if parent is not None and parent.name == "ol":
            bullet = f"{self._item_number(parent, el)}."
        else:
            bullet = "-"
        lines = text.split("\n")
        rest = ["    " + line if line else "" for line in lines[1:]]
        return "\n".join([f"{bullet} {lines[0]}", *rest]) + "\n"

    def _item_number(self, ol: Tag, li: Tag) -> int:
        # Counted once per list (markdownify counts the item's previous siblings for
        # every item: quadratic in a long list).
        if id(ol) not in self._numbers:
            start = str(ol.get("start") or "1").strip()
            first = int(start) if start.isdigit() and len(start) < 7 else 1
            items = ol.find_all("li", recursive=False)
            self._numbers[id(ol)] = {id(item): first + i for i, item in enumerate(items)}
        return self._numbers[id(ol)].get(id(li), 1)

    def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if not text.strip("\n"):
            return ""
        text = text.strip("\n")
        if parent_tags & {"li", "blockquote"}:
            # fenced_code reads fences at the document's top level only.
            return "\n\n" + "\n".join("    " + line for line in text.split("\n")) + "\n\n"
        longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
        fence = "`" * (longest + 1)
        return f"\n\n{fence}\n{text}\n{fence}\n\n"

    def convert_td(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return " " + text.strip().replace("\n", " ").replace("|", "\\|") + " |"

    convert_th = convert_td

    def convert_tr(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        # markdownify's own searches the whole table for every row (quadratic in a
        # hostile table's size); a row here only asks whether it is its table's first.
        table = el.find_parent("table")
        key = id(table)
        if key not in self._first_rows:
            self._first_rows[key] = table.find("tr") if table is not None else None
        if el is not self._first_rows[key]:
            return "|" + text + "\n"
        cells = el.find_all(["td", "th"], recursive=False)
        rule = "| " + " | ".join(["---"] * len(cells)) + " |\n"
        if el.parent.name == "thead" or all(cell.name == "th" for cell in cells):
            return "|" + text + "\n" + rule
        return "| " + " | ".join([""] * len(cells)) + " |\n" + rule + "|" + text + "\n"

    def convert_table(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if _pipe_table_fits(el):
            return "\n\n" + text.strip() + "\n\n"
        return "\n\n" + _as_html(el) + "\n\n"


def _is_br(node: object) -> bool:
    return isinstance(node, Tag) and node.name == "br"


def _pipe_table_fits(table: Tag) -> bool:
    """Whether a pipe table says what ``table`` does: rows of single-line cells."""
    rows = table.find_all("tr")
    if not rows or any(r.find_parent("table") is not table for r in rows):
        return False
    for cell in table.find_all(["td", "th"]):
        if cell.find(BLOCK_IN_CELL):
            return False
        for span in ("colspan", "rowspan"):
            if str(cell.get(span, "1")).strip() not in ("", "1"):
                return False
    widths = {len(r.find_all(["td", "th"], recursive=False)) for r in rows}
    return len(widths) == 1 and 0 not in widths


def _as_html(el: Tag) -> str:
    """An element kept as HTML (a table a pipe table cannot be), on one line so that
    Python-Markdown takes it as one raw block, with only the attributes worth keeping
    (huge styles and classes go)."""
    for tag in [el, *el.find_all(True)]:
        tag.attrs = {k: v for k, v in tag.attrs.items() if k in KEPT_ATTRIBUTES}
    return SPACES.sub(" ", str(el))


def _tidy(body: str) -> str:
    """Trailing spaces off every line outside code (nl2br needs no hard-break spaces),
    and no more than one blank line in a row."""
    out = []
    fence = ""
    for line in body.split("\n"):
        match = FENCE.match(line)
        if fence:
            if match and match.group(1) == fence:
                fence = ""
            out.append(line)
            continue
        if match:
            fence = match.group(1)
        out.append(line.rstrip(" \t"))
    return MANY_BLANK_LINES.sub("\n\n", "\n".join(out)).strip("\n")


# -- Notes --------------------------------------------------------------------------------


def take_notes(body: str) -> tuple[str, tuple[SourceNote, ...]]:
    """The trailing run of "[1] …" paragraphs or lines taken off ``body`` as notes (and
    a "Notes"/"References" heading just above them). Only the end counts: a "[3]" in the
    text stays. Numbers must be 1-999 and unique, or the text is left as it was."""
    blocks = body.split("\n\n")
    found: list[list[str]] = []  # notes, last block first; each its lines
    while blocks:
        lines = blocks[-1].split("\n")
        if not NOTE_LINE.match(lines[0]):
            break
        notes: list[list[str]] = []
        for line in lines:
            if NOTE_LINE.match(line):
                notes.append([line])
            else:
                notes[-1].append(line)  # a note continued on the next line
        found[:0] = notes
        blocks.pop()
    if not found:
        return body, ()
    result = []
    for lines in found:
        match = NOTE_LINE.match(lines[0])
        if match is None:  # every note starts with its line, as gathered above
            return body, ()
        number = int(match.group(1))
        citation, url = _note_text("\n".join([match.group(2), *lines[1:]]))
        result.append(SourceNote(number=number, citation=citation, url=url))
    numbers = [note.number for note in result]
    if len(set(numbers)) != len(numbers) or not all(1 <= n <= 999 for n in numbers):
        return body, ()
    if blocks and NOTES_HEADING.match(blocks[-1].strip()):
        blocks.pop()
    return "\n\n".join(blocks).strip("\n"), tuple(result)


def _note_text(markdown_text: str) -> tuple[str, str]:
    """A note's citation as plain text and its one link (if it has exactly one)."""
    rendered = markdown.markdown(markdown_text)
    soup = BeautifulSoup(rendered, "html.parser")
    citation = " ".join(soup.get_text().split())
    links = {str(a.get("href")) for a in soup.find_all("a") if a.get("href")}
    url = links.pop() if len(links) == 1 else ""
    if urlsplit(url).scheme not in IMAGE_SCHEMES or len(url) > REFERENCE_URL_MAX:
        url = ""
    return citation, url


# -- WordPress ----------------------------------------------------------------------------

CAPTION_OPEN = "[caption"
CAPTION_CLOSE = "[/caption]"
CAPTION_ATTRIBUTE = re.compile(r"""\bcaption=(?:"([^"]*)"|'([^']*)')""")
IMAGE_AT_START = re.compile(r"^\s*(?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?", re.IGNORECASE)


def unwrap_captions(text: str) -> str:
    """``[caption …]<img …> Text[/caption]`` as the image, then its caption on the next
    line (also the older ``caption="Text"`` attribute). Other shortcodes stay as text.
    Found with str.find, linear in the text whatever it holds."""
    out = []
    position = 0
    while True:
        close = text.find(CAPTION_CLOSE, position)
        if close < 0:
            break
        opening = text.rfind(CAPTION_OPEN, position, close)
        end = text.find("]", opening) if opening >= 0 else -1
        if opening < 0 or end < 0 or end > close:
            out.append(text[position : close + len(CAPTION_CLOSE)])
            position = close + len(CAPTION_CLOSE)
            continue
        inner = text[end + 1 : close].strip()
        attribute = CAPTION_ATTRIBUTE.search(text[opening:end])
        image = IMAGE_AT_START.match(inner)
        if image:
            caption = inner[image.end() :].strip()
            if attribute and not caption:
                said = attribute.group(1) or attribute.group(2) or ""
                caption = htmllib.escape(htmllib.unescape(said))
            inner = image.group(0).strip() + ("\n" + caption if caption else "")
        out.append(text[position:opening] + "\n\n" + inner + "\n\n")
        position = close + len(CAPTION_CLOSE)
    out.append(text[position:])
    return "".join(out)


# The block elements wpautop keeps paragraphs out of (its $allblocks, less form fields).
AUTOP_BLOCKS = (
    r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre"
    r"|form|map|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section"
    r"|article|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary)"
)
OPEN_BLOCK = re.compile(rf"(<{AUTOP_BLOCKS}[\s/>])", re.IGNORECASE)
CLOSE_BLOCK = re.compile(rf"(</{AUTOP_BLOCKS}>)", re.IGNORECASE)
ONLY_BLOCK_TAG = re.compile(rf"^(</?{AUTOP_BLOCKS}[^>]*>)$", re.IGNORECASE)
PROTECTED_OPENING = re.compile(r"<(pre|script|style)\b", re.IGNORECASE)
TAG_TEXT = re.compile(r"<[^<>]*>")
QUOTE_OPENING = re.compile(r"(<blockquote\b[^>]*>)(?=[^<\s])", re.IGNORECASE)
DOUBLE_BR = re.compile(r"<br\s*/?>\s*<br\s*/?>", re.IGNORECASE)


def wpautop(text: str) -> str:
    """The essential of WordPress's wpautop: blank-line-separated runs of text become
    <p> paragraphs, single newlines inside them <br>, and nothing is wrapped around or
    inside block elements (lists, quotes, tables, headings) or inside <pre>.

    Left out of WordPress's version: its special cases for <object>/<embed>/<option>
    and form fields, the rules that move <p> around a block tag that opens or closes a
    paragraph's line ("<p><div>" fix-ups; here a block tag always stands between
    paragraphs), shortcode_unautop, and <!-- more --> handling. The result is parsed
    by BeautifulSoup, which settles any unbalanced tags."""
    if not text.strip():
        return ""
    kept: list[str] = []
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    text = _protect(text, kept)
    # Newlines inside a tag (between attributes) are not line breaks.
    text = TAG_TEXT.sub(lambda m: m.group(0).replace("\n", " "), text)
    text = re.sub(r"[ \t]+", " ", text)  # also keeps the patterns below linear
    text = DOUBLE_BR.sub("\n\n", text)
    text = OPEN_BLOCK.sub(r"\n\n\1", text)
    text = CLOSE_BLOCK.sub(r"\1\n\n", text)
    out = []
    for chunk in re.split(r"\n ?\n", text):
        chunk = chunk.strip()
        if not chunk:
            continue
        if ONLY_BLOCK_TAG.match(chunk) or chunk.startswith("\x00"):
            out.append(chunk)
            continue
        # A block's opening tag may begin the chunk ("<li>text"): no <p> then, but the
        # text's line breaks still count.
        lines = "<br />\n".join(line.strip() for line in chunk.split("\n"))
        # A quote's text is paragraphs inside it, as WordPress moves them.
        if opening := QUOTE_OPENING.match(lines):
            out.append(f"{opening.group(1)}<p>{lines[opening.end() :]}</p>")
        elif lines.lower().endswith("</blockquote>") and not OPEN_BLOCK.match(chunk):
            out.append(f"<p>{lines[: -len('</blockquote>')]}</p></blockquote>")
        else:
            out.append(lines if OPEN_BLOCK.match(chunk) else f"<p>{lines}</p>")
    text = "\n".join(out)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)


def _protect(text: str, kept: list[str]) -> str:
    """<pre>, <script> and <style> elements out of wpautop's way, each replaced by a
    placeholder (its number in ``kept``). With str.find: linear, closed or not."""
    out = []
    position = 0
    lower = text.lower()
    while match := PROTECTED_OPENING.search(text, position):
        close = lower.find(f"</{match.group(1).lower()}", match.end())
        end = lower.find(">", close) + 1 if close >= 0 else 0
        end = end or len(text)  # unclosed: to the end
        out.append(text[position : match.start()])
        kept.append(text[match.start() : end])
        out.append(f"\n\n\x00{len(kept) - 1}\x00\n\n")
        position = end
    out.append(text[position:])
    return "".join(out)
