"""A table model over a report DataFrame, shown in pages of rows as the user scrolls.

The frame is already aggregated (computed in a worker), so the model never queries; it still
hands rows to the view a page at a time (canFetchMore/fetchMore) so a 50,000-row store report
opens instantly. Sorting uses the raw values (numbers sort as numbers, blanks last).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ...domain.formatting import Kind, cell, is_missing
from ...reports.catalog import ReportResult

Index = QModelIndex | QPersistentModelIndex
PAGE_ROWS = 500
NUMERIC = {"money", "int", "pct", "float"}
RAW_ROLE = Qt.ItemDataRole.UserRole + 1


class FrameModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.result: ReportResult | None = None
        self.frame = pd.DataFrame()
        self.kinds: dict[str, Kind] = {}
        self.labels: list[str] = []
        self.loaded = 0

    def set_result(self, result: ReportResult | None) -> None:
        self.beginResetModel()
        self.result = result
        self.frame = result.frame.reset_index(drop=True) if result is not None else pd.DataFrame()
        self.kinds = result.kinds() if result is not None else {}
        self.labels = result.labels() if result is not None else []
        self.loaded = min(PAGE_ROWS, len(self.frame))
        self.endResetModel()

    # -- lazy paging -------------------------------------------------------------------------
    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and self.loaded < len(self.frame)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        more = min(PAGE_ROWS, len(self.frame) - self.loaded)
        if more <= 0:
            return
        self.beginInsertRows(QModelIndex(), self.loaded, self.loaded + more - 1)
        self.loaded += more
        self.endInsertRows()

    # -- model API ---------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self.loaded

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.frame.columns)

    def column_name(self, col: int) -> str:
        return str(self.frame.columns[col])

    def raw(self, row: int, col: int) -> Any:
        return self.frame.iat[row, col]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        name = self.column_name(index.column())
        kind = self.kinds.get(name, "text")
        value = self.raw(index.row(), index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return cell(value, kind)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if kind in NUMERIC:
                return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if role == RAW_ROLE:
            return None if is_missing(value) else value
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and section < len(self.labels):
            return self.labels[section]
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self.frame.empty:
            return
        name = self.column_name(column)
        kind = self.kinds.get(name, "text")
        col = self.frame[name]
        key = (
            pd.to_numeric(col.astype(object).where(~col.isna(), None), errors="coerce")
            if (kind in NUMERIC)
            else col.astype(str)
        )
        ascending = order == Qt.SortOrder.AscendingOrder
        positions = key.sort_values(ascending=ascending, na_position="last", kind="stable").index
        self.layoutAboutToBeChanged.emit()
        self.frame = self.frame.loc[positions].reset_index(drop=True)
        self.layoutChanged.emit()
