"""Push: laptop outbox → central PostgreSQL, exactly once (DESIGN §3).

A batch of outbox ops is applied in ONE PostgreSQL transaction that also inserts each op's
``op_id`` into ``applied_ops``; an op already there is skipped. Only after the commit is
acknowledged does the laptop delete the ops (and park the conflicts) in one SQLite
transaction. A crash or a cut connection anywhere in between leads to a retry in which every
op already applied is a no-op, so nothing is lost and nothing is applied twice.

Each op runs in its own savepoint: a conflict (central version ≠ ``base_version``, an order
already sent to Zoho, a row the role may no longer see or write) rolls back only that op,
which is parked with both versions for the user to choose; the rest of the queue goes on.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import Engine

from ..db.models import SYNCED_TABLES
from ..db.outbox import OP_UPSERT, OP_UPSERT_ORDER
from ..domain.tasks import NULL_TASK, TaskContext
from .central import check_central_schema
from .tables import SERVER_COLUMNS, table_spec

log = logging.getLogger(__name__)

BATCH_SIZE = 250
# Once an order reached Zoho, the central copy is the truth (DESIGN §3).
SERVER_AUTHORITATIVE_STATES = frozenset({"sent_to_zoho", "invoiced"})


@dataclass(frozen=True)
class Op:
    """One outbox row as read for pushing."""

    seq: int
    op_id: uuid.UUID
    table_name: str
    row_id: uuid.UUID
    op: str
    base_version: int | None
    payload: dict[str, Any]


@dataclass
class Outcome:
    """What the server did with one op."""

    seq: int
    kind: str  # applied | duplicate | conflict | rejected
    versions: dict[str, list[tuple[uuid.UUID, int]]] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class PushResult:
    applied: int = 0
    duplicates: int = 0
    parked: int = 0
    batches: int = 0
    seconds: float = 0.0


class Conflict(Exception):
    """Raised inside an op's savepoint: roll it back and park the op."""

    def __init__(self, kind: str, message: str, central: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.central = central


def read_ops(engine: Engine, limit: int) -> list[Op]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, op_id, table_name, row_id, op, base_version, payload FROM outbox "
            "WHERE status = 'pending' ORDER BY seq LIMIT ?",
            (limit,),
        ).all()
    return [
        Op(seq, uuid.UUID(op_id), table, uuid.UUID(row_id), op, base, json.loads(payload))
        for seq, op_id, table, row_id, op, base, payload in rows
    ]


def _write_sql(table: str, cols: list[str]) -> str:
    spec = table_spec(table)
    names = ", ".join(f'"{c}"' for c in cols)
    values = ", ".join(f"%s::{spec.pg_types[c]}" for c in cols)
    sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols if c != "id")
    return (
        f'INSERT INTO "{table}" ({names}) VALUES ({values}) '  # noqa: S608 - model identifiers only
        f"ON CONFLICT (id) DO UPDATE SET {sets} RETURNING id, version"
    )


def _columns(table: str, row: dict[str, Any]) -> list[str]:
    allowed = table_spec(table).columns
    return [c for c in allowed if c in row and c not in SERVER_COLUMNS]


def _central_row(pg: psycopg.Connection, table: str, row_id: uuid.UUID) -> dict[str, Any] | None:
    got = pg.execute(
        f"SELECT to_jsonb(t) - 'txid' FROM \"{table}\" t WHERE id = %s FOR UPDATE",  # noqa: S608
        (row_id,),
    ).fetchone()
    return got[0] if got else None


def _check(op: Op, central: dict[str, Any] | None) -> None:
    """Raise :class:`Conflict` unless the op applies cleanly to the central row."""
    sent = central is not None and (
        central.get("state") in SERVER_AUTHORITATIVE_STATES or central.get("zoho_salesorder_id")
    )
    if op.table_name == "orders" and sent:
        raise Conflict(
            "server_authoritative",
            f"Order {central.get('number')} was already sent to Zoho "
            f"(state {central.get('state')}); the central version stands.",
            central,
        )
    if op.base_version is None:
        if central is not None:
            raise Conflict("exists", "The row already exists centrally.", central)
        return
    if central is None:
        raise Conflict(
            "missing",
            "The row was deleted centrally or is no longer visible to you.",
            None,
        )
    if central.get("version") != op.base_version:
        raise Conflict(
            "version",
            f"Changed centrally meanwhile (your change was made on version "
            f"{op.base_version}, the central row is at version {central.get('version')}).",
            central,
        )


def _upsert_row(pg: psycopg.Connection, table: str, row: dict[str, Any]) -> tuple[uuid.UUID, int]:
    cols = _columns(table, row)
    got = pg.execute(_write_sql(table, cols), [row[c] for c in cols]).fetchone()
    return got[0], got[1]


def _apply_op(pg: psycopg.Connection, op: Op) -> Outcome:
    if op.table_name not in SYNCED_TABLES:
        raise Conflict("rejected", f"{op.table_name!r} is not a synced table.", None)
    got = pg.execute(
        "INSERT INTO applied_ops (op_id, table_name, row_id) VALUES (%s, %s, %s) "
        "ON CONFLICT (op_id) DO NOTHING RETURNING op_id",
        (op.op_id, op.table_name, op.row_id),
    ).fetchone()
    if got is None:
        return Outcome(op.seq, "duplicate")
    central = _central_row(pg, op.table_name, op.row_id)
    _check(op, central)
    versions: dict[str, list[tuple[uuid.UUID, int]]] = {}
    if op.op == OP_UPSERT:
        row = dict(op.payload)
        row["id"] = str(op.row_id)
        versions[op.table_name] = [_upsert_row(pg, op.table_name, row)]
    elif op.op == OP_UPSERT_ORDER:
        if op.table_name != "orders":
            raise Conflict("rejected", "upsert_order must target the orders table.", None)
        order = dict(op.payload["order"])
        order["id"] = str(op.row_id)
        if order.get("state") == "submitted":
            order["state"] = "synced"  # central has it now (DESIGN §2 order states)
        versions["orders"] = [_upsert_row(pg, "orders", order)]
        lines = op.payload.get("lines", [])
        keep = []
        for line in lines:
            line = dict(line)
            line["order_id"] = str(op.row_id)
            keep.append(uuid.UUID(str(line["id"])))
            _upsert_row(pg, "order_line", line)
        pg.execute(
            "UPDATE order_line SET deleted = true WHERE order_id = %s AND NOT deleted "
            "AND NOT (id = ANY(%s))",
            (op.row_id, keep),
        )
        versions["order_line"] = [
            (r[0], r[1])
            for r in pg.execute(
                "SELECT id, version FROM order_line WHERE order_id = %s", (op.row_id,)
            ).fetchall()
        ]
    else:
        raise Conflict("rejected", f"Unknown outbox op {op.op!r}.", None)
    return Outcome(op.seq, "applied", versions)


def apply_batch(pg: psycopg.Connection, ops: list[Op]) -> list[Outcome]:
    """Apply ``ops`` in one transaction; raises only when the connection itself failed."""
    outcomes = []
    with pg.transaction():
        for op in ops:
            try:
                with pg.transaction():  # a savepoint per op
                    outcomes.append(_apply_op(pg, op))
            except Conflict as c:
                outcomes.append(
                    Outcome(
                        op.seq,
                        "conflict" if c.kind != "rejected" else "rejected",
                        detail={"kind": c.kind, "message": c.message, "central": c.central},
                    )
                )
            except psycopg.Error as exc:
                if pg.broken or pg.closed or isinstance(exc, psycopg.OperationalError):
                    raise
                diag = getattr(exc, "diag", None)
                message = (diag.message_primary if diag else None) or str(exc)
                outcomes.append(
                    Outcome(
                        op.seq,
                        "rejected",
                        detail={"kind": "rejected", "message": message, "central": None},
                    )
                )
    return outcomes


def record_outcomes(engine: Engine, outcomes: list[Outcome]) -> None:
    """After the server acknowledged the commit: drop applied ops, park the rest (one txn)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for out in outcomes:
            if out.kind in ("applied", "duplicate"):
                cur.execute("DELETE FROM outbox WHERE seq = ?", (out.seq,))
                for table, pairs in out.versions.items():
                    guard = "order_id" if table == "order_line" else "id"
                    # Align local versions with the server's, unless more local edits wait.
                    cur.executemany(
                        f'UPDATE "{table}" SET version = ? WHERE id = ? AND NOT EXISTS ('  # noqa: S608 - model identifiers only
                        f'SELECT 1 FROM outbox o WHERE o.row_id = "{table}".{guard} '
                        "AND o.status IN ('pending', 'parked'))",
                        [(v, i.hex) for i, v in pairs],
                    )
            else:
                cur.execute(
                    "UPDATE outbox SET status = 'parked', attempts = attempts + 1, "
                    "last_error = ? WHERE seq = ?",
                    (json.dumps(out.detail, default=str), out.seq),
                )
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def pending_count(engine: Engine) -> tuple[int, int]:
    """(pending, parked) op counts for the status bar."""
    with engine.connect() as conn:
        rows = dict(
            conn.exec_driver_sql("SELECT status, count(*) FROM outbox GROUP BY status").all()
        )
    return int(rows.get("pending", 0)), int(rows.get("parked", 0))


def push(
    engine: Engine,
    pg: psycopg.Connection,
    ctx: TaskContext = NULL_TASK,
    *,
    batch_size: int = BATCH_SIZE,
    check_schema: bool = True,
) -> PushResult:
    """Send every pending op; returns counts. Safe to interrupt at any point."""
    started = time.monotonic()
    result = PushResult()
    if check_schema:
        check_central_schema(pg)
    if pg.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        pg.rollback()
    total = pending_count(engine)[0]
    done = 0
    ctx.progress(0, total, "Sending changes")
    while True:
        ctx.check()
        ops = read_ops(engine, batch_size)
        if not ops:
            break
        outcomes = apply_batch(pg, ops)
        record_outcomes(engine, outcomes)
        result.batches += 1
        for out in outcomes:
            if out.kind == "applied":
                result.applied += 1
            elif out.kind == "duplicate":
                result.duplicates += 1
            else:
                result.parked += 1
        done += len(ops)
        ctx.progress(done, max(total, done), "Sending changes")
    result.seconds = time.monotonic() - started
    if result.applied or result.parked:
        log.info(
            "push: %d applied, %d already applied, %d parked in %.2fs",
            result.applied,
            result.duplicates,
            result.parked,
            result.seconds,
        )
    return result
