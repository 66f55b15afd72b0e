"""Today (the call list) and Predictions (suggested order per store, accept into a draft).

Both only display results of Qt-free service functions (``forecasting.service``,
``orders.*``) run through ``ctx.runner``; no SQL on the UI thread. The reason of each line is
its tooltip (the "why" popover) and a column of its own.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...domain.changes import Changes
from ...domain.formatting import day, money, number
from ...security.roles import Identity
from ..context import AppContext
from ..errors import show_error
from ..forecast_refresher import refresher_for
from ..tablemodels import RIGHT, Column, RowsModel
from ..upsell_cache import upsell_cache_for
from ..workers import Written
from .base import View

FORECAST_TABLES = ("invoice_line", "orders", "order_line", "call_log", "prediction", "store_stats")
"""What Today reloads on; ``store_stats`` brings what a store owes after a collection."""
KEPT_WAIT_S = 5.0
"""The fresh list waits at most this long for the kept one to be on screen."""
SIZED_FROM_ROWS = 30
"""Today's columns are as wide as their widest text in this many rows (a screenful)."""
UPSELL_AFTER_MS = 400
"""Predictions asks for a store's upsell once its lines have been on screen this long."""


def _snooze(  # noqa: ANN201
    task,  # noqa: ANN001
    engine,  # noqa: ANN001
    store_id: uuid.UUID,
    until: dt.date,
    today: dt.date,
    agent_id: uuid.UUID | None,
    identity: Identity | None,
):
    from ...orders.calls import log_call

    log_call(
        engine,
        identity=identity,
        store=store_id,
        agent_id=agent_id,
        outcome="call_back",
        notes="snoozed from Today",
        next_call_date=until,
        today=today,
    )
    return Written(None, Changes.of("call_log"))


def _todays_calls(  # noqa: ANN201
    task,  # noqa: ANN001 - TaskContext
    engine,  # noqa: ANN001
    today: dt.date,
    agent_id: uuid.UUID | None,
    identity: Identity | None,
    kept_shown: threading.Event,
):
    """Today's fresh lists, on a worker, once the kept list is on screen (``kept_shown``; at
    most :data:`KEPT_WAIT_S` later). The forecasting service (numpy, pandas, the models) is
    imported here, not on the UI thread: the kept list is shown without it (issue 21)."""
    deadline = time.monotonic() + KEPT_WAIT_S
    while not kept_shown.wait(0.05) and time.monotonic() < deadline:
        task.check()  # closing the window cancels the wait
    from ...forecasting.service import todays_calls

    return todays_calls(engine, today=today, agent_id=agent_id, identity=identity)


def _table(parent: QWidget, model: RowsModel) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    # columns sized from the first rows, not from up to 1,000 (Qt's default): each row read is
    # an entry made and ten texts formatted on the UI thread, which held Today's first rows
    # back at 100,000 stores (issue 21); rows further down that are wider are elided
    view.horizontalHeader().setResizeContentsPrecision(SIZED_FROM_ROWS)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    view.setTabKeyNavigation(False)  # Tab moves on to the next control, not cell by cell
    return view


def _expected_order(e) -> str:  # noqa: ANN001 - CallListEntry
    if not e.value_is_money:  # a history without prices: the order in units
        return f"{number(e.expected_value)} units"
    return money(Decimal(str(round(e.expected_value))), paise=False)


def _chance_tip(e) -> str:  # noqa: ANN001 - CallListEntry
    return (
        f"{round(100 * e.chance_this_week)}% likely to order within 7 days, "
        f"{round(100 * e.chance_in_horizon)}% within {e.horizon_weeks} weeks (learned from "
        "stores with the same silence and rhythm). The expected order already counts the "
        f"chance: lines the store usually takes × their chance × price"
    )


def _last_order(e) -> str:  # noqa: ANN001 - CallListEntry
    if e.last_order is None:
        return "never"
    return f"{day(e.last_order)} ({e.days_since_order} days ago)"


def _usual(e) -> str:  # noqa: ANN001 - CallListEntry
    return f"{e.usual_every_days:.0f} days" if e.usual_every_days else ""


def _balance(e) -> str:  # noqa: ANN001 - CallListEntry
    return "" if e.outstanding_balance is None else money(e.outstanding_balance, paise=False)


class TodayView(View):
    view_id = "today"
    title = "Today"
    icon_name = "today"
    description = (
        "Stores to call, ranked by their chance to order this week × √(expected order); "
        "stores gone quiet on a separate Win-back list."
    )

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._request = 0
        self._fresh_shown = False  # the kept list (today_snapshot) shows only until then
        self.rows: list = []
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)  # a note on how the chances were worked out may follow
        self.refresh_button = QPushButton("Update forecasts", self)
        self.snooze_button = QPushButton("Snooze 3 days", self)
        self.visit_button = QPushButton("&Call…", self)
        self.visit_button.setObjectName("todayCall")
        self.visit_button.setToolTip(
            "The call screen for the selected store: order, no-order reason, shelf stock, "
            "payment and next call in one save (Enter or Ctrl+N)"
        )
        self.suggested_button = QPushButton("&Suggested order", self)
        self.suggested_button.setToolTip("What this store will likely need, line by line (Alt+S)")
        self.order_button = QPushButton("New order", self)
        self.order_button.setToolTip("Take an order from the selected store")
        self.call_button = QPushButton("Log call…", self)
        self.call_button.setToolTip("A call that ended without an order: outcome, notes, next call")
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.progress)
        bar.addWidget(self.visit_button)
        bar.addWidget(self.suggested_button)
        bar.addWidget(self.order_button)
        bar.addWidget(self.call_button)
        bar.addWidget(self.snooze_button)
        bar.addWidget(self.refresh_button)
        layout.addLayout(bar)
        self.model = RowsModel(
            [
                Column("rank", "#", lambda e: str(e.rank + 1), RIGHT),
                Column("store", "Store", lambda e: e.store_name),
                Column("locality", "Locality", lambda e: e.locality or ""),
                Column("phone", "Phone", lambda e: e.phone or ""),
                Column(
                    "chance",
                    "Orders this week",
                    lambda e: f"{round(100 * e.chance_this_week)}%",
                    RIGHT,
                    tooltip=lambda e: _chance_tip(e),
                ),
                Column(
                    "value",
                    "Expected order",
                    _expected_order,
                    RIGHT,
                    tooltip=lambda e: _chance_tip(e),
                ),
                Column("last", "Last order", _last_order, RIGHT),
                Column("usual", "Usually every", _usual, RIGHT),
                Column("balance", "Outstanding", _balance, RIGHT),
                Column("note", "Note", lambda e: e.reason, tooltip=lambda e: e.reason),
            ],
            self,
        )
        self.table = _table(self, self.model)
        self.table.setObjectName("todayTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        from ..beats_panel import TodaysBeatPanel  # a panel of its own: the beat of the day

        self.beat_panel = TodaysBeatPanel(ctx, self)
        layout.addWidget(self.beat_panel.beside(self.table), 3)
        self.win_back_label = QLabel(
            "<b>Win back</b> — silent for more than three of their usual intervals: "
            "a call to find out why, not an order to expect",
            self,
        )
        self.win_back_label.setWordWrap(True)  # a long caption must not widen the window
        layout.addWidget(self.win_back_label)
        self.win_back_rows: list = []
        self.win_back_model = RowsModel(
            [
                Column("store", "Store", lambda e: e.store_name),
                Column("locality", "Locality", lambda e: e.locality or ""),
                Column("phone", "Phone", lambda e: e.phone or ""),
                Column("last", "Last order", _last_order, RIGHT),
                Column("usual", "Usually every", _usual, RIGHT),
                Column(
                    "chance",
                    "Orders in 8 weeks",
                    lambda e: f"{round(100 * e.chance_in_horizon)}%",
                    RIGHT,
                    tooltip=lambda e: _chance_tip(e),
                ),
                Column("value", "Expected order", _expected_order, RIGHT),
                Column("balance", "Outstanding", _balance, RIGHT),
                Column("why", "Why", lambda e: e.reason, tooltip=lambda e: e.reason),
            ],
            self,
        )
        self.win_back_table = _table(self, self.win_back_model)
        self.win_back_table.setObjectName("winBackTable")
        self.win_back_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        layout.addWidget(self.win_back_table, 1)
        # the buttons act on the row last chosen, in either list
        self._chosen_table = self.table
        for table in (self.table, self.win_back_table):
            table.selectionModel().currentRowChanged.connect(
                lambda _cur, _prev, t=table: self._choose(t)
            )
            table.activated.connect(lambda _index: self.open_call())
        self.refresh_button.clicked.connect(self.update_forecasts)
        self.snooze_button.clicked.connect(self.snooze_selected)
        self.visit_button.clicked.connect(lambda: self.open_call())
        self.suggested_button.clicked.connect(self.show_suggested_order)
        self.order_button.clicked.connect(self.new_order)
        self.call_button.clicked.connect(lambda: self.log_call())
        self._asked = False  # the user pressed the button (errors then get a dialog)
        self._forecast_note = ""  # why suggested orders are stale (kept across reloads)
        self.forecasts = refresher_for(ctx)
        self.forecasts.started.connect(self._forecast_started)
        self.forecasts.progress.connect(self._forecast_progress)
        self.forecasts.finished.connect(self._forecast_finished)
        self.forecasts.failed.connect(self._forecast_failed)
        if self.forecasts.running:  # an automatic run began before this view existed
            self._forecast_started()

    def activated(self) -> None:
        self.load()

    def on_changes(self, changes: Changes) -> None:
        if changes.touches(*FORECAST_TABLES):
            self.load()

    def load(self) -> None:
        from ...forecasting.today_snapshot import snapshot_key

        self._request += 1
        request = self._request
        today, agent, identity = self.ctx.today(), self.ctx.own_stores_only, self.ctx.identity
        key = snapshot_key(identity, agent)

        def done(calls) -> None:  # noqa: ANN001 - TodaysCalls
            if request != self._request or not shiboken6.isValid(self.table):
                return  # an older answer, or one arriving after the window closed
            self._fresh_shown = True
            self._keep(key, calls)
            keep = self.selected_store()
            self.rows = calls.to_call
            self.win_back_rows = calls.win_back
            self.model.set_rows(self.rows)
            self.win_back_model.set_rows(self.win_back_rows)
            if self.rows:  # a store is always selected, so Enter opens its suggested order
                at = calls.position(keep.store_id) if keep else None
                self.table.selectRow(at or 0)
                self._chosen_table = self.table
                focus = QApplication.focusWidget()
                if self.isVisible() and (focus is None or not self.isAncestorOf(focus)):
                    self.table.setFocus()
            falling = calls.falling
            text = f"{len(self.rows)} stores to call; {len(self.win_back_rows)} to win back"
            text += f"; {falling} ordering less" if falling else ""
            # chances the forecast run did not store were worked out now: say so and why
            text += f"\n{calls.note}" if calls.note else ""
            self.summary.setText(text + self._forecast_note)

        # asked for now (the work is under way, as the store figures keeper sees), started
        # once the kept list is on screen
        shown = threading.Event()
        if self._fresh_shown:
            shown.set()
        else:  # the kept list first, on screen before the fresh one is worked out
            self._show_kept(key, shown)
        self.ctx.runner.submit(
            _todays_calls,
            self.ctx.engine,
            today,
            agent,
            identity,
            shown,
            on_done=done,
            name="call list",
        )

    def _show_kept(self, key: str, shown: threading.Event) -> None:
        """The list this laptop worked out last (forecasting.today_snapshot), shown as such
        until the fresh one arrives: at 100,000 stores the fresh one takes seconds. ``shown``
        is set once the kept rows are on screen (or none are kept): the fresh list waits for
        it, since working it out meanwhile held the interpreter the screen needed to show the
        kept rows (issue 21)."""
        from ...forecasting.today_snapshot import load_snapshot

        def arrived(kept) -> None:  # noqa: ANN001 - TodaySnapshot | None
            if kept is None or self._fresh_shown or not shiboken6.isValid(self.table):
                shown.set()  # none kept, the fresh list came first, or the window closed
                return
            self.rows = kept.calls.to_call
            self.win_back_rows = kept.calls.win_back
            self.model.set_rows(self.rows)
            self.win_back_model.set_rows(self.win_back_rows)
            if self.rows:
                self.table.selectRow(0)
                self._chosen_table = self.table
            made = kept.made_at.astimezone().strftime("%d %b %H:%M")
            self.summary.setText(
                f"The list as of {made}: {kept.to_call_total} stores to call; "
                f"{kept.win_back_total} to win back. Updating…"
            )
            QTimer.singleShot(0, shown.set)  # once the rows are painted

        self.ctx.runner.submit(
            lambda _t, engine: load_snapshot(engine, key),
            self.ctx.engine,
            on_done=arrived,
            on_error=lambda _exc: shown.set(),
            name="call list kept",
        )

    def _keep(self, key: str, calls) -> None:  # noqa: ANN001 - TodaysCalls
        from ...forecasting.today_snapshot import save_snapshot

        self.ctx.runner.submit(
            lambda _t, engine: save_snapshot(engine, key, calls),
            self.ctx.engine,
            write=True,
            name="keep call list",
        )

    def update_forecasts(self) -> None:
        """Recompute now; the same run the app starts by itself after imports and syncs."""
        self._asked = True
        self.forecasts.run_now()

    def _forecast_started(self) -> None:
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.refresh_button.setEnabled(False)

    def _forecast_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(message)

    def _forecast_ended(self) -> None:
        self.progress.setVisible(False)
        self.refresh_button.setEnabled(True)
        self._asked = False

    def _forecast_finished(self, summary) -> None:  # noqa: ANN001 - ForecastSummary | None
        self._forecast_note = ""
        if self._asked and summary is not None:
            self.ctx.status(summary.describe())
        self._forecast_ended()

    def _forecast_failed(self, exc: BaseException) -> None:
        asked = self._asked
        self._forecast_ended()
        if asked:
            show_error(self, exc, "updating forecasts")
        else:
            self._forecast_note = f" · Suggested orders could not be updated: {exc}"
            self.summary.setText(self.summary.text().split(" · ")[0] + self._forecast_note)

    def _choose(self, table: QTableView) -> None:
        self._chosen_table = table

    def selected_store(self):  # noqa: ANN201
        """The chosen store: the selected row of the list last clicked (call or win back)."""
        table = self._chosen_table
        rows = table.selectionModel().selectedRows()
        row = rows[0].row() if rows else table.currentIndex().row()  # keys move the current row
        source = self.rows if table is self.table else self.win_back_rows
        return source[row] if 0 <= row < len(source) else None

    def _main_window(self):  # noqa: ANN202 - the MainWindow (views do not import it)
        main = self.window()
        return main if hasattr(main, "show_view") else None

    def show_suggested_order(self) -> None:
        """The call list's next step: this store's suggested order in Predictions."""
        entry, main = self.selected_store(), self._main_window()
        if entry is not None and main is not None:
            main.show_view("predictions").show_store(entry.store_id)

    def call_store_id(self) -> uuid.UUID | None:
        """The store Ctrl+N opens the call screen for."""
        entry = self.selected_store()
        return entry.store_id if entry is not None else None

    def open_call(self):  # noqa: ANN201 - CallScreen | None
        """Enter on a row: the call screen for that store."""
        entry, main = self.selected_store(), self._main_window()
        if entry is None or main is None:
            return None
        return main.new_call(entry.store_id)

    def new_order(self):  # noqa: ANN201 - OrderDialog | None
        entry, main = self.selected_store(), self._main_window()
        if entry is None or main is None:
            return None
        return main.show_view("orders").new_order(entry.store_id)

    def log_call(self):  # noqa: ANN201 - CallDialog | None
        """The call to the selected store, logged without an order."""
        from ..call_dialogs import CallDialog

        entry = self.selected_store()
        if entry is None:
            return None
        dialog = CallDialog(
            self.ctx, entry.store_id, entry.store_name, self, agent_id=self.ctx.agent_id
        )
        self.call_dialog = dialog
        dialog.open()
        return dialog

    def snooze_selected(self) -> None:
        entry = self.selected_store()
        if entry is None:
            return
        today = self.ctx.today()
        self.ctx.runner.submit(
            _snooze,
            self.ctx.engine,
            entry.store_id,
            today + dt.timedelta(days=3),
            today,
            self.ctx.agent_id,
            self.ctx.identity,
            write=True,
            on_error=self._snooze_failed,
            name="snooze",
        )

    def _snooze_failed(self, exc: BaseException) -> None:
        show_error(self, exc, "snoozing the store")

    def self_test(self) -> None:
        if self.model.rowCount() != len(self.rows):
            raise RuntimeError("call list not shown")


class PredictionsView(View):
    """Suggested order of the store chosen in the box, and its upsell underneath.

    Rule: Accept acts on exactly what is shown. Choosing a store clears the lines at once and
    disables Accept until *that* store's lines arrived (older answers are dropped by a request
    counter), and the order is made for the store whose lines are on screen. The lines come
    from a quick indexed read; the upsell (a search over the whole history) is asked for
    afterwards, through the per-forecast-run cache (:mod:`..upsell_cache`).
    """

    view_id = "predictions"
    title = "Predictions"
    icon_name = "predictions"
    description = "Suggested order per store with ranges and reasons; accept lines into an order."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._request = 0
        self.stores: list = []
        self.lines: list = []
        self.shown_store = None  # the StoreChoice whose lines are on screen (None: loading)
        self.upsell_items: list | None = None
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.store_box = QComboBox(self)
        self.store_box.setObjectName("predictionsStore")
        self.accept_button = QPushButton("&Accept into new order", self)
        self.accept_button.setObjectName("acceptSuggestions")
        self.accept_button.setToolTip(
            "All lines, or only the lines you selected; the new draft order opens"
        )
        self.accept_button.setEnabled(False)
        store_label = QLabel("&Store:", self)
        store_label.setBuddy(self.store_box)
        bar.addWidget(store_label)
        bar.addWidget(self.store_box, 1)
        bar.addWidget(self.accept_button)
        layout.addLayout(bar)
        self.state_label = QLabel("", self)
        self.state_label.setObjectName("predictionsState")
        layout.addWidget(self.state_label)
        self.model = RowsModel(
            [
                Column("product", "Product", lambda s: s.product_name),
                Column("qty", "Suggested", lambda s: str(s.quantity), RIGHT),
                Column("range", "Likely between", lambda s: f"{s.low:.0f}–{s.high:.0f}", RIGHT),
                Column(
                    "prob",
                    "Likely",
                    lambda s: "" if s.probability is None else f"{100 * s.probability:.0f}%",
                    RIGHT,
                ),
                Column("why", "Why", lambda s: s.reason, tooltip=lambda s: s.reason),
            ],
            self,
        )
        self.table = _table(self, self.model)
        self.table.setObjectName("predictionsLines")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        layout.addWidget(self.table, 3)
        layout.addWidget(QLabel("<b>Also worth offering</b>", self))
        self.upsell_label = QLabel("", self)
        self.upsell_label.setObjectName("predictionsUpsell")
        self.upsell_label.setWordWrap(True)
        layout.addWidget(self.upsell_label, 1)
        self.store_box.currentIndexChanged.connect(self.load_store)
        self.accept_button.clicked.connect(lambda: self.accept_lines())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_accept())
        self.upsell = upsell_cache_for(ctx)
        self.last_order = None
        self.last_dialog = None
        self._wanted: uuid.UUID | None = None  # asked for before the store list arrived

    def activated(self) -> None:
        if not self.stores:
            from ...orders.entry import store_choices

            agent, identity = self.ctx.own_stores_only, self.ctx.identity
            self.ctx.runner.submit(
                lambda _t, engine: store_choices(engine, agent_id=agent, identity=identity),
                self.ctx.engine,
                on_done=self._stores_arrived,
                name="stores",
            )

    def _stores_arrived(self, stores) -> None:  # noqa: ANN001
        self.stores = list(stores)
        self.store_box.blockSignals(True)
        self.store_box.clear()
        self.store_box.addItems([s.label for s in self.stores])  # one call, also for 100k
        self.store_box.blockSignals(False)
        if any(s.id == self._wanted for s in self.stores):
            self.show_store(self._wanted)  # type: ignore[arg-type]
        elif self.stores:
            self._wanted = None  # not among this person's stores
            if self.store_box.currentIndex() == 0:
                self.load_store(0)
            else:
                self.store_box.setCurrentIndex(0)
        else:
            self.state_label.setText("No stores to show.")

    def show_store(self, store_id: uuid.UUID) -> None:
        """Select ``store_id`` (now, or as soon as the store list has arrived)."""
        index = next((i for i, s in enumerate(self.stores) if s.id == store_id), None)
        if index is None:
            self._wanted = store_id
            return
        self._wanted = None
        if self.store_box.currentIndex() == index:
            self.load_store(index)
        else:
            self.store_box.setCurrentIndex(index)  # loads it

    def on_changes(self, changes: Changes) -> None:
        if changes.touches("store") and self.stores:  # new stores, or another person
            chosen = self.chosen_store()
            self._wanted = chosen.id if chosen else None
            self.stores = []
            self.activated()
        elif changes.touches("prediction", "store_stock_report") and self.stores:
            self.load_store(self.store_box.currentIndex())

    def chosen_store(self):  # noqa: ANN201 - StoreChoice | None
        index = self.store_box.currentIndex()
        return self.stores[index] if 0 <= index < len(self.stores) else None

    @property
    def loading(self) -> bool:
        return self.shown_store is None

    def load_store(self, index: int) -> None:
        """Show ``index``'s lines: the old ones go at once, Accept waits for the new ones."""
        from ...forecasting.service import suggested_order

        if index < 0 or index >= len(self.stores):
            return
        store = self.stores[index]
        identity = self.ctx.identity
        self._request += 1
        request = self._request
        self.shown_store = None
        self.lines = []
        self.model.set_rows([])
        self.upsell_items = None
        self.upsell_label.setText("")
        self.state_label.setText(f"Loading the suggested order of {store.label}…")
        self._update_accept()

        def done(lines) -> None:  # noqa: ANN001
            if request != self._request:
                return  # the person chose another store meanwhile
            self.lines = list(lines)
            self.shown_store = store
            self.model.set_rows(self.lines)
            n = len(self.lines)
            self.state_label.setText(
                f"{n} suggested line{'s' if n != 1 else ''} for {store.label}"
                if n
                else f"No suggested order for {store.label} yet (Today → Update forecasts)."
            )
            self._update_accept()
            self.upsell_label.setText("Looking for what similar stores buy…")
            # asked once the person stays on the store: flicking through stores starts no
            # search whose work would only slow the next store's lines down
            QTimer.singleShot(UPSELL_AFTER_MS, lambda: self._ask_upsell(request, store.id))

        self.ctx.runner.submit(
            lambda _t, engine: suggested_order(engine, store.id, identity=identity),
            self.ctx.engine,
            on_done=done,
            on_error=lambda exc: self._failed(request, exc),
            name="suggestions",
        )

    def _failed(self, request: int, exc: BaseException) -> None:
        if request == self._request:
            self.state_label.setText(f"The suggested order could not be read: {exc}")
            show_error(self, exc, "reading the suggested order")

    def _ask_upsell(self, request: int, store_id: uuid.UUID) -> None:
        if request == self._request and shiboken6.isValid(self.upsell_label):
            self.upsell.get(store_id, lambda items: self._upsell_arrived(request, items))

    def _upsell_arrived(self, request: int, items: list) -> None:
        # the search outlives a closed window: its answer then has nowhere to go
        if request != self._request or not shiboken6.isValid(self.upsell_label):
            return
        self.upsell_items = items
        self.upsell_label.setText(
            "<br>".join(f"{u.product_name} — {u.evidence}" for u in items)
            or "Nothing to suggest yet."
        )

    def chosen_lines(self) -> list:
        """The selected lines, or all lines when none is selected (zero quantities left out)."""
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        chosen = [self.lines[r] for r in rows if r < len(self.lines)] if rows else self.lines
        return [s for s in chosen if s.quantity > 0]

    def _update_accept(self) -> None:
        chosen = self.chosen_lines() if not self.loading else []
        n = len(chosen)
        selected = bool(self.table.selectionModel().selectedRows())
        lines = f"{n} line{'s' if n != 1 else ''}"
        self.accept_button.setText(
            f"&Accept {lines if selected else f'all {lines}'} into new order"
            if n
            else "&Accept into new order"
        )
        self.accept_button.setEnabled(bool(n) and not self.loading)

    def accept_lines(self) -> None:
        """A draft order for the shown store with the chosen lines, opened for editing."""
        from ...orders.model import OrderDraft, Suggestion
        from ...orders.service import save_draft

        store, chosen = self.shown_store, self.chosen_lines()
        current = self.chosen_store()
        if store is None or current is None or current.id != store.id or not chosen:
            return  # still loading the chosen store's lines (the button is disabled)
        agent = self.ctx.order_agent(store.agent_id)
        if agent is None:
            show_error(self, ValueError("This store has no agent; assign one first."), "accepting")
            return
        suggestions = [
            Suggestion(s.product_id, s.quantity, s.prediction_id, s.reason) for s in chosen
        ]
        draft = OrderDraft(
            store=store.id,
            agent_id=agent,
            lines=[s.line() for s in suggestions],
            suggestions=suggestions,
        )
        today, who = self.ctx.today(), self.ctx.identity
        self.accept_button.setEnabled(False)

        def write(_task, engine):  # noqa: ANN001, ANN202
            result = save_draft(engine, draft, identity=who, today=today)
            return Written(result, Changes.of("orders", "order_line"))

        def done(result) -> None:  # noqa: ANN001
            self.last_order = result.value
            n = len(chosen)
            self.ctx.status(
                f"Draft order {result.value.number} created for {store.name} with {n} "
                f"line{'s' if n != 1 else ''}"
            )
            self._update_accept()
            main = self.window()
            if hasattr(main, "show_view"):
                self.last_dialog = main.show_view("orders").open_order(result.value.order_id)

        def failed(exc: BaseException) -> None:
            self._update_accept()
            show_error(self, exc, "creating the order")

        self.ctx.runner.submit(
            write,
            self.ctx.engine,
            write=True,
            on_done=done,
            on_error=failed,
            name="accept suggestions",
        )


class UpsellPanel(QWidget):
    """Store detail's Upsell tab: what similar stores buy and this one does not, with evidence.

    Loads the first time it is shown (similar-store search reads the whole history).
    """

    def __init__(self, ctx: AppContext, store_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.store_id = store_id
        self.items: list | None = None
        self.model = RowsModel(
            [
                Column("product", "Product", lambda u: u.product_name),
                Column("evidence", "Why", lambda u: u.evidence),
            ],
            self,
        )
        layout = QVBoxLayout(self)
        self.table = _table(self, self.model)
        layout.addWidget(self.table)

    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        super().showEvent(event)
        if self.items is None:
            self.items = []
            self.load()

    def load(self) -> None:
        def done(items) -> None:  # noqa: ANN001
            if shiboken6.isValid(self.model):
                self.items = list(items)
                self.model.set_rows(self.items)

        upsell_cache_for(self.ctx).get(self.store_id, done, latest_only=False)
