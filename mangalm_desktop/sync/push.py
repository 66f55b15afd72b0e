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

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from sqlalchemy import Engine

from ..db.engine import raw_transaction
from ..db.models import SYNCED_TABLES
from ..db.outbox import BASE_FIELD, OP_UPSERT, OP_UPSERT_ORDER
from ..domain.tasks import NULL_TASK, TaskContext
from .central import check_central_schema
from .tables import SERVER_COLUMNS, STORE_SCOPED, table_spec

log = logging.getLogger(__name__)

BATCH_SIZE = 250
# Rows never changed once written. They are inserted plainly (no ON CONFLICT, no RETURNING):
# with either, Row-Level Security also requires the new row to be readable, and an agent may
# write audit entries it cannot read back (those without an agent, e.g. a failed sign-in).
# A second copy cannot happen: applied_ops skips a retried op, and a visible row conflicts.
# Payments, their allocations and promises are append-only for agents too (docs/collections.md):
# an agent has no UPDATE right on them; a manager's approval is a field-level edit (UPDATE).
APPEND_ONLY = frozenset({"audit_log", "payment", "payment_allocation", "payment_promise"})
# The payload key of an edit's "before" values: {field: value before the edit} for the fields
# it changed (``db.outbox.enqueue(base=...)``); what lets a push merge field by field.
BASE_KEY = BASE_FIELD
# An op refused because its store was moved to another agent (kept; re-sent when it is back).
STORE_MOVED = "store_moved"
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

    def __init__(
        self,
        kind: str,
        message: str,
        central: dict[str, Any] | None,
        *,
        fields: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.central = central
        self.fields = fields  # field -> {base, mine, theirs}: changed on both sides


def same_value(a: Any, b: Any) -> bool:
    """Equal as the database means it (JSON gives 50000.0 for NUMERIC 50000.00, a
    timestamp with a 'T' or a space, a UUID with or without dashes)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return (str(a).lower() in ("1", "true")) == (str(b).lower() in ("1", "true"))
    sa, sb = str(a), str(b)
    if sa == sb:
        return True
    try:
        return Decimal(sa) == Decimal(sb)
    except InvalidOperation:
        pass
    try:
        return uuid.UUID(sa) == uuid.UUID(sb)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(sa) == dt.datetime.fromisoformat(sb)
    except ValueError:
        return False


def both_changed(
    payload: dict[str, Any], base: dict[str, Any], central: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The fields this change set (``base`` holds their values before it) that the central
    row also changed, to something else: only these need a person's choice."""
    out = {}
    for name, before in base.items():
        mine, theirs = payload.get(name), central.get(name)
        if same_value(theirs, before) or same_value(theirs, mine):
            continue
        out[name] = {"base": before, "mine": mine, "theirs": theirs}
    return out


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
    if op.table_name == "orders" and central is not None and sent:
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
        base = op.payload.get(BASE_KEY)
        if op.op != OP_UPSERT or base is None:
            raise Conflict(
                "version",
                f"Changed centrally meanwhile (your change was made on version "
                f"{op.base_version}, the central row is at version {central.get('version')}).",
                central,
            )
        both = both_changed(op.payload, base, central)
        if both:
            names = ", ".join(both)
            raise Conflict(
                "version",
                f"{names} {'was' if len(both) == 1 else 'were'} changed centrally too "
                f"(your change was made on version {op.base_version}, the central row is at "
                f"version {central.get('version')}); your other changes can still be sent.",
                central,
                fields=both,
            )
        # Otherwise the fields this change touched are untouched centrally: it merges.


def _upsert_row(pg: psycopg.Connection, table: str, row: dict[str, Any]) -> tuple[uuid.UUID, int]:
    cols = _columns(table, row)
    if table in APPEND_ONLY:
        pg.execute(_append_sql(table, cols), [row[c] for c in cols])
        return uuid.UUID(str(row["id"])), 1
    got = pg.execute(_write_sql(table, cols), [row[c] for c in cols]).fetchone()
    assert got is not None  # INSERT … ON CONFLICT DO UPDATE … RETURNING always returns the row
    return got[0], got[1]


def _update_sql(table: str, cols: list[str], row: dict[str, Any]) -> tuple[str, list[Any]]:
    """UPDATE of some fields of an existing row (an INSERT ... ON CONFLICT would need every
    NOT NULL column); returns the id and the new version like the upsert."""
    spec = table_spec(table)
    sets = ", ".join(f'"{c}" = %s::{spec.pg_types[c]}' for c in cols if c != "id")
    sql = f'UPDATE "{table}" SET {sets} WHERE id = %s RETURNING id, version'  # noqa: S608
    return sql, [row[c] for c in cols if c != "id"] + [row["id"]]


def _append_sql(table: str, cols: list[str]) -> str:
    spec = table_spec(table)
    names = ", ".join(f'"{c}"' for c in cols)
    values = ", ".join(f"%s::{spec.pg_types[c]}" for c in cols)
    return f'INSERT INTO "{table}" ({names}) VALUES ({values})'  # noqa: S608


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
        pg.execute("SELECT mangalm_release_ops(%s)", ([op.op_id],))
        outcome = _conflict(op, c)
        if op.table_name == "orders":
            got = pg.execute(_CENTRAL_LINES_SQL, ([op.row_id],)).fetchone()
            outcome.detail["central_lines"] = got[1] if got else []
        return outcome
    versions: dict[str, list[tuple[uuid.UUID, int]]] = {}
    if op.op == OP_UPSERT and _partial(op):
        row = _upsert_payload(op)
        cols = _columns(op.table_name, row)
        got = pg.execute(*_update_sql(op.table_name, cols, row)).fetchone()
        assert got is not None  # _check found the central row, locked FOR UPDATE
        versions[op.table_name] = [(got[0], got[1])]
    elif op.op == OP_UPSERT:
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
        if op.base_version is not None:
            pg.execute(*_free_line_numbers(op))
        versions["order_line"] = _upsert_lines(pg, op.row_id, lines)
        keep = [uuid.UUID(str(line["id"])) for line in lines]
        pg.execute(
            "UPDATE order_line SET deleted = true WHERE order_id = %s AND NOT deleted "
            "AND NOT (id = ANY(%s))",
            (op.row_id, keep),
        )
    return Outcome(op.seq, "applied", versions)


# The live lines of orders, for showing a parked order's central version with its lines.
_CENTRAL_LINES_SQL = (
    "SELECT order_id, jsonb_agg(to_jsonb(l) - 'txid' ORDER BY line_no) FROM order_line l "
    "WHERE order_id = ANY(%s) AND NOT deleted GROUP BY order_id"
)


def _free_line_numbers(op: Op) -> tuple[str, dict[str, Any]]:
    """SQL that tombstones the central lines an amended order drops *and* that hold a line
    number the order's lines use, moving them to unused negative numbers first.

    (order, line number) is unique. When an order was amended on two devices and one
    device's version is sent again ("keep mine"), the other device's new lines sit on the
    numbers this one uses; they are not in the payload, so they become tombstones anyway,
    and a tombstone must not block the number. Negative numbers below every existing one
    are never used by a live line.
    """
    lines = op.payload.get("lines", [])
    keep = [uuid.UUID(str(line["id"])) for line in lines]
    numbers = [int(line["line_no"]) for line in lines]
    sql = (
        "WITH clash AS (SELECT id, row_number() OVER (ORDER BY line_no, id) AS n "
        "FROM order_line WHERE order_id = %(order)s AND NOT (id = ANY(%(keep)s)) "
        "AND line_no = ANY(%(numbers)s)), "
        "floor AS (SELECT least(coalesce(min(line_no), 0), 0) AS m FROM order_line "
        "WHERE order_id = %(order)s) "
        "UPDATE order_line l SET deleted = true, line_no = floor.m - clash.n "
        "FROM clash, floor WHERE l.id = clash.id"
    )
    return sql, {"order": op.row_id, "keep": keep, "numbers": numbers}


def _conflict(op: Op, c: Conflict) -> Outcome:
    kind = "rejected" if c.kind == "rejected" else "conflict"
    detail = {"kind": c.kind, "message": c.message, "central": c.central}
    if c.fields is not None:
        detail["fields"] = c.fields
    return Outcome(op.seq, kind, detail=detail)


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


def _multi_upsert(
    table: str, cols: tuple[str, ...], rows: list[dict[str, Any]]
) -> Iterator[tuple[str, list[str]]]:
    """One upsert of all ``rows`` (same columns), sent as one JSON document.

    ``json_to_recordset`` turns the document into typed rows on the server, so the statement
    text stays constant per column set and the client only runs ``json.dumps`` (C speed)
    instead of adapting every value.
    """
    spec = table_spec(table)
    names = ", ".join(f'"{c}"' for c in cols)
    record = ", ".join(f'"{c}" {spec.pg_types[c]}' for c in cols)
    sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols if c != "id")
    action = (
        ""
        if table in APPEND_ONLY
        else f"ON CONFLICT (id) DO UPDATE SET {sets} RETURNING id, version"
    )
    sql = (
        f'INSERT INTO "{table}" ({names}) SELECT {names} '  # noqa: S608
        f"FROM json_to_recordset(%s::json) AS x({record}) {action}"
    )
    doc = json.dumps([{c: r.get(c) for c in cols} for r in rows], default=str)
    yield sql, [doc]


def _upsert_payload(op: Op) -> dict[str, Any]:
    """The row an ``upsert`` writes: for an edit that says which fields it changed (its
    ``_base``), only those fields and the id — so the central row's other fields, which
    someone else may have changed since, stay as they are — else the whole row."""
    base = op.payload.get(BASE_KEY)
    if op.base_version is not None and base is not None:
        return {"id": str(op.row_id), **{k: op.payload.get(k) for k in base}}
    return {**op.payload, "id": str(op.row_id)}


def _partial(op: Op) -> bool:
    return op.op == OP_UPSERT and op.base_version is not None and BASE_KEY in op.payload


def _rows_of(op: Op) -> list[tuple[str, dict[str, Any]]]:
    """(table, row) pairs an applicable op writes, with ids and server rules filled in."""
    if op.op == OP_UPSERT:
        return [(op.table_name, _upsert_payload(op))]
    order = {**op.payload["order"], "id": str(op.row_id)}
    if order.get("state") == "submitted":
        order["state"] = "synced"  # central has it now (DESIGN §2 order states)
    lines = [{**line, "order_id": str(op.row_id)} for line in op.payload.get("lines", [])]
    return [("orders", order)] + [("order_line", line) for line in lines]


def _apply_batch_pipelined(pg: psycopg.Connection, ops: list[Op]) -> list[Outcome]:
    """Set-based batch: a handful of statements per batch, all pipelined.

    Phase 1 claims every op id in one INSERT and locks the central rows with one SELECT per
    table. Decisions are made here, simulating the version bumps of earlier ops of the batch on
    the same row. Phase 2 writes in "waves" in which each row occurs once (multi-row upserts
    cannot touch a row twice), one multi-row upsert per table and column set.
    """
    outcomes: list[Outcome] = []
    valid = [op for op in ops if op.table_name in SYNCED_TABLES]
    for op in ops:
        if op.table_name not in SYNCED_TABLES:
            outcomes.append(
                _conflict(op, Conflict("rejected", f"{op.table_name!r} is not synced.", None))
            )
    with pg.transaction():
        with pg.pipeline():
            claim = pg.execute(
                "INSERT INTO applied_ops (op_id, table_name, row_id) "
                "SELECT * FROM unnest(%s::uuid[], %s::text[], %s::uuid[]) "
                "ON CONFLICT (op_id) DO NOTHING RETURNING op_id",
                (
                    [op.op_id for op in valid],
                    [op.table_name for op in valid],
                    [op.row_id for op in valid],
                ),
            )
            locks = {
                table: pg.execute(
                    f"SELECT id, to_jsonb(t) - 'txid' FROM \"{table}\" t "  # noqa: S608
                    "WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                    ([op.row_id for op in valid if op.table_name == table],),
                )
                for table in sorted({op.table_name for op in valid})
            }
        claimed = {r[0] for r in claim.fetchall()}
        central_rows = {
            (table, rid): row for table, cur in locks.items() for rid, row in cur.fetchall()
        }
        seen: dict[tuple[str, uuid.UUID], dict[str, Any] | None] = {}
        order_seqs = {op.seq: op.row_id for op in valid if op.table_name == "orders"}
        plans: list[Op] = []
        unclaim: list[uuid.UUID] = []
        for op in valid:
            key = (op.table_name, op.row_id)
            central = seen[key] if key in seen else central_rows.get(key)
            if op.op_id not in claimed:
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
            after.update(_rows_of(op)[0][1])
            after["version"] = (central["version"] + 1) if central else 1
            seen[key] = after
            plans.append(op)
        # Waves: a new wave starts when an op touches a row already written in this one.
        waves: list[list[Op]] = []
        touched: set[tuple[str, str]] = set()
        for op in plans:
            keys = {(t, str(r["id"])) for t, r in _rows_of(op)}
            if not waves or keys & touched:
                waves.append([])
                touched = set()
            waves[-1].append(op)
            touched |= keys
        results: list[tuple[list[Op], list[Any]]] = []
        parked_orders = {o.seq: o for o in outcomes if o.kind == "conflict" and o.seq in order_seqs}
        with pg.pipeline():
            if unclaim:
                pg.execute("SELECT mangalm_release_ops(%s)", (unclaim,))
            lines_cur = (
                pg.execute(_CENTRAL_LINES_SQL, ([order_seqs[seq] for seq in parked_orders],))
                if parked_orders
                else None
            )
            for wave in waves:
                groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
                partial: list[tuple[str, list[str], dict[str, Any]]] = []
                for op in wave:
                    for table, row in _rows_of(op):
                        cols = tuple(_columns(table, row))
                        if _partial(op):
                            partial.append((table, list(cols), row))
                        else:
                            groups.setdefault((table, cols), []).append(row)
                cursors = []
                for op in wave:
                    if op.op == OP_UPSERT_ORDER and op.base_version is not None:
                        pg.execute(*_free_line_numbers(op))
                # Parents before children (a wave holds each row once, so this keeps every
                # row's own order), e.g. an order before feedback rows queued ahead of it.
                for (table, cols), rows in sorted(
                    groups.items(), key=lambda g: SYNCED_TABLES.index(g[0][0])
                ):
                    for sql, params in _multi_upsert(table, cols, rows):
                        cur = pg.execute(sql, params)
                        if table not in APPEND_ONLY:
                            cursors.append((table, cur))
                for table, fields, row in partial:  # field-level edits (rare): one UPDATE each
                    cursors.append((table, pg.execute(*_update_sql(table, fields, row))))
                orders = [op for op in wave if op.op == OP_UPSERT_ORDER]
                if orders:
                    keep = [
                        uuid.UUID(str(line["id"]))
                        for op in orders
                        for line in op.payload.get("lines", [])
                    ]
                    pg.execute(
                        "UPDATE order_line SET deleted = true WHERE order_id = ANY(%s) "
                        "AND NOT deleted AND NOT (id = ANY(%s))",
                        ([op.row_id for op in orders], keep),
                    )
                results.append((wave, cursors))
        if lines_cur is not None:
            central_lines: dict[uuid.UUID, list[dict[str, Any]]] = dict(lines_cur.fetchall())
            for seq, outcome in parked_orders.items():
                outcome.detail["central_lines"] = central_lines.get(order_seqs[seq], [])
        for wave, cursors in results:
            version_of: dict[tuple[str, uuid.UUID], int] = {}
            for table, cur in cursors:
                for rid, version in cur.fetchall():
                    version_of[(table, rid)] = version
            for op in wave:
                versions: dict[str, list[tuple[uuid.UUID, int]]] = {}
                for table, row in _rows_of(op):
                    rid = uuid.UUID(str(row["id"]))
                    if table in APPEND_ONLY:  # a plain insert (1), or a field-level edit
                        version = version_of.get((table, rid), 1)
                    else:
                        version = version_of[(table, rid)]
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


def op_store_id(op_table: str, row_id: uuid.UUID, payload: dict[str, Any]) -> uuid.UUID | None:
    """The store an op belongs to (None for rows of no store, e.g. audit entries)."""
    if op_table == "store":
        return row_id
    if op_table not in STORE_SCOPED:
        return None
    row = payload.get("order", payload)
    value = row.get("store_id")
    return uuid.UUID(str(value)) if value else None


def mark_moved_stores(pg: psycopg.Connection, ops: list[Op], outcomes: list[Outcome]) -> None:
    """Say why an op was refused when its store is no longer this user's (moved to another
    agent): kind ``store_moved``. Such an op is kept and sent again by itself once the store
    is this user's again (see :func:`requeue_returned_stores`), or the user discards it."""
    by_seq = {op.seq: op for op in ops}
    refused = {}
    for out in outcomes:
        op = by_seq.get(out.seq)
        if op is None or out.kind not in ("rejected", "conflict"):
            continue
        if out.detail.get("kind") not in ("rejected", "missing", "exists"):
            continue
        store = op_store_id(op.table_name, op.row_id, op.payload)
        if store is not None:
            refused[out.seq] = store
    if not refused:
        return
    with pg.transaction():
        visible = {
            r[0]
            for r in pg.execute(
                "SELECT id FROM store WHERE id = ANY(%s) AND NOT deleted",
                (list(set(refused.values())),),
            )
        }
    for out in outcomes:
        store = refused.get(out.seq)
        if store is None or store in visible:
            continue
        out.kind = "conflict"
        out.detail = {
            "kind": STORE_MOVED,
            "message": "The store is no longer yours (it was moved to another agent), so "
            "the server refused this change. It is kept here and sent by itself when the "
            "store is yours again; or discard it (take central) and ask the store's agent "
            "or a manager to enter it.",
            "central": None,
            "store_id": str(store),
            "server_said": out.detail.get("message"),
        }


def requeue_returned_stores(engine: Engine) -> int:
    """Parked ``store_moved`` ops whose store is on this laptop again go back to the queue."""
    with engine.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, last_error FROM outbox WHERE status = 'parked'"
        ).all()
        mine = {r[0] for r in conn.exec_driver_sql("SELECT id FROM store WHERE NOT deleted")}
        back = []
        for seq, last_error in rows:
            detail = json.loads(last_error) if last_error else {}
            store = detail.get("store_id")
            if detail.get("kind") == STORE_MOVED and store and uuid.UUID(store).hex in mine:
                back.append((seq,))
        if back:
            conn.exec_driver_sql(
                "UPDATE outbox SET status = 'pending', last_error = NULL WHERE seq = ?", back
            )
    if back:
        log.info("%d change(s) kept for stores that are yours again are sent", len(back))
    return len(back)


def record_outcomes(engine: Engine, outcomes: list[Outcome]) -> None:
    """After the server acknowledged the commit: drop applied ops, park the rest (one txn)."""
    with raw_transaction(engine) as raw:
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


def pending_count(engine: Engine) -> tuple[int, int]:
    """(pending, parked) op counts for the status bar."""
    with engine.connect() as conn:
        rows: dict[str, int] = dict(
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
        mark_moved_stores(pg, ops, outcomes)
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
