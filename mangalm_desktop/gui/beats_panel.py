"""Today's beat, beside Today's call list: the stores of the beats visited today, in visit
order, each marked visited / ordered as the day goes on.

A panel of its own (the call list's data source is another module's): it loads
:func:`~mangalm_desktop.beats.service.todays_beat` through ``ctx.runner`` when shown and after
a write that touches beats, calls or orders. Enter or a double-click on a stop opens the call
screen for that store.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..beats import service
from ..domain.changes import Changes
from .context import AppContext
from .tablemodels import RIGHT, Column, RowsModel

TABLES = ("beat", "beat_store", "call_log", "orders", "store")


def _status(stop: service.BeatStop) -> str:
    if stop.ordered:
        return "ordered"
    return "visited" if stop.visited else ""


class TodaysBeatPanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("todaysBeat")
        self.ctx = ctx
        self.beat: service.TodaysBeat | None = None
        self._request = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel("<b>Today's beat</b>", self)
        self.summary.setObjectName("todaysBeatSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.model = RowsModel(
            [
                Column("pos", "#", lambda s: str(s.position), RIGHT),
                Column("store", "Store", lambda s: s.store_name, tooltip=lambda s: s.store_code),
                Column("status", "Done", _status),
                Column("locality", "Locality", lambda s: s.locality or ""),
                Column("phone", "Phone", lambda s: s.phone or ""),
                Column("beat", "Beat", lambda s: s.beat_name),
            ],
            self,
        )
        self.table = QTableView(self)
        self.table.setObjectName("todaysBeatTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.activated.connect(lambda index: self.open_store(index.row()))
        layout.addWidget(self.table, 1)
        ctx.runner.changed.connect(self._changed)
        self._shown_once = False

    def beside(self, call_list: QWidget) -> QSplitter:
        """The call list with this panel to its right (what Today puts in its layout)."""
        split = QSplitter(Qt.Orientation.Horizontal, call_list.parentWidget())
        split.setObjectName("todaySplit")
        split.addWidget(call_list)
        split.addWidget(self)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        return split

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.load()

    def _changed(self, changes: Changes) -> None:
        if shiboken6.isValid(self) and self.isVisible() and changes.touches(*TABLES):
            self.load()

    def load(self) -> None:
        self._request += 1
        request = self._request
        who, day, agent = self.ctx.identity, self.ctx.today(), self.ctx.own_stores_only

        def done(beat: service.TodaysBeat) -> None:
            if request != self._request or not shiboken6.isValid(self.model):
                return
            self.beat = beat
            self.model.set_rows(beat.stops)
            self.summary.setText(f"<b>Today's beat</b> — {beat.describe()}")

        def failed(exc: BaseException) -> None:
            if request == self._request and shiboken6.isValid(self.summary):
                self.summary.setText(f"<b>Today's beat</b> could not be read: {exc}")

        self.ctx.runner.submit(
            lambda _t, engine: service.todays_beat(engine, who, day, agent=agent),
            self.ctx.engine,
            on_done=done,
            on_error=failed,
            name="today's beat",
        )

    def open_store(self, row: int) -> QWidget | None:
        """Enter on a stop: the call screen for that store (as on the call list), or its store
        card where there is no call screen."""
        stops = self.beat.stops if self.beat else []
        main = self.window()
        if not 0 <= row < len(stops):
            return None
        store_id = stops[row].store_id
        if hasattr(main, "new_call"):
            screen: QWidget = main.new_call(store_id)
            return screen
        if hasattr(main, "show_view"):
            card: QWidget = main.show_view("stores").open_store(store_id)
            return card
        return None
