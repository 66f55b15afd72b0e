"""The Sync view: connection, "Sync now" with progress and a time estimate, history, conflicts.

Conflicts show "yours" next to "central" field by field; the user keeps one. Everything that
touches the database or the network runs in workers; the view only shows results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from ...domain.changes import Changes
from ...domain.tasks import TaskContext
from ...sync.conflicts import ConflictItem, list_conflicts, resolve
from ...sync.connection import connect, load_config
from ...sync.handover import can_hand_over, hand_over
from ...sync.scheduler import SyncStatus
from ...sync.service import SyncReport
from ...sync.state import history
from ..context import AppContext
from ..sync_controller import controller_for
from .base import View

HISTORY_COLUMNS = ("Started", "Result", "Sent", "Parked", "Received", "Seconds", "Message")


@dataclass(frozen=True)
class SyncPageData:
    history: list[dict]
    conflicts: list[ConflictItem]


def load_page(_ctx: TaskContext, engine: Engine) -> SyncPageData:
    return SyncPageData(list(reversed(history(engine))), list_conflicts(engine))


def resolve_conflict(_ctx: TaskContext, engine: Engine, seq: int, choice: str) -> Changes:
    cfg = load_config()
    with connect(cfg) as pg:
        resolve(engine, pg, seq, choice)
    return Changes.of("orders", "order_line", "outbox")


def hand_over_order(_ctx: TaskContext, engine: Engine, seq: int) -> Changes:
    cfg = load_config()
    with connect(cfg) as pg:
        hand_over(engine, pg, seq)
    return Changes.of("orders", "order_line", "outbox")


def eta_text(done: int, total: int, elapsed: float) -> str:
    """ "about 40 s left" from the rate so far; nothing until there is a rate to go by."""
    if done <= 0 or total <= done or elapsed < 0.5:
        return ""
    left = (total - done) * elapsed / done
    if left < 60:
        return f"about {max(1, round(left))} s left"
    return f"about {round(left / 60)} min left"


class SyncView(View):
    view_id = "sync"
    title = "Sync"
    icon_name = "sync"
    description = "Connection to the central server, sync history and conflicts to resolve."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.controller = controller_for(ctx)
        self.conflicts: list[ConflictItem] = []
        self._request = 0
        self._progress_started = 0.0

        self.server_label = QLabel(self)
        self.server_label.setObjectName("syncServer")
        self.status_label = QLabel(self)
        self.status_label.setObjectName("syncStatus")
        self.settings_button = QPushButton("Connection settings…", self)
        self.settings_button.clicked.connect(self.open_settings)
        self.sync_button = QPushButton("Sync now", self)
        self.sync_button.setObjectName("syncNow")
        self.sync_button.clicked.connect(self.sync_now)
        top = QHBoxLayout()
        top.addWidget(self.server_label, 1)
        top.addWidget(self.settings_button)
        top.addWidget(self.sync_button)

        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.eta = QLabel(self)

        self.history = QTableWidget(0, len(HISTORY_COLUMNS), self)
        self.history.setObjectName("syncHistory")
        self.history.setHorizontalHeaderLabels(list(HISTORY_COLUMNS))
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.horizontalHeader().setStretchLastSection(True)

        self.conflict_list = QListWidget(self)
        self.conflict_list.setObjectName("conflictList")
        self.conflict_list.currentRowChanged.connect(self._show_conflict)
        self.conflict_message = QLabel(self)
        self.conflict_message.setWordWrap(True)
        self.compare = QTableWidget(0, 3, self)
        self.compare.setObjectName("conflictCompare")
        self.compare.setHorizontalHeaderLabels(["Field", "Yours", "Central"])
        self.compare.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.compare.horizontalHeader().setStretchLastSection(True)
        self.keep_mine = QPushButton("Keep mine (send again)", self)
        self.keep_mine.setObjectName("keepMine")
        self.keep_mine.clicked.connect(lambda: self._resolve("mine"))
        self.take_theirs = QPushButton("Take central version", self)
        self.take_theirs.setObjectName("takeTheirs")
        self.take_theirs.clicked.connect(lambda: self._resolve("theirs"))
        self.hand_over = QPushButton("Hand over to the store's agent", self)
        self.hand_over.setObjectName("handOver")
        self.hand_over.setToolTip(
            "The store was moved to another agent: give this order to that agent "
            "(it then leaves this computer)"
        )
        self.hand_over.clicked.connect(self._hand_over)
        detail = QWidget(self)
        dl = QVBoxLayout(detail)
        dl.addWidget(self.conflict_message)
        dl.addWidget(self.compare, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.hand_over)
        buttons.addWidget(self.keep_mine)
        buttons.addWidget(self.take_theirs)
        dl.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.conflict_list)
        split.addWidget(detail)
        split.setStretchFactor(1, 2)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.history, "History")
        self.tabs.addTab(split, "Conflicts")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.eta)
        layout.addWidget(self.tabs, 1)

        self.controller.status_changed.connect(self._on_status)
        self.controller.progress.connect(self._on_progress)
        self.controller.finished.connect(self._on_finished)
        self._on_status(self.controller.status)
        self._show_conflict(-1)

    # ---- data ----------------------------------------------------------------------------
    def activated(self) -> None:
        self.reload()

    def on_changes(self, changes: Changes) -> None:
        if changes.touches("outbox", "sync_state", "orders"):
            self.reload()

    def reload(self) -> None:
        self._request += 1
        request = self._request
        self.ctx.runner.submit(
            load_page,
            self.ctx.engine,
            on_done=lambda data: self._apply(request, data),
            name="sync history",
        )

    def _apply(self, request: int, data: SyncPageData) -> None:
        if request != self._request:
            return  # an older answer
        self.history.setRowCount(len(data.history))
        for row, entry in enumerate(data.history):
            result = "OK" if entry.get("ok") else ("Offline" if entry.get("offline") else "Error")
            values = (
                str(entry.get("started_at", "")),
                result,
                str(entry.get("pushed", 0)),
                str(entry.get("parked", 0)),
                f"{entry.get('pulled', 0):,}",
                f"{entry.get('seconds', 0):.1f}",
                str(entry.get("error", "")),
            )
            for col, value in enumerate(values):
                self.history.setItem(row, col, QTableWidgetItem(value))
        self.conflicts = data.conflicts
        self.conflict_list.clear()
        for item in data.conflicts:
            label = item.mine.get("order", item.mine).get("number") or str(item.row_id)[:8]
            QListWidgetItem(f"{item.table_name} {label}: {item.kind}", self.conflict_list)
        self.tabs.setTabText(1, f"Conflicts ({len(data.conflicts)})")
        self.conflict_list.setCurrentRow(0 if data.conflicts else -1)
        self._show_conflict(self.conflict_list.currentRow())

    # ---- conflicts ----------------------------------------------------------------------
    def _show_conflict(self, row: int) -> None:
        item = self.conflicts[row] if 0 <= row < len(self.conflicts) else None
        self.keep_mine.setEnabled(bool(item and item.can_keep_mine))
        self.take_theirs.setEnabled(item is not None)
        self.hand_over.setEnabled(bool(item and can_hand_over(item)))
        if item is None:
            self.conflict_message.setText("No conflicts." if not self.conflicts else "")
            self.compare.setRowCount(0)
            return
        self.conflict_message.setText(item.message)
        diffs = list(item.differences())
        for d in item.line_differences():  # an order's lines: quantity per product, "-" = none
            diffs.append(
                (
                    f"line {d.product} {d.name}".rstrip(),
                    "-" if d.mine_qty is None else d.mine_qty,
                    "-" if d.theirs_qty is None else d.theirs_qty,
                )
            )
        self.compare.setRowCount(len(diffs))
        for r, (field, mine, theirs) in enumerate(diffs):
            for c, value in enumerate((field, mine, theirs)):
                self.compare.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))

    def _resolve(self, choice: str) -> None:
        row = self.conflict_list.currentRow()
        if not 0 <= row < len(self.conflicts):
            return
        seq = self.conflicts[row].seq
        self.keep_mine.setEnabled(False)
        self.take_theirs.setEnabled(False)
        self.ctx.runner.submit(
            resolve_conflict,
            self.ctx.engine,
            seq,
            choice,
            write=True,
            on_done=self._after_resolve,
            on_error=self._resolve_failed,
            name="resolve conflict",
        )

    def _after_resolve(self, _result: object) -> None:
        self.controller.scheduler.refresh_counts()
        self.reload()

    def _hand_over(self) -> None:
        row = self.conflict_list.currentRow()
        if not 0 <= row < len(self.conflicts):
            return
        for button in (self.hand_over, self.keep_mine, self.take_theirs):
            button.setEnabled(False)
        self.ctx.runner.submit(
            hand_over_order,
            self.ctx.engine,
            self.conflicts[row].seq,
            write=True,
            on_done=self._after_resolve,
            on_error=self._resolve_failed,
            name="hand over order",
        )

    def _resolve_failed(self, exc: BaseException) -> None:
        from ..errors import show_error

        show_error(self, exc, "settling the conflict")
        self.reload()

    # ---- sync ---------------------------------------------------------------------------
    def open_settings(self) -> None:
        from ..sync_settings_dialog import CentralSettingsDialog

        dialog = CentralSettingsDialog(self.ctx.runner, self)
        if dialog.exec():
            self.controller.reload_config()
            self._audit_connection_change(dialog.config())

    def _audit_connection_change(self, cfg) -> None:  # noqa: ANN001 - CentralConfig
        """Record who changed the central connection to what (never the password)."""
        from ...security.session import record_setting_change

        identity = self.ctx.identity
        who = f"desktop:{identity.username}" if identity is not None else "desktop"
        value = {k: getattr(cfg, k) for k in ("host", "port", "database", "user", "sslmode")}
        self.ctx.runner.submit(
            record_setting_change,
            self.ctx.engine,
            who,
            "central_connection",
            value,
            identity=identity,
            connection=True,
            write=True,
            name="audit connection change",
        )

    def sync_now(self) -> None:
        self._progress_started = time.monotonic()
        self.controller.sync_now()

    def _on_status(self, status: SyncStatus) -> None:
        cfg = self.controller.config
        self.server_label.setText(
            f"Central server: {cfg.user}@{cfg.host}/{cfg.database}"
            if cfg.configured
            else "No central server set up: this computer works on its own."
        )
        self.sync_button.setEnabled(cfg.configured and not status.running)
        self.status_label.setText(
            status.text() + (f" — {status.last_error}" if status.last_error else "")
        )
        busy = status.running or status.preparing
        if busy and not self.progress.isVisible():
            self._progress_started = time.monotonic()
            self.progress.setRange(0, 0)
            self.progress.setVisible(True)
        if not busy:
            self.progress.setVisible(False)
            self.eta.setText("")

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        left = eta_text(done, total, time.monotonic() - self._progress_started)
        self.eta.setText(f"{message}: {done:,} of {total:,}" + (f" — {left}" if left else ""))

    def _on_finished(self, _report: SyncReport) -> None:
        self.reload()

    def self_test(self) -> None:
        if self.history.columnCount() != len(HISTORY_COLUMNS):
            raise RuntimeError("sync history table is not set up")
