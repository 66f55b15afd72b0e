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


def _upsert_lines(
    pg: psycopg.Connection, order_id: uuid.UUID, lines: list[dict[str, Any]]
) -> list[tuple[uuid.UUID, int]]:
    """All lines of an order in one pipelined executemany; returns their new versions."""
    if not lines:
        return []
    rows = []
    for line in lines:
        line = dict(line)
        line["order_id"] = str(order_id)
        rows.append(line)
    cols = _columns("order_line", rows[0])
    out = []
    with pg.cursor() as cur:
        cur.executemany(
            _write_sql("order_line", cols), [[r.get(c) for c in cols] for r in rows], returning=True
        )
        while True:
            got = cur.fetchone()
            if got:
                out.append((got[0], got[1]))
            if not cur.nextset():
                break
    return out


def _apply_op(pg: psycopg.Connection, op: Op) -> Outcome:
    """Apply one op inside the batch transaction.

    The op id goes into ``applied_ops`` first: if another session is committing the same op
    (a killed client's backend still finishing), this waits for it and then sees a duplicate.
    Conflicts are found before any row is written, and their ``applied_ops`` row is removed,
    so a parked op leaves no trace centrally.
    """
    if op.table_name not in SYNCED_TABLES:
        return _conflict(
            op, Conflict("rejected", f"{op.table_name!r} is not a synced table.", None)
        )
    got = pg.execute(
        "INSERT INTO applied_ops (op_id, table_name, row_id) VALUES (%s, %s, %s) "
        "ON CONFLICT (op_id) DO NOTHING RETURNING op_id",
        (op.op_id, op.table_name, op.row_id),
    ).fetchone()
    if got is None:
        return Outcome(op.seq, "duplicate")
    try:
        central = _central_row(pg, op.table_name, op.row_id)
        _check(op, central)
        if op.op not in (OP_UPSERT, OP_UPSERT_ORDER):
            raise Conflict("rejected", f"Unknown outbox op {op.op!r}.", None)
        if op.op == OP_UPSERT_ORDER and op.table_name != "orders":
            raise Conflict("rejected", "upsert_order must target the orders table.", None)
    except Conflict as c:
        pg.execute("DELETE FROM applied_ops WHERE op_id = %s", (op.op_id,))
        return _conflict(op, c)
    versions: dict[str, list[tuple[uuid.UUID, int]]] = {}
    if op.op == OP_UPSERT:
        row = dict(op.payload)
        row["id"] = str(op.row_id)
        versions[op.table_name] = [_upsert_row(pg, op.table_name, row)]
    else:
        order = dict(op.payload["order"])
        order["id"] = str(op.row_id)
        if order.get("state") == "submitted":
            order["state"] = "synced"  # central has it now (DESIGN §2 order states)
        versions["orders"] = [_upsert_row(pg, "orders", order)]
        lines = op.payload.get("lines", [])
        versions["order_line"] = _upsert_lines(pg, op.row_id, lines)
        keep = [uuid.UUID(str(line["id"])) for line in lines]
        pg.execute(
            "UPDATE order_line SET deleted = true WHERE order_id = %s AND NOT deleted "
            "AND NOT (id = ANY(%s))",
            (op.row_id, keep),
        )
    return Outcome(op.seq, "applied", versions)


def _conflict(op: Op, c: Conflict) -> Outcome:
    kind = "rejected" if c.kind == "rejected" else "conflict"
    return Outcome(
        op.seq, kind, detail={"kind": c.kind, "message": c.message, "central": c.central}
    )


def apply_batch(pg: psycopg.Connection, ops: list[Op]) -> list[Outcome]:
    """Apply ``ops`` in one transaction; raises only when the connection itself failed.

    The fast path pipelines the whole batch (three round trips however many ops); if the
    server refuses any op, it is rolled back and the batch is replayed op by op to find it.
    """
    try:
        return _apply_batch_pipelined(pg, ops)
    except psycopg.Error as exc:
        if pg.broken or pg.closed or isinstance(exc, psycopg.OperationalError):
            raise
        log.info("push batch refused (%s); replaying op by op", exc)
    return apply_batch_stepwise(pg, ops)


def _lines_sql(order_id: uuid.UUID, lines: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """One multi-row upsert for all lines of an order (one statement, one server round)."""
    spec = table_spec("order_line")
    cols: list[str] = []
    for line in lines:
        cols += [c for c in _columns("order_line", {**line, "order_id": 1}) if c not in cols]
    names = ", ".join(f'"{c}"' for c in cols)
    row_marks = "(" + ", ".join(f"%s::{spec.pg_types[c]}" for c in cols) + ")"
    sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols if c != "id")
    params: list[Any] = []
    for line in lines:
        row = {**line, "order_id": str(order_id)}
        params += [row.get(c) for c in cols]
    sql = (
        f"INSERT INTO order_line ({names}) VALUES {', '.join([row_marks] * len(lines))} "  # noqa: S608
        f"ON CONFLICT (id) DO UPDATE SET {sets} RETURNING id, version"
    )
    return sql, params


def _apply_batch_pipelined(pg: psycopg.Connection, ops: list[Op]) -> list[Outcome]:
    """Phase 1 reads (claim op ids, lock central rows); phase 2 writes; all pipelined."""
    outcomes: list[Outcome] = []
    with pg.transaction():
        reads = []
        with pg.pipeline():
            for op in ops:
                if op.table_name not in SYNCED_TABLES:
                    reads.append(None)
                    continue
                claim = pg.execute(
                    "INSERT INTO applied_ops (op_id, table_name, row_id) VALUES (%s, %s, %s) "
                    "ON CONFLICT (op_id) DO NOTHING RETURNING op_id",
                    (op.op_id, op.table_name, op.row_id),
                )
                row = pg.execute(
                    f"SELECT to_jsonb(t) - 'txid' FROM \"{op.table_name}\" t "  # noqa: S608
                    "WHERE id = %s FOR UPDATE",
                    (op.row_id,),
                )
                reads.append((claim, row))
        # Decide, simulating the version bumps of earlier ops of this batch on the same row.
        seen: dict[uuid.UUID, dict[str, Any] | None] = {}
        plans: list[tuple[Op, list]] = []
        unclaim: list[uuid.UUID] = []
        for op, got in zip(ops, reads, strict=True):
            if got is None:
                outcomes.append(
                    _conflict(op, Conflict("rejected", f"{op.table_name!r} is not synced.", None))
                )
                continue
            claim, row = got
            claimed = claim.fetchone() is not None
            fetched = row.fetchone()
            central = seen[op.row_id] if op.row_id in seen else (fetched[0] if fetched else None)
            if not claimed:
                outcomes.append(Outcome(op.seq, "duplicate"))
                continue
            try:
                _check(op, central)
                if op.op not in (OP_UPSERT, OP_UPSERT_ORDER):
                    raise Conflict("rejected", f"Unknown outbox op {op.op!r}.", None)
                if op.op == OP_UPSERT_ORDER and op.table_name != "orders":
                    raise Conflict("rejected", "upsert_order must target the orders table.", None)
            except Conflict as c:
                unclaim.append(op.op_id)
                outcomes.append(_conflict(op, c))
                continue
            after = dict(central) if central else {}
            after["version"] = (central["version"] + 1) if central else 1
            if op.op == OP_UPSERT_ORDER:
                after["state"] = (
                    "synced"
                    if op.payload["order"].get("state") == "submitted"
                    else (op.payload["order"].get("state"))
                )
            seen[op.row_id] = after
            plans.append((op, []))
        with pg.pipeline():
            if unclaim:
                pg.execute("DELETE FROM applied_ops WHERE op_id = ANY(%s)", (unclaim,))
            for op, cursors in plans:
                if op.op == OP_UPSERT:
                    row = dict(op.payload)
                    row["id"] = str(op.row_id)
                    cols = _columns(op.table_name, row)
                    cursors.append(
                        (
                            op.table_name,
                            pg.execute(_write_sql(op.table_name, cols), [row[c] for c in cols]),
                        )
                    )
                    continue
                order = dict(op.payload["order"])
                order["id"] = str(op.row_id)
                if order.get("state") == "submitted":
                    order["state"] = "synced"
                cols = _columns("orders", order)
                cursors.append(
                    ("orders", pg.execute(_write_sql("orders", cols), [order[c] for c in cols]))
                )
                lines = op.payload.get("lines", [])
                if lines:
                    sql, params = _lines_sql(op.row_id, lines)
                    cursors.append(("order_line", pg.execute(sql, params)))
                pg.execute(
                    "UPDATE order_line SET deleted = true WHERE order_id = %s AND NOT deleted "
                    "AND NOT (id = ANY(%s))",
                    (op.row_id, [uuid.UUID(str(line["id"])) for line in lines]),
                )
        for op, cursors in plans:
            versions: dict[str, list[tuple[uuid.UUID, int]]] = {}
            for table, cur in cursors:
                for rid, version in cur.fetchall():
                    versions.setdefault(table, []).append((rid, version))
            outcomes.append(Outcome(op.seq, "applied", versions))
    return sorted(outcomes, key=lambda o: o.seq)


def apply_batch_stepwise(pg: psycopg.Connection, ops: list[Op]) -> list[Outcome]:
    """Apply ``ops`` one statement at a time (the fallback that pins down a refused op).

    No savepoint per op (two round trips each): when the server refuses an op outright (no
    permission, a constraint), the transaction is rolled back, that op is set aside as
    rejected, and the batch is applied again without it.
    """
    remaining = list(ops)
    rejected: list[Outcome] = []
    while True:
        outcomes: list[Outcome] = []
        current: Op | None = None
        try:
            with pg.transaction():
                for current in remaining:
                    outcomes.append(_apply_op(pg, current))
            return sorted(outcomes + rejected, key=lambda o: o.seq)
        except psycopg.Error as exc:
            if pg.broken or pg.closed or isinstance(exc, psycopg.OperationalError):
                raise
            if current is None:
                raise
            diag = getattr(exc, "diag", None)
            message = (diag.message_primary if diag else None) or str(exc)
            rejected.append(
                Outcome(
                    current.seq,
                    "rejected",
                    detail={"kind": "rejected", "message": message, "central": None},
                )
            )
            remaining = [o for o in remaining if o.seq != current.seq]


def record_outcomes(engine: Engine, outcomes: list[Outcome]) -> None:
    """After the server acknowledged the commit: drop applied ops, park the rest (one txn)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.executemany(
            "DELETE FROM outbox WHERE seq = ?",
            [(o.seq,) for o in outcomes if o.kind in ("applied", "duplicate")],
        )
        cur.executemany(
            "UPDATE outbox SET status = 'parked', attempts = attempts + 1, last_error = ? "
            "WHERE seq = ?",
            [
                (json.dumps(o.detail, default=str), o.seq)
                for o in outcomes
                if o.kind not in ("applied", "duplicate")
            ],
        )
        # Align local versions with the server's, unless more local edits of the row wait.
        cur.execute("SELECT row_id FROM outbox WHERE status IN ('pending', 'parked')")
        waiting = {r[0] for r in cur.fetchall()}
        updates: dict[str, list[tuple[int, str]]] = {}
        for out in outcomes:
            if out.kind != "applied":
                continue
            order_waits = any(i.hex in waiting for i, _ in out.versions.get("orders", []))
            for table, pairs in out.versions.items():
                if table == "order_line" and order_waits:
                    continue
                updates.setdefault(table, []).extend(
                    (v, i.hex) for i, v in pairs if i.hex not in waiting
                )
        for table, rows in updates.items():
            cur.executemany(f'UPDATE "{table}" SET version = ? WHERE id = ?', rows)  # noqa: S608
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
