"""Local sync bookkeeping in the ``sync_state`` table (key → value/number).

Keys: ``pull:<table>`` (the table's cursor, a txid), ``pull:scope_change``,
``resume:<table>`` (last id applied by an interrupted pull, with the horizon of the run that
started it), ``history`` (recent sync runs as JSON), ``central:revision``. Written with plain
SQL on the caller's DB-API cursor so cursor updates share the transaction of the rows they
describe.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine

from ..db.engine import raw_transaction
from ..db.types import utcnow

HISTORY_KEY = "history"
HISTORY_LEN = 50


def _now_text() -> str:
    return utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")


def put(cur: Any, key: str, *, value: str | None = None, number: int | None = None) -> None:
    cur.execute(
        "INSERT INTO sync_state (key, value, number, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, number = excluded.number, "
        "updated_at = excluded.updated_at",
        (key, value, number, _now_text()),
    )


def drop(cur: Any, key: str) -> None:
    cur.execute("DELETE FROM sync_state WHERE key = ?", (key,))


def read_all(engine: Engine) -> dict[str, tuple[str | None, int | None]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT key, value, number FROM sync_state").all()
    return {k: (v, n) for k, v, n in rows}


def cursor_of(state: dict[str, tuple[str | None, int | None]], table: str) -> int:
    return int(state.get(f"pull:{table}", (None, 0))[1] or 0)


def add_history(engine: Engine, entry: dict[str, Any]) -> None:
    """Append one run to the history kept for the Sync view (most recent last)."""
    with raw_transaction(engine) as raw:
        cur = raw.cursor()
        cur.execute("SELECT value FROM sync_state WHERE key = ?", (HISTORY_KEY,))
        row = cur.fetchone()
        items = json.loads(row[0]) if row and row[0] else []
        items = (items + [entry])[-HISTORY_LEN:]
        put(cur, HISTORY_KEY, value=json.dumps(items, default=str))


def history(engine: Engine) -> list[dict[str, Any]]:
    value = read_all(engine).get(HISTORY_KEY, (None, None))[0]
    return json.loads(value) if value else []
