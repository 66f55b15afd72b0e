"""Background sync: every N minutes and on "Sync now", with offline detection and backoff.

APScheduler runs one job (never two at once; missed runs coalesce) on its own thread, so the
GUI thread never waits for the network or SQLite. After a failure the next attempt is pushed
out with exponential backoff and jitter (tenacity's ``wait_random_exponential``), capped, and
"Sync now" always runs at once. Every change of state is reported through ``on_status`` with a
:class:`SyncStatus` the status bar can show as is; the GUI marshals it to its own thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import SimpleNamespace

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from tenacity import wait_random_exponential

from ..domain.errors import Cancelled
from ..domain.tasks import ProgressCallback, TaskContext
from .pull import build_deferred_indexes, missing_indexes
from .push import pending_count
from .service import Connector, SyncReport, sync_once

log = logging.getLogger(__name__)

JOB_ID = "mangalm-sync"


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


class SyncScheduler:
    """Owns the APScheduler job; Qt-free (the GUI wraps the callbacks in signals)."""

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
    ) -> None:
        self.engine = engine
        self.connector = connector  # returns None while no server is configured
        self.interval = dt.timedelta(minutes=interval_minutes)
        self.on_status = on_status
        self.on_progress = on_progress
        self.on_report = on_report
        self._wait = wait_random_exponential(multiplier=backoff_start_s, max=backoff_max_s)
        self._lock = threading.Lock()
        self._task: TaskContext | None = None
        self._status = SyncStatus(configured=connector() is not None)
        self._sched = BackgroundScheduler(
            timezone=dt.UTC, job_defaults={"coalesce": True, "max_instances": 1}
        )

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self, first_run_in_s: float = 2) -> None:
        first = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=first_run_in_s)
        self._sched.add_job(self.run_once, "date", run_date=first, id=JOB_ID)
        self._sched.start()
        self._publish(next_run=first)

    def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._sched.running:
            self._sched.shutdown(wait=True)

    def sync_now(self) -> None:
        """Run as soon as possible (at once unless a sync is already running)."""
        self._schedule(dt.datetime.now(dt.UTC))

    def set_interval(self, minutes: float) -> None:
        self.interval = dt.timedelta(minutes=minutes)

    @property
    def status(self) -> SyncStatus:
        return self._status

    # ---- the job --------------------------------------------------------------------------

    def run_once(self) -> SyncReport | None:
        """One sync (also callable directly, e.g. from tests); schedules the next one."""
        connect = self.connector()
        if connect is None:
            self._publish(configured=False, running=False)
            self._schedule(dt.datetime.now(dt.UTC) + self.interval)
            return None
        with self._lock:
            self._task = TaskContext(on_progress=self.on_progress)
            self._publish(configured=True, running=True)
            try:
                report = sync_once(self.engine, connect, self._task)
            except Exception as exc:  # a bug must not stop the schedule; it is logged and shown
                log.exception("sync failed unexpectedly")
                report = SyncReport(error=f"Sync failed: {exc}")
            finally:
                self._task = None
        now = dt.datetime.now(dt.UTC)
        if report.ok:
            failures = 0
            delay = self.interval
            changes = {"online": True, "last_success": now, "last_error": ""}
        else:
            failures = self._status.failures + 1
            seconds = self._wait(SimpleNamespace(attempt_number=failures))
            delay = dt.timedelta(seconds=seconds)
            changes = {"online": not report.offline, "last_error": report.error}
        nxt = now + delay
        self._schedule(nxt)
        self._publish(running=False, failures=failures, next_run=nxt, **changes)
        if self.on_report is not None:
            self.on_report(report)
        if report.ok:
            self._build_deferred_indexes()
        return report

    def _build_deferred_indexes(self) -> None:
        """After the data is in (and shown), the lookup indexes a first sync left for later;
        a no-op on every other run, and it finishes a build a closed app interrupted."""
        with self._lock:
            try:
                if not missing_indexes(self.engine):
                    return
                self._task = TaskContext(on_progress=self.on_progress)
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

    def _schedule(self, when: dt.datetime) -> None:
        if not self._sched.running:
            return
        if self._sched.get_job(JOB_ID) is None:
            self._sched.add_job(self.run_once, "date", run_date=when, id=JOB_ID)
        else:
            self._sched.modify_job(JOB_ID, next_run_time=when)

    def _publish(self, **changes) -> None:
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
