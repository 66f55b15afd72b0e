"""The GUI side of background sync: wraps the Qt-free scheduler in signals.

The scheduler runs on its own thread; its callbacks are re-emitted as Qt signals, which reach
slots on the UI thread queued, so the UI never waits for the network or a sync's SQLite work.
One controller per app context (``controller_for``); the status bar and the Sync view share it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject, Signal

from ..domain.changes import EVERYTHING, Changes
from ..sync.connection import CentralConfig, connect, load_config
from ..sync.scheduler import SyncScheduler, SyncStatus
from ..sync.service import SyncReport
from .context import AppContext

log = logging.getLogger(__name__)

_controllers: dict[int, SyncController] = {}


class SyncController(QObject):
    status_changed = Signal(object)  # SyncStatus
    progress = Signal(int, int, str)
    finished = Signal(object)  # SyncReport

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
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
        )
        self.finished.connect(self._after_sync)
        self._started = False
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

    def sync_now(self) -> None:
        self.start()
        self.scheduler.sync_now()

    def reload_config(self) -> None:
        """After the settings dialog saved: new server, new interval, sync at once."""
        self.config = self._load()
        self.scheduler.set_interval(self.config.sync_minutes or 5)
        self.sync_now()

    def shutdown(self) -> None:
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
