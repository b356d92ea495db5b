"""What an import did, or in a dry run would do: counted by kind and outcome, with the
reason for every item left out. The command prints it; the admin shows it."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from .records import Position


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


# The kinds a report counts, in the order it lists them.
KINDS: tuple[str, ...] = (
    "posts",
    "pages",
    "comments",
    "threads",
    "tags",
    "authors",
    "redirects",
    "images",
)


@dataclass(frozen=True)
class SkippedItem:
    kind: str
    source_id: str
    reason: str
    position: Position | None = None

    def __str__(self) -> str:
        where = f" ({self.position})" if self.position else ""
        return f"{self.kind} {self.source_id}{where}: {self.reason}"


@dataclass
class Report:
    """Counts of (kind, outcome), and each skipped item with its reason."""

    dry_run: bool = False
    counts: Counter = field(default_factory=Counter)
    skipped: list[SkippedItem] = field(default_factory=list)

    def count(self, kind: str, outcome: Outcome, n: int = 1) -> None:
        if kind not in KINDS:
            raise ValueError(f"A report counts {', '.join(KINDS)}, not {kind!r}.")
        self.counts[kind, outcome] += n

    def skip(
        self, kind: str, source_id: str, reason: str, position: Position | None = None
    ) -> None:
        """Count ``kind`` (singular or plural) as skipped, and say why."""
        plural = kind if kind.endswith("s") else f"{kind}s"
        if plural in KINDS:
            self.count(plural, Outcome.SKIPPED)
        self.skipped.append(SkippedItem(kind, source_id, reason, position))

    def get(self, kind: str, outcome: Outcome) -> int:
        return self.counts[kind, outcome]

    def rows(self) -> list[tuple[str, dict[Outcome, int]]]:
        """Each kind with its counts by outcome, for a table."""
        return [(kind, {outcome: self.get(kind, outcome) for outcome in Outcome}) for kind in KINDS]

    @property
    def changes(self) -> int:
        """How many rows the import writes (or, in a dry run, would write)."""
        return sum(
            n
            for (_, outcome), n in self.counts.items()
            if outcome in (Outcome.CREATED, Outcome.UPDATED)
        )

    def skip_reasons(self) -> Counter:
        """How many items were skipped for each (kind, reason)."""
        return Counter((item.kind, item.reason) for item in self.skipped)

    def as_text(self, *, details: bool = False) -> str:
        """The report as a plain-text table (the command's closing words)."""
        heading = (
            "Dry run: nothing was written. The import would give:" if self.dry_run else "Imported:"
        )
        width = max(len(kind) for kind in KINDS)
        lines = [heading, f"  {'':{width}}  " + "  ".join(f"{o.value:>9}" for o in Outcome)]
        for kind, by_outcome in self.rows():
            lines.append(f"  {kind:{width}}  " + "  ".join(f"{by_outcome[o]:>9}" for o in Outcome))
        if self.skipped:
            lines.append("Skipped:")
            if details:
                lines.extend(f"  {item}" for item in self.skipped)
            else:
                for (kind, reason), n in sorted(self.skip_reasons().items()):
                    lines.append(f"  {n} × {kind}: {reason}")
        return "\n".join(lines)
