"""The one worker abstraction: Qt-free service calls run off the UI thread.

A service function has the shape ``fn(ctx: TaskContext, *args) -> result`` and knows nothing of
Qt. :class:`TaskRunner` runs it on a :class:`QThreadPool` inside a :class:`Worker` whose signals
(progress / finished / failed / cancelled) are delivered on the UI thread. Reads go to a shared
pool; every SQLite *write* goes to a single-thread pool, so writes never contend for the file
lock (Anki's ``CollectionOp`` / ``QueryOp`` split). When a write returns a
:class:`~mangalm_desktop.domain.changes.Changes` (or an object with a ``changes`` attribute) the
runner emits it on :attr:`TaskRunner.changed`, and views refresh what concerns them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QObject, QRunnable, QThreadPool, Signal

from ..domain.changes import Changes
from ..domain.errors import Cancelled, UserError
from ..domain.tasks import TaskContext

log = logging.getLogger(__name__)

ServiceFn = Callable[..., Any]


class WorkerSignals(QObject):
    """Signals live on a QObject created on the UI thread, so slots run there (queued)."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()


class Worker(QRunnable):
    """Runs ``fn(ctx, *args, **kwargs)`` on a pool thread; cancel() sets the task's cancel flag."""

    def __init__(self, fn: ServiceFn, *args: Any, name: str = "", **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it: TaskRunner drops it after it reported.
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.name = name or getattr(fn, "__name__", "task")
        self.signals = WorkerSignals()
        self.ctx = TaskContext(on_progress=self._progress)
        self.done = False

    def _progress(self, done: int, total: int, message: str) -> None:
        self.signals.progress.emit(done, total, message)

    def cancel(self) -> None:
        self.ctx.cancel()

    def run(self) -> None:  # pool thread
        try:
            result = self.fn(self.ctx, *self.args, **self.kwargs)
        except Cancelled:
            self._emit(self.signals.cancelled)
        except UserError as exc:  # a refusal already in words (no e-mail address...): the log
            # says what was refused, without a traceback that reads like a crash to support
            log.info("task %s refused: %s", self.name, exc.message)
            self._emit(self.signals.failed, exc)
        except Exception as exc:  # every failure is reported in words, never swallowed
            log.exception("task %s failed", self.name)
            self._emit(self.signals.failed, exc)
        else:
            self._emit(self.signals.finished, result)

    def _emit(self, signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the app is quitting and the receiver is gone: nothing to tell
            log.debug("task %s finished after its receiver was deleted", self.name)


@dataclass(frozen=True)
class Written:
    """A finished write: what the service returned and the tables it touched, which the
    runner puts on the change bus (see :func:`changes_of`)."""

    value: Any
    changes: Changes


def changes_of(result: object) -> Changes | None:
    if isinstance(result, Changes):
        return result
    changes = getattr(result, "changes", None)
    return changes if isinstance(changes, Changes) else None


class TaskRunner(QObject):
    """Owns the read pool, the single writer, the change bus and the set of running workers."""

    changed = Signal(object)  # Changes, after a write finished
    failed = Signal(str, object)  # task name, exception (unhandled by the caller)
    busy_changed = Signal(int)  # number of running tasks

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.read_pool = QThreadPool(self)
        self.read_pool.setMaxThreadCount(
            max(2, min(4, QThreadPool.globalInstance().maxThreadCount()))
        )
        self.write_pool = QThreadPool(self)
        self.write_pool.setMaxThreadCount(1)
        self._running: set[Worker] = set()

    @property
    def running(self) -> int:
        return len(self._running)

    def submit(
        self,
        fn: ServiceFn,
        *args: Any,
        write: bool = False,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        name: str = "",
        **kwargs: Any,
    ) -> Worker:
        """Run a service function off the UI thread; callbacks run on the UI thread."""
        worker = Worker(fn, *args, name=name, **kwargs)
        sig = worker.signals

        def finished(result: object) -> None:
            self._forget(worker)
            if on_done is not None:
                on_done(result)
            if write:
                changes = changes_of(result)
                if changes is not None:
                    self.changed.emit(changes)

        def failed(exc: BaseException) -> None:
            self._forget(worker)
            if on_error is not None:
                on_error(exc)
            else:
                self.failed.emit(worker.name, exc)

        def cancelled() -> None:
            self._forget(worker)
            if on_cancelled is not None:
                on_cancelled()

        sig.finished.connect(finished)
        sig.failed.connect(failed)
        sig.cancelled.connect(cancelled)
        if on_progress is not None:
            sig.progress.connect(on_progress)
        self._running.add(worker)
        self.busy_changed.emit(len(self._running))
        (self.write_pool if write else self.read_pool).start(worker)
        return worker

    def _forget(self, worker: Worker) -> None:
        worker.done = True
        self._running.discard(worker)
        self.busy_changed.emit(len(self._running))

    @property
    def running_names(self) -> list[str]:
        """What is still running, for a message that says what a wait waited for."""
        return sorted(worker.name for worker in self._running)

    def wait_idle(self, timeout_ms: int = 30_000) -> bool:
        """Process events until every submitted task reported (tests, self-test, shutdown)."""
        deadline = QDeadlineTimer(timeout_ms)
        while True:
            # Events first, then the check: a result's callbacks or a timer firing in this
            # pass may submit more work (the store figures keeper does), which is waited for
            # too, rather than answered "not idle" at once.
            QCoreApplication.processEvents()
            if not self._running or deadline.hasExpired():
                return not self._running
            self.read_pool.waitForDone(5)
            self.write_pool.waitForDone(5)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        for worker in list(self._running):
            worker.cancel()
        self.read_pool.waitForDone(timeout_ms)
        self.write_pool.waitForDone(timeout_ms)
