"""Keeps the store list's figures (last order, sales of 12 months) current in the background.

The figures live in ``store_stats`` (``db/search.py``). Triggers note which stores' invoices
changed — an import, a sync, the CLI while the app was closed — and this keeper, listening on
the change bus, recomputes just those stores on the single writer shortly after a write
settles. When the date moved on (the laptop opened the next morning), every store is
recomputed, also in the background: the first view shows yesterday's figures at once and the
status bar says they are being updated. Either way it announces ``store_stats`` on the change
bus, and the views that show figures reload. A request during a run is served by one more run.
The same run brings Today's per-(store, day) sums (``db/day_sales.py``) up to date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QStatusBar
from shiboken6 import isValid

from ..domain.changes import Changes
from .context import AppContext
from .workers import Written

SETTLE_MS = 300
"""How long the change bus must stay quiet before a refresh (an import emits in bursts)."""

TRIGGER_TABLES = ("invoice", "invoice_line", "store", "payment", "payment_allocation")

MAX_DEFERS = 20
"""A refresh waits (up to this many settle periods) while other work runs, so the first
view's reads do not share the two cores of a laptop with a recomputation of every store."""


def refresh_figures(_task: Any, engine: Any, today: dt.date) -> Written:
    """Worker side: the least work that brings the figures up to date; what was stale.
    A database without the search tables (made by hand, not by ``open_database``) has no
    figures to keep: nothing to do, not a traceback."""
    from sqlalchemy import inspect

    from ..db import day_sales
    from ..db.search import refresh_stale_store_stats
    from ..db.store_expected import refresh_store_expected

    if not inspect(engine).has_table("search_meta"):
        return Written("current", Changes.of())

    stale = refresh_stale_store_stats(engine, today)
    # Today's per-(store, day) sums and per-store expected orders too, so its next load after
    # an import, a sync or a price change finds them current
    day_sales.refresh(engine)
    with engine.begin() as conn:
        refresh_store_expected(conn)
    changes = Changes.of() if stale == "current" else Changes.of("store_stats")
    return Written(stale, changes)


class StoreFiguresKeeper(QObject):
    """One per main window; :meth:`request` after the database opened and on every change."""

    finished = Signal(str)  # what was stale: "current", "stores" or "date"

    def __init__(
        self,
        ctx: AppContext,
        status_bar: QStatusBar | None = None,
        parent: QObject | None = None,
        settle_ms: int = SETTLE_MS,
    ) -> None:
        super().__init__(parent or ctx.runner)
        self.ctx = ctx
        self.status_bar = status_bar
        self.message = ""
        self.running = False
        self.pending = False
        self.deferred = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(settle_ms)
        self.timer.timeout.connect(self.run_now)
        ctx.runner.changed.connect(self._on_changes)

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches(*TRIGGER_TABLES):
            self.request()

    def request(self) -> None:
        if self.running:
            self.pending = True
        else:
            self.timer.start()

    def run_now(self) -> None:
        self.timer.stop()
        engine = self.ctx.engine
        if engine is None or self.running:
            self.pending = self.running
            return
        if self.ctx.runner.running > 0 and self.deferred < MAX_DEFERS:
            self.deferred += 1  # the views are loading: after them
            self.timer.start()
            return
        self.deferred = 0
        self.running = True
        self.pending = False
        today = self.ctx.today()
        self._show(f"Updating store figures for {today:%d %b %Y}…")
        self.ctx.runner.submit(
            refresh_figures,
            engine,
            today,
            write=True,
            on_done=self._done,
            on_error=self._failed,
            on_cancelled=self._ended,
            name="updating store figures",
        )

    def _bar(self) -> QStatusBar | None:
        """The status bar, unless its window closed while a refresh was running."""
        return self.status_bar if self.status_bar is not None and isValid(self.status_bar) else None

    def _show(self, text: str, timeout_ms: int = 0) -> None:
        if self._bar() is not None:
            self.status_bar.showMessage(text, timeout_ms)  # type: ignore[union-attr]
        self.message = text

    def _done(self, result: Written) -> None:
        self._ended()
        if isValid(self):  # its window may have closed meanwhile
            self.finished.emit(str(result.value))

    def _failed(self, exc: BaseException) -> None:
        self._ended()
        self._show(f"Store figures could not be updated: {exc}", 15000)

    def _ended(self) -> None:
        bar = self._bar()
        if bar is not None and bar.currentMessage() == self.message:
            bar.clearMessage()  # another message shown since then stays
        self.message = ""
        self.running = False
        if self.pending and isValid(self):
            self.pending = False
            self.timer.start()
