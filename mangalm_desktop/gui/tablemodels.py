"""Table models: a small in-memory one for short lists, and the windowed store list.

:class:`RowsModel` shows a list of dataclasses that is already in memory (a store's invoices,
top products...). :class:`WindowedModel` holds only the ordered ids of the current result and
fetches the rows on screen in pages through the task runner; rows not yet fetched show "…" and
fill in when their page arrives. Answers for an older result are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

Index = QModelIndex | QPersistentModelIndex
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    text: Callable[[Any], str]
    align: Qt.AlignmentFlag = LEFT
    tooltip: Callable[[Any], str] | None = None


class RowsModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column], parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Show ``rows``: a list or tuple is copied; any other sequence is kept as given (a lazy
        one, such as Today's 100,000 stores, then makes only the rows shown)."""
        self.beginResetModel()
        lazy = isinstance(rows, Sequence) and not isinstance(rows, list | tuple)
        self.rows = rows if lazy else list(rows)  # type: ignore[assignment]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return col.align
        if role == Qt.ItemDataRole.ToolTipRole and col.tooltip is not None:
            return col.tooltip(row)
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].header
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self.columns[section].align
        return None


PAGE = 100
CACHE_LIMIT = 5_000


class WindowedModel(QAbstractTableModel):
    """Rows by id, fetched a page at a time by ``fetch(ids) -> rows`` on a worker.

    ``submit(fn, on_done)`` is the task runner's submit; ``row_id(row)`` gives a fetched row's id.
    """

    rows_arrived = Signal()
    sort_requested = Signal(str, bool)  # column key, descending

    def __init__(
        self,
        columns: Sequence[Column],
        fetch: Callable[[list[int]], list[Any]],
        submit: Callable[..., Any],
        row_id: Callable[[Any], int],
        parent=None,  # noqa: ANN001
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._fetch = fetch
        self._submit = submit
        self._row_id = row_id
        self.ids = np.zeros(0, dtype=np.int64)
        self.generation = 0
        self._cache: dict[int, Any] = {}
        self._requested: set[int] = set()

    # ---- result handling --------------------------------------------------------------------
    def set_result(self, ids: np.ndarray, first_rows: Sequence[Any] = ()) -> None:
        """A new result (ids in order), optionally with its first page already fetched."""
        self.beginResetModel()
        self.generation += 1
        self.ids = ids
        self._requested.clear()
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
        for row in first_rows:
            self._cache[self._row_id(row)] = row
        if first_rows:
            self._requested.add(0)
        self.endResetModel()

    def invalidate_rows(self) -> None:
        """Row contents changed (e.g. a store was edited): refetch what is shown."""
        self._cache.clear()
        self._requested.clear()
        if len(self.ids):
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self.ids) - 1, len(self.columns) - 1)
            )

    def row_at(self, row: int) -> Any | None:
        if not 0 <= row < len(self.ids):
            return None
        return self._cache.get(int(self.ids[row]))

    def id_at(self, row: int) -> int | None:
        return int(self.ids[row]) if 0 <= row < len(self.ids) else None

    def _request_page(self, page: int) -> None:
        if page in self._requested:
            return
        self._requested.add(page)
        generation = self.generation
        ids = [int(i) for i in self.ids[page * PAGE : (page + 1) * PAGE]]
        fetch = self._fetch
        self._submit(
            lambda _ctx: fetch(ids),
            on_done=lambda rows: self._page_arrived(generation, page, rows),
            name="loading rows",
        )

    def _page_arrived(self, generation: int, page: int, rows: list[Any]) -> None:
        if generation != self.generation:
            return  # an answer for a result that is no longer shown
        if len(self._cache) > CACHE_LIMIT:  # scrolled through a lot: keep memory bounded
            self._cache.clear()
            self._requested = {page}
        for row in rows:
            self._cache[self._row_id(row)] = row
        first = page * PAGE
        last = min(first + PAGE, len(self.ids)) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))
        self.rows_arrived.emit()

    # ---- Qt model interface -----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return col.align
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.UserRole,
        ):
            return None
        row = self.row_at(index.row())
        if row is None:
            self._request_page(index.row() // PAGE)
            return "…" if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.UserRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip(row) if col.tooltip else None
        return col.text(row)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].header
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self.columns[section].align
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting happens in the query (the whole result), not in the window."""
        self.sort_requested.emit(self.columns[column].key, order == Qt.SortOrder.DescendingOrder)
