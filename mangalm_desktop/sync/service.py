"""One sync run (push, then pull) and the record of it, for the CLI, the scheduler and the GUI.

Push goes first so the pull brings back the server's view of what was just sent (order state
``synced``, server versions). Every run, good or bad, is appended to the history the Sync view
shows; errors are recorded in words, and the outbox is never touched by a failed run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from sqlalchemy import Engine

from ..db.types import utcnow
from ..domain.errors import Cancelled, UserError
from ..domain.tasks import NULL_TASK, TaskContext
from . import state
from .central import check_central_schema
from .devices import claim_device_code
from .pull import PullResult, pull
from .push import PushResult, pending_count, push, requeue_returned_stores

log = logging.getLogger(__name__)

Connector = Callable[[], psycopg.Connection]


class OfflineError(UserError):
    """The central server could not be reached (network down, server stopped, cut mid-way)."""


@dataclass
class SyncReport:
    """The outcome of one run, as kept in the history."""

    started_at: str = ""
    ok: bool = False
    offline: bool = False
    error: str = ""
    pushed: int = 0
    parked: int = 0
    pulled: int = 0
    seconds: float = 0.0
    push: PushResult | None = field(default=None, repr=False)
    pull: PullResult | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("push", None)
        d.pop("pull", None)
        return d


def sync_once(
    engine: Engine,
    connect: Connector,
    ctx: TaskContext = NULL_TASK,
    *,
    do_push: bool = True,
    do_pull: bool = True,
) -> SyncReport:
    """Push pending ops, then pull; never raises (every failure is reported and recorded)."""
    report = SyncReport(started_at=utcnow().isoformat(timespec="seconds"))
    started = time.monotonic()
    try:
        try:
            with connect() as pg:
                check_central_schema(pg)
                # Before anything moves: numbers pushed or pulled never clash between two
                # laptops of one agent that drew the same device code (sync.devices).
                claim_device_code(engine, pg)
                if do_push:
                    report.push = push(engine, pg, ctx, check_schema=False)
                    report.pushed = report.push.applied
                    report.parked = report.push.parked
                if do_pull:
                    report.pull = pull(engine, pg, ctx, check_schema=False)
                    report.pulled = report.pull.rows
                if do_push and requeue_returned_stores(engine):
                    # Orders kept for a store that is this user's again: send them now.
                    again = push(engine, pg, ctx, check_schema=False)
                    report.pushed += again.applied
                    report.parked += again.parked
        except psycopg.OperationalError as exc:
            raise OfflineError(f"The central server cannot be reached: {str(exc).strip()}") from exc
        except psycopg.Error as exc:
            # e.g. the login was disabled or lost a permission: say so, keep every local change.
            raise UserError(f"The central server refused the sync: {str(exc).strip()}") from exc
        report.ok = True
    except OfflineError as exc:
        report.offline = True
        report.error = exc.message
    except UserError as exc:
        report.error = str(exc)
    except Cancelled:
        report.error = "Cancelled; what was received so far is kept and the next sync continues."
    except Exception as exc:  # a bug or a local database error: in words, in the history
        log.exception("sync failed unexpectedly")
        report.error = (
            f"Sync failed ({type(exc).__name__}: {str(exc).strip()}); nothing was lost, "
            "the next sync tries again. If it keeps failing, send the log file to support."
        )
    report.seconds = round(time.monotonic() - started, 3)
    if not report.ok:
        log.warning("sync failed: %s", report.error)
    try:
        state.add_history(engine, report.summary())
    except Exception:  # the history is a convenience; never fail a sync over it
        log.exception("could not record sync history")
    return report


@dataclass(frozen=True)
class LocalCounts:
    pending: int
    parked: int


def local_counts(engine: Engine) -> LocalCounts:
    pending, parked = pending_count(engine)
    return LocalCounts(pending, parked)
