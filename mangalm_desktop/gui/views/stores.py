"""Stores: every store, searchable as you type, filterable, sortable; Enter opens the store.

The list is a :class:`WindowedModel` over a :class:`StoreIndex`: a keystroke runs one FTS5
lookup and numpy masks in a worker and the first screenful comes back in the same answer, so
with 100,000 stores the list updates within a few tens of milliseconds and the UI thread never
touches SQL.
"""

from __future__ import annotations

import uuid
from typing import Any

import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...db.queries.stores import (
    FilterOptions,
    StoreFilter,
    StoreIndex,
    StoreRow,
    fetch_store_rows,
    filter_options,
)
from ...domain import formatting as fmt
from ...domain.changes import Changes
from ..context import AppContext
from ..latest import LatestOnly
from ..tablemodels import PAGE, RIGHT, Column, WindowedModel
from .base import View, focus_search_box, search_field, title_bar

STORE_COLUMNS = [
    Column("name", "Store", lambda r: r.name, tooltip=lambda r: f"{r.name}\n{r.code}"),
    Column("city", "City", lambda r: r.city),
    Column("region", "Region", lambda r: r.region),
    Column("agent", "Agent", lambda r: r.agent),
    Column("last_order", "Last order", lambda r: fmt.day(r.last_order), RIGHT),
    Column(
        "days_since",
        "Days since",
        lambda r: "" if r.days_since is None else f"{fmt.number(r.days_since)}",
        RIGHT,
    ),
    Column("sales_12m", "Sales, 12 months", lambda r: fmt.money(r.sales_12m, paise=False), RIGHT),
    Column("balance", "Outstanding", lambda r: fmt.money(r.balance), RIGHT),
]
DEFAULT_WIDTHS = [230, 115, 140, 120, 95, 75, 125, 115]


class StoresView(View):
    view_id = "stores"
    title = "Stores"
    icon_name = "stores"
    description = "All stores: search as you type, filter by region, agent or dormancy."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.index: StoreIndex | None = None
        self.options: FilterOptions | None = None
        self.details: dict[uuid.UUID, QWidget] = {}
        self._loading_index = False
        self._latest = LatestOnly(ctx.runner, "searching stores")
        self.last_filter: StoreFilter | None = None

        self.search = search_field(self, "searchEdit", "Name, city or code  (Ctrl+F)")
        self.region = QComboBox(self)
        self.region.setObjectName("regionFilter")
        self.region.addItem("All regions", None)
        self.agent = QComboBox(self)
        self.agent.setObjectName("agentFilter")
        self.agent.addItem("All agents", None)
        self.dormant = QCheckBox("Dormant more than", self)
        self.dormant.setObjectName("dormantFilter")
        self.dormant_weeks = QSpinBox(self)
        self.dormant_weeks.setRange(1, 520)
        self.dormant_weeks.setValue(8)
        self.dormant_weeks.setSuffix(" weeks")
        self.count_label = QLabel("", self)
        self.count_label.setObjectName("countLabel")

        bar = title_bar(self, "Stores", self.search, self.count_label)
        filters = QHBoxLayout()
        filters.addWidget(self.region)
        filters.addWidget(self.agent)
        filters.addSpacing(8)
        filters.addWidget(self.dormant)
        filters.addWidget(self.dormant_weeks)
        filters.addStretch(1)
        self.beats_button = QPushButton("&Beats…", self)
        self.beats_button.setObjectName("beatsButton")
        self.beats_button.setToolTip("Routes: which stores each agent visits on which days")
        self.beats_dialog: QWidget | None = None
        filters.addWidget(self.beats_button)

        engine = ctx.engine
        self.model = WindowedModel(
            STORE_COLUMNS,
            fetch=lambda ids: fetch_store_rows(engine, ids, ctx.today(), identity=ctx.identity),
            submit=ctx.runner.submit,
            row_id=lambda r: r.rowid,
            parent=self,
        )
        self.table = QTableView(self)
        self.table.setObjectName("storesTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate(DEFAULT_WIDTHS):
            header.resizeSection(column, width)
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)

        self.search.textChanged.connect(self.refresh)
        self.search.returnPressed.connect(self._open_current_or_first)
        self.region.currentIndexChanged.connect(self.refresh)
        self.agent.currentIndexChanged.connect(self.refresh)
        self.dormant.toggled.connect(self.refresh)
        self.dormant_weeks.valueChanged.connect(
            lambda _v: self.refresh() if self.dormant.isChecked() else None
        )
        self.model.sort_requested.connect(lambda _k, _d: self.refresh())
        self.table.doubleClicked.connect(lambda idx: self.open_row(idx.row()))
        self.beats_button.clicked.connect(lambda: self.open_beats())
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self._open_current_or_first)
        down = QShortcut(QKeySequence(Qt.Key.Key_Down), self.search)
        down.setContext(Qt.ShortcutContext.WidgetShortcut)
        down.activated.connect(self._into_table)

    # ---- data -------------------------------------------------------------------------------
    def activated(self) -> None:
        if self.index is None and not self._loading_index:
            self.reload_index()

    def reload_index(self) -> None:
        engine, as_of, identity = self.ctx.engine, self.ctx.today(), self.ctx.identity
        self._loading_index = True
        self.count_label.setText("Loading stores…")

        def load(_ctx: Any) -> tuple[StoreIndex, FilterOptions]:
            index = StoreIndex(engine, as_of, identity=identity)  # an agent's: their stores only
            index.order("name", False)  # the default order, in the worker
            return index, filter_options(engine, identity=identity)

        def done(result: tuple[StoreIndex, FilterOptions]) -> None:
            if not shiboken6.isValid(self.region):
                return  # the window closed while the stores loaded (e.g. after a payment)
            self._loading_index = False
            self.index, options = result
            self._set_options(options)
            self.refresh()
            # the first letter a person types, prepared after the first screenful is asked for
            # (100,000 stores: 36 prefix searches, ~0.15 s that need not delay the list)
            self.ctx.runner.submit(lambda _ctx: result[0].warm(), name="preparing store search")

        def failed(exc: BaseException) -> None:
            if not shiboken6.isValid(self.count_label):
                return
            self._loading_index = False
            self.count_label.setText("Stores could not be loaded")
            self.ctx.runner.failed.emit("loading stores", exc)

        self.ctx.runner.submit(load, on_done=done, on_error=failed, name="loading stores")

    def _set_options(self, options: FilterOptions) -> None:
        self.options = options
        for combo, items in (
            (self.region, [(r, r) for r in options.regions]),
            (self.agent, [(name, agent_id) for agent_id, name in options.agents]),
        ):
            current = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for label, data in items:
                combo.addItem(label, data)
            found = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(found, 0))
            combo.blockSignals(False)

    def current_filter(self) -> StoreFilter:
        header = self.table.horizontalHeader()
        column = header.sortIndicatorSection()
        key = STORE_COLUMNS[column].key if 0 <= column < len(STORE_COLUMNS) else "name"
        return StoreFilter(
            text=self.search.text(),
            region=self.region.currentData(),
            agent_id=self.agent.currentData(),
            dormant_weeks=self.dormant_weeks.value() if self.dormant.isChecked() else None,
            sort=key,
            descending=header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder,
        )

    def refresh(self) -> None:
        """Re-run the search for the current text/filters/sort (called on every keystroke)."""
        index = self.index
        if index is not None and index.identity != self.ctx.identity:
            self.index = index = None  # someone else signed in: their stores, not the last one's
        if index is None:
            self.activated()
            return
        flt = self.current_filter()
        engine, as_of, identity = self.ctx.engine, self.ctx.today(), self.ctx.identity

        def query(_ctx: Any) -> tuple[Any, list[StoreRow]]:
            ids = index.match(flt)
            first = fetch_store_rows(engine, [int(i) for i in ids[:PAGE]], as_of, identity=identity)
            return ids, first

        def show(result: tuple[Any, list[StoreRow]]) -> None:
            if not shiboken6.isValid(self.model):
                return  # the window closed while the search ran
            ids, first = result
            self.last_filter = flt
            self.model.set_result(ids, first)
            total = index.count
            shown = len(ids)
            self.count_label.setText(
                f"{fmt.number(shown)} stores"
                if shown == total
                else f"{fmt.number(shown)} of {fmt.number(total)} stores"
            )
            if shown and self.table.currentIndex().row() < 0:
                self.table.selectRow(0)

        self._latest.request(query, show)

    @property
    def idle(self) -> bool:
        return self._latest.idle and not self._loading_index

    def on_changes(self, changes: Changes) -> None:
        """Profile edits only repaint rows; new stores or new figures reload the index.

        Invoices changed by an import or sync do not reload here: the main window's
        :class:`~mangalm_desktop.gui.store_figures.StoreFiguresKeeper` recomputes the changed
        stores' figures and then announces ``store_stats``.
        """
        if not changes.touches("store", "agent", "invoice", "invoice_line", "store_stats"):
            return
        self.model.invalidate_rows()
        if changes.ids and not changes.touches("agent", "store_stats"):
            return  # an edited store: its list columns (name, city, figures) did not change
        if changes.touches("store", "agent", "store_stats"):
            self.reload_index()

    # ---- opening a store --------------------------------------------------------------------
    def _into_table(self) -> None:
        self.table.setFocus()
        if self.model.rowCount() and self.table.currentIndex().row() < 0:
            self.table.selectRow(0)

    def _open_current_or_first(self) -> None:
        row = self.table.currentIndex().row()
        self.open_row(row if row >= 0 else 0)

    def call_store_id(self) -> uuid.UUID | None:
        """The store Ctrl+N opens the call screen for: the current row, if any."""
        store = self.model.row_at(self.table.currentIndex().row())
        return store.id if store is not None else None

    def open_row(self, row: int) -> QWidget | None:
        store = self.model.row_at(row)
        if store is None:
            return None
        return self.open_store(store.id)

    def open_store(self, store_id: uuid.UUID) -> QWidget:
        from .store_detail import StoreDetailWindow

        existing = self.details.get(store_id)
        if existing is not None:
            existing.show()
            existing.raise_()
            existing.activateWindow()
            return existing
        window = StoreDetailWindow(self.ctx, store_id, self)
        window.destroyed.connect(lambda _=None, sid=store_id: self.details.pop(sid, None))
        self.details[store_id] = window
        window.show()
        return window

    def open_beats(self) -> QWidget:
        """The Beats dialog (one at a time, not modal: the store list stays usable)."""
        from ..beats_dialog import BeatsDialog

        if self.beats_dialog is not None and shiboken6.isValid(self.beats_dialog):
            self.beats_dialog.show()
            self.beats_dialog.raise_()
            return self.beats_dialog
        dialog = BeatsDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.beats_dialog = dialog
        dialog.show()
        return dialog

    def open_first_store(self) -> QWidget:
        """For the self-test: open the first store in the list."""
        window = self.open_row(0)
        if window is None:
            raise RuntimeError("the store list is empty")
        return window

    # ---- shell hooks ------------------------------------------------------------------------
    def focus_search(self) -> bool:
        return focus_search_box(self.search)

    def save_state(self, settings: QSettings) -> None:
        self.save_layout(settings, header=self.table.horizontalHeader())

    def restore_state(self, settings: QSettings) -> None:
        self.restore_layout(settings, header=self.table.horizontalHeader())

    def self_test(self) -> None:
        if self.index is None:
            raise RuntimeError("the store index did not load")
        if self.model.rowCount() == 0:
            raise RuntimeError("no stores are listed")
        if self.model.row_at(0) is None:
            raise RuntimeError("the first page of stores did not arrive")
