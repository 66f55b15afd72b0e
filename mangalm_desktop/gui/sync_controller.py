"""The GUI side of background sync: a QTimer that feeds due runs to the one writer.

Every :data:`TICK_MS` a QTimer asks the Qt-free :class:`SyncScheduler` whether a run is due
(wall clock or monotonic clock, so a run missed while the laptop slept or the clock jumped
runs at the next tick, never dropped) and submits it to the TaskRunner's write queue: the
sync writes the laptop database on the same single writer thread as every other write of
the GUI, never beside it. Its callbacks are re-emitted as Qt signals, which reach slots on
the UI thread queued, so the UI never waits for the network or a sync's SQLite work.
One controller per app context (``controller_for``); the status bar and the Sync view share it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from ..domain.changes import EVERYTHING, Changes
from ..domain.tasks import TaskContext
from ..sync.connection import CentralConfig, connect, load_config
from ..sync.scheduler import SyncScheduler, SyncStatus
from ..sync.service import SyncReport
from .context import AppContext
from .workers import Worker

log = logging.getLogger(__name__)

_controllers: dict[int, SyncController] = {}

TICK_MS = 5_000  # how often the timer asks whether a sync is due (cheap: no I/O)


class SyncController(QObject):
    status_changed = Signal(object)  # SyncStatus
    progress = Signal(int, int, str)
    finished = Signal(object)  # SyncReport

    def __init__(
        self,
        ctx: AppContext,
        parent: QObject | None = None,
        *,
        tick_ms: int = TICK_MS,
        **scheduler_options,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.config = self._load()
        self.scheduler = SyncScheduler(
            ctx.engine,
            self._connector,
            interval_minutes=self.config.sync_minutes or 5,
            on_status=self.status_changed.emit,
            on_progress=self.progress.emit,
            on_report=self.finished.emit,
            **scheduler_options,
        )
        self.finished.connect(self._after_sync)
        self._started = False
        self._worker: Worker | None = None  # the queued or running sync, if any
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    @staticmethod
    def _load() -> CentralConfig:
        try:
            return load_config()
        except Exception:  # damaged settings: run standalone, the dialog shows the error
            log.exception("could not read the connection settings")
            return CentralConfig()

    def _connector(self):
        cfg = self.config
        if not cfg.configured:
            return None
        return lambda: connect(cfg)

    @property
    def status(self) -> SyncStatus:
        return self.scheduler.status

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.scheduler.start()
            self.timer.start()

    def sync_now(self) -> None:
        self.start()
        self.scheduler.sync_now()
        self.tick()

    def tick(self) -> None:
        """Submit a due run to the single writer unless one is queued or running."""
        if self._worker is not None or not self.scheduler.due():
            return
        self._worker = self.ctx.runner.submit(
            self._run,
            write=True,
            on_done=self._ran,
            on_error=self._ran,
            on_cancelled=lambda: self._ran(None),
            on_progress=self.progress.emit,
            name="sync",
        )

    def _run(self, task: TaskContext) -> SyncReport | None:  # the writer thread
        return self.scheduler.run_once(task)

    def _ran(self, _result: object) -> None:
        self._worker = None

    def reload_config(self) -> None:
        """After the settings dialog saved: new server, new interval, sync at once."""
        self.config = self._load()
        self.scheduler.set_interval(self.config.sync_minutes or 5)
        self.sync_now()

    def shutdown(self) -> None:
        self.timer.stop()
        if self._worker is not None:
            self._worker.cancel()
        self.scheduler.shutdown()
        _controllers.pop(id(self.ctx), None)

    def _after_sync(self, report: SyncReport) -> None:
        if report.pulled or report.pushed or report.parked:
            changes = EVERYTHING if report.pulled else Changes.of("orders", "order_line")
            self.ctx.runner.changed.emit(changes | Changes.of("outbox", "sync_state"))
        else:
            self.ctx.runner.changed.emit(Changes.of("sync_state"))


def controller_for(ctx: AppContext) -> SyncController:
    ctrl = _controllers.get(id(ctx))
    if ctrl is None:
        ctrl = _controllers[id(ctx)] = SyncController(ctx)
    return ctrl


def status_tooltip(status: SyncStatus) -> str:
    lines = [status.text()]
    if status.last_error:
        lines.append(f"Last error: {status.last_error}")
    if status.next_run:
        lines.append(f"Next sync: {status.next_run.astimezone().strftime('%H:%M:%S')}")
    return "\n".join(lines)


def start_background_sync(window, ctx: AppContext) -> SyncController:
    """Called once by the app after the main window exists: status bar + scheduler."""
    ctrl = controller_for(ctx)
    ctrl.status_changed.connect(lambda st: window.set_sync_status(st.text(), status_tooltip(st)))
    window.set_sync_status(ctrl.status.text(), status_tooltip(ctrl.status))
    if ctrl.config.configured:
        ctrl.start()
    return ctrl
