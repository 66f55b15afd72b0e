"""Background sync: every N minutes and on "Sync now", with offline detection and backoff.

The scheduler owns no thread. It decides *when* a sync is due and runs one on the caller's
thread: in the GUI a QTimer asks :meth:`SyncScheduler.due` every few seconds and hands
:meth:`SyncScheduler.run_once` to the TaskRunner's single writer (so background sync never
writes the laptop database beside the GUI's writer); the CLI's ``sync run --every`` calls
:func:`run_forever`, a plain loop.

Why not a timer set for the next run: a laptop that sleeps, a process that is stopped, or a
clock that jumps makes one-shot timers fire late or never (APScheduler drops a run missed by
more than its grace time, and nothing re-arms it). Here a run is due when *either* the wall
clock has passed the planned time (it runs on through a suspend, during which the monotonic
clock stands still) *or* the planned delay has elapsed on the monotonic clock (which a wall
clock set back an hour does not delay). A missed run therefore runs late, at the next check,
and is never dropped.

After a failure the next attempt waits ``start * 2**(failures-1)`` seconds, capped, and
jittered down by at most half (so laptops that lost the server together do not return
together); a success returns to the interval; "Sync now" is due at once. Every change of
state is reported through ``on_status`` with a :class:`SyncStatus` the status bar can show.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine

from ..domain.errors import Cancelled
from ..domain.tasks import ProgressCallback, TaskContext
from .pull import build_deferred_indexes, missing_indexes
from .push import pending_count
from .service import Connector, SyncReport, sync_once

log = logging.getLogger(__name__)

WallClock = Callable[[], dt.datetime]
Monotonic = Callable[[], float]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows."""

    configured: bool = False
    running: bool = False
    online: bool | None = None  # None: not tried yet
    last_success: dt.datetime | None = None
    last_error: str = ""
    pending: int = 0
    parked: int = 0
    failures: int = 0
    next_run: dt.datetime | None = None
    preparing: bool = False  # building the lookup indexes a first sync deferred

    def text(self) -> str:
        if not self.configured:
            return "Standalone (no central server)"
        if self.running:
            state = "Syncing…"
        elif self.online is None:
            state = "Not synced yet"
        else:
            state = "Online" if self.online else "Offline"
        parts = [state]
        if self.last_success:
            parts.append(f"last sync {self.last_success.astimezone().strftime('%H:%M')}")
        if self.pending:
            parts.append(f"{self.pending} to send")
        if self.parked:
            parts.append(f"{self.parked} conflict{'s' if self.parked != 1 else ''}")
        if self.preparing:
            parts.append("preparing reports…")
        if self.last_error and not self.running:
            parts.append("error")
        return " · ".join(parts)


class Backoff:
    """Seconds to wait after the n-th failure in a row: exponential, capped, jittered down."""

    def __init__(self, start_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self.start_s = start_s
        self.max_s = max_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret

    def ceiling(self, failures: int) -> float:
        """The un-jittered delay: ``start * 2**(failures-1)``, at most ``max``."""
        return float(min(self.max_s, self.start_s * 2 ** (max(1, failures) - 1)))

    def __call__(self, failures: int) -> float:
        top = self.ceiling(failures)
        return top * (0.5 + 0.5 * self._rng.random())


class SyncScheduler:
    """When to sync, and one sync run with its status; Qt-free and thread-free."""

    def __init__(
        self,
        engine: Engine,
        connector: Callable[[], Connector | None],
        *,
        interval_minutes: float = 5,
        on_status: Callable[[SyncStatus], None] | None = None,
        on_progress: ProgressCallback | None = None,
        on_report: Callable[[SyncReport], None] | None = None,
        backoff_start_s: float = 15,
        backoff_max_s: float = 900,
        clock: WallClock = utc_now,
        monotonic: Monotonic = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.connector = connector  # returns None while no server is configured
        self.interval = dt.timedelta(minutes=interval_minutes)
        self.on_status = on_status
        self.on_progress = on_progress
        self.on_report = on_report
        self.backoff = Backoff(backoff_start_s, backoff_max_s, rng)
        self.clock = clock
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._task: TaskContext | None = None
        self._due_wall: dt.datetime | None = None  # None: not started / nothing planned
        self._due_mono = 0.0
        self._status = SyncStatus(configured=connector() is not None)

    # ---- timing ---------------------------------------------------------------------------

    def start(self, first_run_in_s: float = 2) -> None:
        """Plan the first run; from then on :meth:`due` says when to call :meth:`run_once`."""
        self._plan(dt.timedelta(seconds=first_run_in_s))
        self._publish(next_run=self._due_wall)

    def sync_now(self) -> None:
        """Due at once (the caller runs it at its next check)."""
        self._plan(dt.timedelta(0))
        self._publish(next_run=self._due_wall)

    def set_interval(self, minutes: float) -> None:
        self.interval = dt.timedelta(minutes=minutes)

    def due(self) -> bool:
        """True when a run is due: planned wall time passed, or planned delay elapsed."""
        if self._due_wall is None or self._lock.locked():
            return False
        return self.clock() >= self._due_wall or self.monotonic() >= self._due_mono

    def _plan(self, delay: dt.timedelta) -> None:
        self._due_wall = self.clock() + delay
        self._due_mono = self.monotonic() + delay.total_seconds()

    def shutdown(self) -> None:
        """Cancel a run in progress (it stops at its next check; what arrived is kept)."""
        if self._task is not None:
            self._task.cancel()
        self._due_wall = None

    @property
    def status(self) -> SyncStatus:
        return self._status

    @property
    def running(self) -> bool:
        return self._lock.locked()

    # ---- the run --------------------------------------------------------------------------

    def run_once(self, ctx: TaskContext | None = None) -> SyncReport | None:
        """One sync on the calling thread (the GUI's writer, the CLI loop, a test); plans
        the next one. Never raises: a bug is logged, shown and retried with backoff."""
        connect = self.connector()
        if connect is None:
            self._publish(configured=False, running=False)
            self._plan(self.interval)
            return None
        if not self._lock.acquire(blocking=False):
            return None  # one run at a time; the running one plans the next
        try:
            self._task = ctx or TaskContext(on_progress=self.on_progress)
            self._publish(configured=True, running=True)
            try:
                report = sync_once(self.engine, connect, self._task)
            except Exception as exc:  # a bug must not stop the schedule; logged and shown
                log.exception("sync failed unexpectedly")
                report = SyncReport(error=f"Sync failed: {exc}")
            finally:
                self._task = None
            now = self.clock()
            if report.ok:
                failures = 0
                delay = self.interval
                changes = {"online": True, "last_success": now, "last_error": ""}
            else:
                failures = self._status.failures + 1
                delay = dt.timedelta(seconds=self.backoff(failures))
                changes = {"online": not report.offline, "last_error": report.error}
            self._plan(delay)
            self._publish(running=False, failures=failures, next_run=self._due_wall, **changes)
            if self.on_report is not None:
                self.on_report(report)
            if report.ok:
                self._build_deferred_indexes(ctx)
            return report
        finally:
            self._lock.release()

    def _build_deferred_indexes(self, ctx: TaskContext | None) -> None:
        """After the data is in (and shown), the lookup indexes a first sync left for later;
        a no-op on every other run, and it finishes a build a closed app interrupted."""
        try:
            if not missing_indexes(self.engine):
                return
            self._task = ctx or TaskContext(on_progress=self.on_progress)
            self._publish(preparing=True)
            build_deferred_indexes(self.engine, self._task)
        except Cancelled:
            pass  # the next run finishes it
        except Exception:  # slower reports, nothing lost: log, keep the schedule
            log.exception("could not build the deferred indexes")
        finally:
            self._task = None
            if self._status.preparing:
                self._publish(preparing=False)

    def refresh_counts(self) -> None:
        """Re-read pending/conflict counts (after a local edit or a conflict was settled)."""
        self._publish()

    def _publish(self, **changes: Any) -> None:
        try:
            pending, parked = pending_count(self.engine)
        except Exception:  # a locked or closing database must not kill the scheduler
            log.exception("could not count outbox rows")
            pending, parked = self._status.pending, self._status.parked
        self._status = replace(self._status, pending=pending, parked=parked, **changes)
        if self.on_status is not None:
            try:
                self.on_status(self._status)
            except Exception:
                log.exception("sync status listener failed")


def run_forever(
    scheduler: SyncScheduler,
    stop: threading.Event,
    *,
    tick_s: float = 1.0,
) -> None:
    """The CLI's background loop: check every ``tick_s`` seconds, run when due, until
    ``stop`` is set. Short sleeps (not one sleep until the next run) are what make a
    suspend or a stopped process end in a late run instead of a lost one."""
    scheduler.start(first_run_in_s=0)
    while not stop.is_set():
        if scheduler.due():
            scheduler.run_once()
        stop.wait(tick_s)
