"""What readers see of comments, and where a comment is on its page, are each stated
once: ``VISIBLE_VALUES`` (blog/models/comments.py, behind ``Comment.objects.visible()``
and ``Comment.is_visible``) and ``Comment.anchor``. A second statement could drift from
the first: a comment shown on one page and hidden on another, a link to no comment."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THE_ONE_PLACE = "blog/models/comments.py"


def python_sources() -> Iterator[tuple[str, str]]:
    for path in sorted([*(ROOT / "blog").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]):
        name = path.relative_to(ROOT).as_posix()
        if "/migrations/" not in name:
            yield name, path.read_text(encoding="utf-8")


def other_sources() -> Iterator[tuple[str, str]]:
    for folder, pattern in (("templates", "*.html"), ("templates", "*.txt"), ("static", "*.js")):
        for path in sorted((ROOT / folder).rglob(pattern)):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def _is(node: ast.AST | None, value: bool) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _attribute(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == name


def visibility_statements(source: str) -> list[int]:
    """Lines stating "is_public is True and is_removed is False": as a query's keyword
    arguments, a dict of field values, or a test of a comment's attributes."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            given = {keyword.arg: keyword.value for keyword in node.keywords}
            stated = _is(given.get("is_public"), True) and _is(given.get("is_removed"), False)
        elif isinstance(node, ast.Dict):
            given = {key.value: value for key, value in zip(node.keys, node.values, strict=True)
                     if isinstance(key, ast.Constant)}  # fmt: skip
            stated = _is(given.get("is_public"), True) and _is(given.get("is_removed"), False)
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            stated = any(_attribute(value, "is_public") for value in node.values) and any(
                isinstance(value, ast.UnaryOp)
                and isinstance(value.op, ast.Not)
                and _attribute(value.operand, "is_removed")
                for value in node.values
            )
        else:
            stated = False
        if stated:
            lines.append(node.lineno)
    return lines


# A comment's id spelt out: "c" and its number, in Python, templates or JavaScript.
ANCHOR_SPELT_OUT = re.compile(
    r"""f["']#?c\{"""  # f"c{pk}", f"#c{pk}"
    r"""|#c\{"""  # f"{url}#c{pk}"
    r"""|c%\(id\)s"""  # django-comments' "#c%(id)s"
    r"""|["']#?c["']\s*\+"""  # "c" + id
    r"""|["'#]c\{\{"""  # id="c{{ comment.pk }}", href="#c{{ comment.pk }}"
)


def test_the_visibility_condition_is_stated_once():
    found = [
        (name, line)
        for name, source in python_sources()
        for line in visibility_statements(source)
    ]
    assert [name for name, _ in found] == [THE_ONE_PLACE], found
    template_statements = [
        name
        for name, source in other_sources()
        if re.search(r"is_public\s+and\s+not\s+[\w.]*is_removed", source)
    ]
    assert template_statements == []


def test_the_check_finds_each_way_of_stating_it():
    assert visibility_statements("Comment.objects.filter(is_public=True, is_removed=False)")
    assert visibility_statements("qs.filter(\n  x=1,\n  is_public=True,\n  is_removed=False,\n)")
    assert visibility_statements("{'is_public': True, 'is_removed': False}")
    assert visibility_statements("c.parent is None and c.is_public and not c.is_removed")
    assert not visibility_statements("queryset.filter(is_public=False, is_removed=False)")
    assert not visibility_statements("fields = ['is_public', 'is_removed']")


def test_the_anchor_is_spelt_out_once():
    found = [
        (name, source[: match.start()].count("\n") + 1)
        for name, source in [*python_sources(), *other_sources()]
        for match in ANCHOR_SPELT_OUT.finditer(source)
    ]
    assert [name for name, _ in found] == [THE_ONE_PLACE], found
