"""Finding the columns an importer needs in a file's header, whatever their order.

Why: exports gain columns between versions and users re-order them in Excel; names are matched
case-insensitively with surrounding spaces ignored, extra columns are ignored, and a missing
required column stops the file with one message naming every missing column.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..domain.errors import UserError


def normalize(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


class ColumnMap:
    """Header name → position, with the original spelling kept for messages."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self.header = header
        self._pos: dict[str, int] = {}
        for i, h in enumerate(header):
            self._pos.setdefault(normalize(h), i)

    def require(self, names: Iterable[str], *, what: str = "") -> None:
        missing = [n for n in names if normalize(n) not in self._pos]
        if missing:
            found = ", ".join(h for h in self.header if h) or "(none)"
            raise UserError(
                f"{self.path.name}: missing column(s) {', '.join(missing)}"
                + (f" for {what}" if what else ""),
                hint=f"Columns found: {found}",
            )

    def index(self, name: str) -> int | None:
        return self._pos.get(normalize(name))

    def has(self, name: str) -> bool:
        return normalize(name) in self._pos
