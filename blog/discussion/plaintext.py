"""What readers write, made safe to put in a plain-text e-mail the site sends.

A line break in a reader's words would let them write lines that read as the site's
own (a forged "Approve it:" link above the real one). Names and addresses may carry no
control character at all (the form refuses them, forms.refuse_control_characters); a
comment's text has its line breaks, so the moderators' e-mail gives it after the site's
own lines, every line of it quoted.
"""

from __future__ import annotations

import unicodedata

# Unicode's control characters (Cc: C0, DEL, C1, including CR, LF, NEL), and the line
# and paragraph separators (Zl, Zp), which some mail clients break lines at.
CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# The bidirectional embeddings, overrides and isolates: they reorder the text after them
# (a name could make the line it is on read backwards, "Trojan Source"). The marks
# (U+200E, U+200F, U+061C) only set the direction of neutral characters around them and
# end with nothing left open, and the joiners (U+200C, U+200D) are needed to spell
# names in Persian and the Indic scripts: those are allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def control_characters(value: str) -> list[str]:
    """The control characters in ``value`` that no name or address may carry, each
    once, in order."""
    found: dict[str, None] = {}
    for char in value:
        if char in BIDI_CONTROLS or unicodedata.category(char) in CONTROL_CATEGORIES:
            found[char] = None
    return list(found)


def one_line(value: str) -> str:
    """``value`` on one line, each control character a space: for names and addresses
    saved before the form refused them."""
    return "".join(" " if char in control_characters(char) else char for char in value)


def quoted(text: str) -> str:
    """``text`` with each line marked "> ", as mail quotes: every place any program may
    break a line (str.splitlines: LF, CR, VT, FF, the file/group/record separators,
    NEL, U+2028, U+2029) starts a new quoted line, so that no line of it can stand
    alone."""
    lines = text.splitlines() or [""]
    return "\n".join(f"> {one_line(line)}".rstrip() for line in lines)
