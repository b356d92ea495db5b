"""An export's XML, read an item at a time and refused whole when it is hostile.

Both exports are one root holding a long run of items (Blogger's Atom ``entry``,
WordPress's ``item``). ``items`` hands each item over once it is complete, with where
it began, then forgets it: memory holds one item, never the whole tree. The parser is
defusedxml's: a document type declaration, an entity declaration or an external
reference ends the import (billion laughs, external entities), before any of it is used.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # nosec B405 # only its tree builder: the parser is defusedxml's
from collections.abc import Callable, Iterator
from typing import BinaryIO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .records import ImportFileError, Position

CHUNK_SIZE = 64 * 1024


def local_name(tag: str) -> str:
    """``{namespace}name`` → ``name``."""
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    """``{namespace}name`` → ``namespace`` ("" for none)."""
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


class _ItemBuilder(ET.TreeBuilder):
    """A tree builder that sets each finished item aside (with the line it began on)
    and takes it out of the tree, so that the tree never holds more than one."""

    def __init__(
        self,
        item_tags: frozenset[str],
        parent_depth: int,
        check_root: Callable[[ET.Element], None] | None,
    ) -> None:
        super().__init__()
        self.check_root = check_root
        self.item_tags = item_tags
        self.item_depth = parent_depth + 1
        self.parser: DefusedXMLParser | None = None
        self.root: ET.Element | None = None
        self.finished: list[tuple[ET.Element, int | None]] = []
        self._open: list[ET.Element] = []
        self._start_line: int | None = None

    def line(self) -> int | None:
        expat = getattr(self.parser, "parser", None)
        return getattr(expat, "CurrentLineNumber", None)

    def start(self, tag, attrs):  # TreeBuilder's own signature
        element = super().start(tag, attrs)
        if self.root is None:
            self.root = element
            if self.check_root is not None:
                # At once: a file of another kind is refused at its first element,
                # not parsed to its end (its items are not these, and would all stay).
                self.check_root(element)
        if len(self._open) == self.item_depth and tag in self.item_tags:
            self._start_line = self.line()
        self._open.append(element)
        return element

    def end(self, tag):
        element = super().end(tag)
        self._open.pop()
        if len(self._open) == self.item_depth and tag in self.item_tags:
            self.finished.append((element, self._start_line))
            self._open[-1].remove(element)
        return element


class XmlItems:
    """The items of an export, each with its Position; ``root`` holds the root's and
    its children's other elements read so far (a channel's title, a feed's id).

    ``item_tags`` are the items' tags with their namespace, and ``parent_depth`` how
    deep their parent is (Blogger's entries are the root's children: 0; WordPress's
    items are the channel's: 1). ``check_root`` is shown the root element as soon as
    it is read, and raises ImportFileError for a file of another kind."""

    def __init__(
        self,
        file: BinaryIO,
        *,
        item_tags: frozenset[str],
        parent_depth: int,
        check_root: Callable[[ET.Element], None] | None = None,
    ) -> None:
        self.file = file
        self.items_read = 0
        self._builder = _ItemBuilder(item_tags, parent_depth, check_root)
        self._parser = DefusedXMLParser(
            target=self._builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        self._builder.parser = self._parser

    @property
    def root(self) -> ET.Element | None:
        return self._builder.root

    @property
    def line(self) -> int | None:
        return self._builder.line()

    def __iter__(self) -> Iterator[tuple[ET.Element, Position]]:
        while True:
            chunk = self.file.read(CHUNK_SIZE)
            try:
                if chunk:
                    self._parser.feed(chunk)
                else:
                    self._parser.close()
            except DefusedXmlException as error:
                raise ImportFileError(
                    f"The file declares entities or a document type (line {self.line}), "
                    f"which an export never does: refused ({type(error).__name__})."
                ) from None
            except ET.ParseError as error:
                line, _ = error.position
                if not chunk or self.root is None:
                    raise ImportFileError(
                        f"The file ends before its XML does, or is not XML (line {line}): "
                        f"export it again and import the whole file."
                    ) from None
                raise ImportFileError(f"The file is not well-formed XML ({error}).") from None
            finished, self._builder.finished = self._builder.finished, []
            for element, line in finished:
                self.items_read += 1
                yield element, Position(self.items_read, line)
            if not chunk:
                return
