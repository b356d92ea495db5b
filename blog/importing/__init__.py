"""Bringing a blog here from Blogger or WordPress: ``import_file``.

A reader per export format turns the file into plain records (``records``), streamed
(``blogger``, ``wordpress``); the bodies' HTML becomes the site's Markdown on the way
(``convert``). One writer (``load``) writes the records through the site's write path
(blog.writing) and the discussion's (blog.discussion), in one transaction, and says
what it did (``report``).
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from .records import ImportFileError, Record
from .report import Report

# The reader of each platform, by module name: imported when used.
READERS = {"blogger": "blog.importing.blogger", "wordpress": "blog.importing.wordpress"}


def reader(platform: str) -> Callable[[BinaryIO], Iterator[Record]]:
    """The function that reads an export of ``platform`` into records."""
    if platform not in READERS:
        raise ValueError(f"No reader for {platform!r}: {', '.join(READERS)}.")
    return importlib.import_module(READERS[platform]).read


def import_file(
    file: BinaryIO,
    platform: str,
    *,
    author=None,
    dry_run: bool = False,
    fetch_media: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Import one export file of ``platform`` ("blogger" or "wordpress"), all or nothing
    (ImportFileError says why and where); ``progress`` is told the bytes read so far."""
    from .load import load

    if progress is not None:
        file = ProgressReader(file, progress)
    return load(reader(platform)(file), author=author, dry_run=dry_run, fetch_media=fetch_media)


class ProgressReader(io.RawIOBase):
    """A binary file that tells ``progress`` how many bytes have been read from it."""

    def __init__(self, file: BinaryIO, progress: Callable[[int], None]) -> None:
        self._file = file
        self._progress = progress
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        self._count(len(data))
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._count(len(data))
        return data

    def _count(self, n: int) -> None:
        if n:
            self._read += n
            self._progress(self._read)


__all__ = ["ImportFileError", "Report", "import_file", "reader"]
