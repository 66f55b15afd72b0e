"""Keeps suggested orders current: recompute in the background after each import or sync.

An agent who imports an invoice export or whose laptop just pulled new invoices should not have
to remember "Update forecasts" before the next call. The refresher listens to the task runner's
change bus; when invoices changed it waits a moment (an import or a pull emits several changes in
a burst), then runs :func:`~mangalm_desktop.forecasting.service.run_forecast` on the single
writer — which recomputes only the stores whose inputs changed. A request that arrives while a
run is going is remembered and served by one more run afterwards, never by two at once.
Automatic runs keep a minimum gap (:data:`MIN_GAP_S`) so frequent syncs do not refit all day.
Its own result touches only ``prediction``, so it cannot trigger itself.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from ..domain.changes import Changes
from .context import AppContext
from .workers import Worker, Written

if TYPE_CHECKING:
    from ..forecasting.service import ForecastSummary

TRIGGER_TABLES = ("invoice", "invoice_line")
"""New or changed sales history: the only input worth a full refit automatically. Orders,
calls and shelf counts are picked up by the next run (or "Update forecasts")."""

SETTLE_MS = 1500
"""How long the change bus must stay quiet before a run starts."""

MIN_GAP_S = 15 * 60
"""Automatic runs start at most this often: a refit learns from all the history (about a minute
of CPU on a large one), and a laptop syncing every few minutes must not spend its battery on it.
The first automatic run, the button and ``mangalm forecast`` are never held back."""


def run_forecast_task(task, engine, today, identity):  # noqa: ANN001, ANN201 - TaskContext, Engine, date, Identity
    from ..forecasting.service import run_forecast

    return Written(
        run_forecast(engine, task, today=today, identity=identity), Changes.of("prediction")
    )


class ForecastRefresher(QObject):
    """One per window context; the Today view's button and the automatic trigger share it."""

    started = Signal()
    progress = Signal(int, int, str)
    finished = Signal(object)  # ForecastSummary
    failed = Signal(object)  # the exception (shown by whoever listens)

    def __init__(
        self, ctx: AppContext, settle_ms: int = SETTLE_MS, min_gap_s: float = MIN_GAP_S
    ) -> None:
        super().__init__(ctx.runner)
        self.ctx = ctx
        self.settle_ms = settle_ms
        self.min_gap_s = min_gap_s
        self._last_start: float | None = None  # time.monotonic() of the last run
        self.worker: Worker | None = None
        self.pending = False
        self.runs = 0
        self.last_summary: object | None = None
        self.settle_timer = QTimer(self)
        self.settle_timer.setSingleShot(True)
        self.settle_timer.timeout.connect(self.run_now)
        self._watching = False

    @property
    def running(self) -> bool:
        return self.worker is not None

    def watch(self) -> None:
        """Start recomputing automatically after imports and syncs (the app calls this once)."""
        if not self._watching:
            self.ctx.runner.changed.connect(self._on_changes)
            self._watching = True

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches(*TRIGGER_TABLES):
            self.request()

    def request(self) -> None:
        """Recompute soon: after the change bus settles (and the minimum gap since the last run
        has passed), or after the run in progress."""
        if self.running:
            self.pending = True
            return
        wait_ms = self.settle_ms
        if self._last_start is not None:
            left_s = self.min_gap_s - (time.monotonic() - self._last_start)
            wait_ms = max(wait_ms, int(left_s * 1000))
        self.settle_timer.start(wait_ms)

    def run_now(self) -> None:
        """Recompute now (the Today view's button), or right after the run in progress."""
        self.settle_timer.stop()
        if self.running:
            self.pending = True
            return
        if self.ctx.engine is None:
            return  # the database is still opening; database_ready() triggers the views
        self.pending = False
        self.runs += 1
        self._last_start = time.monotonic()
        self.started.emit()
        self.worker = self.ctx.runner.submit(
            run_forecast_task,
            self.ctx.engine,
            self.ctx.today(),
            self.ctx.identity,
            write=True,
            on_done=self._done,
            on_error=self._failed,
            on_cancelled=self._cancelled,
            on_progress=self.progress.emit,
            name="updating suggested orders",
        )

    def cancel(self) -> None:
        self.settle_timer.stop()
        self.pending = False
        if self.worker is not None:
            self.worker.cancel()

    def _done(self, result: Written) -> None:
        self.worker = None
        self.last_summary = result.value
        self.finished.emit(result.value)
        self._again()

    def _failed(self, exc: BaseException) -> None:
        self.worker = None
        self.failed.emit(exc)
        self._again()

    def _cancelled(self) -> None:
        self.worker = None
        self.finished.emit(None)

    def _again(self) -> None:
        if self.pending:
            self.pending = False
            self.request()


_refreshers: dict[int, ForecastRefresher] = {}


def refresher_for(ctx: AppContext) -> ForecastRefresher:
    """The context's refresher, created on first use (views and the app share one)."""
    found = _refreshers.get(id(ctx))
    if found is None or found.ctx is not ctx:
        found = _refreshers[id(ctx)] = ForecastRefresher(ctx)
    return found


def start_forecast_refresher(window, ctx: AppContext) -> ForecastRefresher:  # noqa: ANN001
    """Called once by the app with the main window: automatic runs, reported in the status bar."""
    refresher = refresher_for(ctx)
    bar = window.statusBar()
    refresher.progress.connect(
        lambda _done, _total, message: bar.showMessage(f"Updating suggested orders: {message}")
    )

    def finished(summary: ForecastSummary | None) -> None:
        if summary is not None:
            ctx.status(summary.describe())

    refresher.finished.connect(finished)
    refresher.failed.connect(
        lambda exc: bar.showMessage(f"Suggested orders could not be updated: {exc}", 15000)
    )
    refresher.watch()
    return refresher
