"""What each stage skipped or changed, and why: nothing is dropped silently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import pandas as pd

__all__ = ["Note", "Report"]


@dataclass(frozen=True)
class Note:
    """One thing a stage did to the input that a user should know about."""

    stage: str
    """Pipeline stage that wrote the note (``ingest``, ``normalise``, ``weight``, ...)."""
    message: str
    """What happened and, where it applies, how to avoid it."""
    count: int
    """How many rows, values or accounts it concerned."""
    examples: tuple[str, ...] = ()
    """Up to five offending values or row numbers, as text."""

    def __str__(self) -> str:
        ex = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        return f"[{self.stage}] {self.count:,} {self.message}{ex}"


@dataclass
class Report:
    """An ordered collection of :class:`Note`."""

    notes: list[Note] = field(default_factory=list)

    def add(self, stage: str, message: str, count: int, examples: Iterable[object] = ()) -> None:
        """Record a note; notes with a zero count are not kept."""
        if count:
            shown = tuple(_show(e) for e in list(examples)[:5])
            self.notes.append(Note(stage, message, int(count), shown))

    def extend(self, other: "Report | Sequence[Note]") -> None:
        """Append every note of ``other``."""
        self.notes.extend(other.notes if isinstance(other, Report) else other)

    def to_frame(self) -> pd.DataFrame:
        """Return the notes as a DataFrame with columns stage, message, count, examples."""
        return pd.DataFrame(
            {
                "stage": [n.stage for n in self.notes],
                "message": [n.message for n in self.notes],
                "count": [n.count for n in self.notes],
                "examples": ["; ".join(n.examples) for n in self.notes],
            }
        )

    def __len__(self) -> int:
        return len(self.notes)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.notes)

    def __str__(self) -> str:
        return "\n".join(str(n) for n in self.notes) if self.notes else "nothing skipped"

    def __repr__(self) -> str:
        if not self.notes:
            return "<Report: nothing skipped>"
        lines = "".join(f"\n  {n}" for n in self.notes)
        return f"<Report: {len(self.notes)} note{'s' if len(self.notes) != 1 else ''}{lines}>"

    def _repr_html_(self) -> str:
        from .views import report_html

        return report_html(self)


def _show(value: object, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
