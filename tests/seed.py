"""Reads the client's April 2014 seed (../shared/seeds/) the way its README says to,
so tests can hold the site to it word for word."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
DAY_HEADING = re.compile(
    r"^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{1,2}) (\w+) (\d{4})$"
)
REFERENCE_LINE = re.compile(r"^\[(\d+)\] (.+)$")
TABLE_ROW = re.compile(r"^\| ([^|]+) \| ([^|]+) \|$")


@dataclass
class SeedEntry:
    day: datetime.date
    title: str  # "" for the untitled entry
    lines: list[str] = field(default_factory=list)  # body lines, blank lines dropped
    references: dict[int, str] = field(default_factory=dict)


def seed_available() -> bool:
    return (SEED_DIR / "README.md").exists()


def _titles_from_readme(readme: str) -> list[str]:
    titles = []
    for line in readme.splitlines():
        match = TABLE_ROW.match(line.strip())
        if match and DAY_HEADING.match(match.group(1).strip()):
            title = match.group(2).strip()
            titles.append("" if title.startswith("(untitled") else title)
    return titles


def read_seed(seed_dir: Path = SEED_DIR) -> list[SeedEntry]:
    titles = set(_titles_from_readme((seed_dir / "README.md").read_text(encoding="utf-8")))
    text_file = next(p for p in sorted(seed_dir.glob("*.txt")))
    entries: list[SeedEntry] = []
    day = None
    for raw in text_file.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        heading = DAY_HEADING.match(line.strip())
        if heading:
            day = datetime.datetime.strptime(line.strip(), "%A, %d %B %Y").date()
            entries.append(SeedEntry(day=day, title=""))
            continue
        current = entries[-1]
        if line.strip() in titles and line.strip():
            if current.lines or current.title:
                current = SeedEntry(day=day, title="")
                entries.append(current)
            current.title = line.strip()
            continue
        reference = REFERENCE_LINE.match(line.strip())
        if reference:
            current.references[int(reference.group(1))] = reference.group(2).strip()
            continue
        current.lines.append(line)
    return entries
