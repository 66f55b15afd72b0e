"""Run only the latest request: one query in flight, the newest waiting, older ones dropped.

Typing "shree" fires five requests; while the first runs, the next four replace each other in
the waiting slot, so at most two queries run for the whole word and the list never shows the
answer to an older text after a newer one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .workers import TaskRunner

Request = tuple[Callable[..., Any], Callable[[Any], None]]


class LatestOnly:
    def __init__(self, runner: TaskRunner, name: str = "query") -> None:
        self.runner = runner
        self.name = name
        self._busy = False
        self._waiting: Request | None = None
        self.sequence = 0  # bumps per request; answers carry theirs
        self.applied = 0

    def request(self, fn: Callable[..., Any], on_done: Callable[[Any], None]) -> int:
        self.sequence += 1
        self._waiting = (fn, on_done)
        if not self._busy:
            self._start()
        return self.sequence

    @property
    def idle(self) -> bool:
        return not self._busy and self._waiting is None

    def _start(self) -> None:
        assert self._waiting is not None
        fn, on_done = self._waiting
        self._waiting = None
        self._busy = True
        sequence = self.sequence

        def done(result: Any) -> None:
            self._busy = False
            if self._waiting is None and sequence == self.sequence:
                self.applied = sequence
                on_done(result)  # newest request: show it
            if self._waiting is not None:
                self._start()

        def failed(exc: BaseException) -> None:
            self._busy = False
            if self._waiting is not None:
                self._start()
            self.runner.failed.emit(self.name, exc)

        self.runner.submit(fn, on_done=done, on_error=failed, name=self.name)
