"""What a write changed, so each view refreshes only what concerns it (Anki's ``OpChanges``).

A service function that writes returns (or carries) a :class:`Changes`; the GUI's writer emits it
once on its change bus, and every view checks :meth:`Changes.touches` for the tables it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing uuid (and platform) costs the cold start
    import uuid


@dataclass(frozen=True)
class Changes:
    """Tables (and optionally row ids) a finished write touched."""

    tables: frozenset[str]
    ids: frozenset[uuid.UUID] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *tables: str, ids: tuple[uuid.UUID, ...] = ()) -> Changes:
        return cls(frozenset(tables), frozenset(ids))

    def touches(self, *tables: str) -> bool:
        return any(t in self.tables for t in tables)

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.tables | other.tables, self.ids | other.ids)


EVERYTHING = Changes.of(
    "agent", "store", "product", "invoice", "invoice_line", "orders", "order_line", "call_log"
)
"""Sent after a bulk event (demo data, import, first sync) when every view should reload."""
