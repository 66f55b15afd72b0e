"""The bridge's bookkeeping in the central ``sync_state`` table (keys prefixed ``zoho:``).

Kept in the central database, not on the machine running the bridge, so whichever process
holds the lock next (the headless server or a manager's desktop) continues from the same
cursors and the same day's request count.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db.models import SyncState
from ..db.types import utcnow

CURSOR = "zoho:cursor:"  # + job name; value = ISO time of the newest record seen
BUDGET = "zoho:budget"  # value = UTC date, number = requests used that day
RUNS = "zoho:runs"  # value = JSON list of recent runs, newest first
RUNS_KEPT = 30
MAYBE = "zoho:maybe:"  # + order number; number = clock time of the create whose outcome is unknown
MAYBE_PAYMENT = "zoho:maybe-payment:"  # the same for customer payments (+ receipt number)
WINDOW = "zoho:window"  # value = JSON list of the last minute's send times (clock seconds)


def get(session: Session, key: str) -> SyncState | None:
    return session.get(SyncState, key)


def put(session: Session, key: str, value: str | None = None, number: int | None = None) -> None:
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value, number=number, updated_at=utcnow()))
    else:
        row.value, row.number, row.updated_at = value, number, utcnow()


def get_cursor(session: Session, job: str) -> dt.datetime | None:
    row = get(session, CURSOR + job)
    return dt.datetime.fromisoformat(row.value) if row and row.value else None


def set_cursor(session: Session, job: str, value: dt.datetime) -> None:
    put(session, CURSOR + job, value.astimezone(dt.UTC).isoformat())


def budget_used(session: Session, today: dt.date) -> int:
    row = get(session, BUDGET)
    if row is None or row.value != today.isoformat():
        return 0
    return int(row.number or 0)


def runs(session: Session) -> list[dict[str, Any]]:
    row = get(session, RUNS)
    return json.loads(row.value) if row and row.value else []


def add_run(session: Session, run: dict[str, Any]) -> None:
    put(session, RUNS, json.dumps(([run] + runs(session))[:RUNS_KEPT]))


def get_number(session: Session, key: str) -> int | None:
    row = get(session, key)
    return None if row is None else row.number


def set_number(session: Session, key: str, number: float) -> None:
    put(session, key, None, int(number))


def maybe_created(session: Session, prefix: str = MAYBE) -> dict[str, float]:
    """Order number (receipt number with ``MAYBE_PAYMENT``) → when its create went out with an
    unknown outcome (clock seconds)."""
    rows = session.execute(
        select(SyncState.key, SyncState.number).where(SyncState.key.startswith(prefix))
    ).all()
    return {key[len(prefix) :]: float(number or 0) for key, number in rows}


def set_maybe(session: Session, order_number: str, at: float, prefix: str = MAYBE) -> None:
    put(session, prefix + order_number, None, int(at))


def clear_maybe(session: Session, order_number: str, prefix: str = MAYBE) -> None:
    session.execute(delete(SyncState).where(SyncState.key == prefix + order_number))
