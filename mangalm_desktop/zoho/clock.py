"""Time as a dependency: the bridge never calls ``time.sleep`` or ``time.monotonic`` directly.

Rate limits (100 requests per minute), backoff (seconds to a minute) and token expiry (an hour)
would make honest tests take hours; with a :class:`ManualClock` the same code runs in
milliseconds and every wait it decided on is recorded, so tests can check the waits themselves.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds; only differences matter, but real time is shared by every process."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time: wall-clock seconds, not ``time.monotonic()``, because the bridge's shared state
    holds times other processes read (the send times of the last minute in the central database,
    the access token's expiry in the keyring), and a monotonic clock means nothing outside the
    process (or the boot) that read it."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """Simulated time: ``sleep`` advances ``now`` at once and is remembered in ``sleeps``."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            if seconds > 0:
                self._now += seconds
            self.sleeps.append(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
