"""The last Today list this laptop worked out, kept so the next start shows it at once.

Why: at 100,000 stores working Today's list out takes seconds (docs/performance.md), and the
person opening the app should see their call list within a moment, as the Stores view shows
yesterday's figures while it redoes them. So after every load the top of both lists is kept
here, and at the next start Today shows it, said as such ("the list as of 5 Dec 18:02,
updating…"), until the fresh list replaces it.

Derived, local data (like ``store_stats``): SQLite only, not replicated, not in the Alembic
history; a missing or unreadable snapshot is simply not shown. Kept per person and scope
(``key``), so a manager's all-stores list is never shown to an agent signing in on the same
laptop.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from ..domain.identity import Identity
from .entries import CallListEntry, TodaysCalls

log = logging.getLogger(__name__)

KEEP = 300
"""Entries kept of each list: several screenfuls; the rest come with the fresh list."""

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS today_snapshot ("
    " key TEXT PRIMARY KEY, made_at TEXT NOT NULL, payload TEXT NOT NULL)"
)


@dataclass(frozen=True)
class TodaySnapshot:
    """The top of a Today list as it was, and how long the lists were."""

    calls: TodaysCalls
    made_at: dt.datetime  # UTC
    to_call_total: int
    win_back_total: int


def snapshot_key(identity: Identity | None, agent_id: uuid.UUID | None) -> str:
    """Whose list it is: the person signed in (none on a standalone laptop) and the agent
    whose stores it holds (none = every agent's)."""
    who = identity.username if identity is not None else ""
    return f"{who}|{agent_id.hex if agent_id else '*'}"


def _encode(entry: CallListEntry) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(entry):
        value = getattr(entry, f.name)
        if isinstance(value, uuid.UUID | dt.date | Decimal):
            value = str(value)
        out[f.name] = value
    return out


_DATES = ("snoozed_until", "planned_call", "last_order")


def _decode(raw: dict[str, Any]) -> CallListEntry:
    values = dict(raw)
    values["store_id"] = uuid.UUID(values["store_id"])
    for name in _DATES:
        if values.get(name) is not None:
            values[name] = dt.date.fromisoformat(values[name])
    if values.get("outstanding_balance") is not None:
        values["outstanding_balance"] = Decimal(values["outstanding_balance"])
    return CallListEntry(**values)


def save_snapshot(engine: Engine, key: str, calls: TodaysCalls) -> None:
    """Keep the top of ``calls`` for the next start (SQLite only; never fails the caller:
    a snapshot not kept is only a slower next start)."""
    if engine.dialect.name != "sqlite":
        return
    payload = json.dumps(
        {
            "to_call": [_encode(e) for e in calls.to_call[:KEEP]],
            "win_back": [_encode(e) for e in calls.win_back[:KEEP]],
            "to_call_total": len(calls.to_call),
            "win_back_total": len(calls.win_back),
            "falling": calls.falling,
        }
    )
    made = dt.datetime.now(dt.UTC).isoformat()
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(_SCHEMA)
            conn.execute(
                text(
                    "INSERT OR REPLACE INTO today_snapshot (key, made_at, payload)"
                    " VALUES (:k, :m, :p)"
                ),
                {"k": key, "m": made, "p": payload},
            )
    except Exception:  # noqa: BLE001 - a cache: the next start is slower, nothing is lost
        log.warning("Today's list was not kept for the next start", exc_info=True)


def load_snapshot(engine: Engine, key: str) -> TodaySnapshot | None:
    """The list kept by :func:`save_snapshot` for ``key``; None when there is none or it
    cannot be read (then Today simply waits for the fresh list)."""
    if engine.dialect.name != "sqlite":
        return None
    try:
        with engine.connect() as conn:
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'today_snapshot'"
            ).first()
            if exists is None:
                return None
            row = conn.execute(
                text("SELECT made_at, payload FROM today_snapshot WHERE key = :k"), {"k": key}
            ).first()
        if row is None:
            return None
        data = json.loads(row[1])
        calls = TodaysCalls(
            [_decode(e) for e in data["to_call"]],
            [_decode(e) for e in data["win_back"]],
            falling=int(data.get("falling", 0)),
        )
        return TodaySnapshot(
            calls,
            dt.datetime.fromisoformat(row[0]),
            int(data["to_call_total"]),
            int(data["win_back_total"]),
        )
    except Exception:  # noqa: BLE001 - an unreadable cache is not shown, never an error
        log.warning("Today's kept list could not be read; waiting for the fresh one", exc_info=True)
        return None
