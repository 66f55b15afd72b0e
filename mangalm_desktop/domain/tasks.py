"""Progress and cancellation for long work, without Qt.

Service functions take a :class:`TaskContext`; the CLI passes one that prints, the GUI wraps
one that emits Qt signals (as Orange3's ``TaskState`` and napari's workers do). Services stay
testable headless and the GUI never needs to know what they do inside.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import Cancelled

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class TaskContext:
    """Carries a progress callback and a cancel flag into a long-running service call."""

    on_progress: ProgressCallback | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)

    def progress(self, done: int, total: int, message: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, message)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the user asked to stop; call between units of work."""
        if self._cancel.is_set():
            raise Cancelled()


NULL_TASK = TaskContext()
