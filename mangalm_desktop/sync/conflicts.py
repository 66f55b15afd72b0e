"""Parked ops: list them with both versions, and apply the user's choice (DESIGN §3).

A conflict is never resolved silently, and only a real one is parked: an edit that says which
fields it changed (its ``_base``, e.g. a store profile) merges with whatever else changed
centrally, and only the fields *both* sides changed to different values are shown. An order
is parked as a whole, shown with its lines per product. The Conflicts list shows "yours"
next to "central" and the user picks:

- ``theirs``: take the central values: for a field-level conflict only the fields both sides
  changed (the edit's other fields are sent again against the current central row); otherwise
  the row (and an order's lines) is fetched again and written over the local edit, and the op
  is dropped;
- ``mine``: send the local version again, now based on the central row's current version
  (a field-level edit writes only its own fields, so the others' changes stay).
  Not offered for orders already sent to Zoho (server-authoritative) or ops the server refuses
  outright (no permission); those can only be discarded with ``theirs``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import Boolean, Date, Engine, Integer, Uuid, update

from ..db.engine import raw_transaction
from ..db.models import Base
from ..db.outbox import BASE_FIELD, dumps
from ..db.types import Money, UTCDateTime
from ..domain.errors import UserError
from .push import STORE_MOVED
from .tables import table_spec

NOT_KEEPABLE = frozenset({"server_authoritative", "rejected"})


@dataclass(frozen=True)
class LineDifference:
    """One product of a parked order whose quantity differs: ``None`` = not on that side."""

    product_id: str
    product: str  # the SKU, as people and the order form name products
    name: str
    mine_qty: Any
    theirs_qty: Any


@dataclass(frozen=True)
class ConflictItem:
    """One parked op as the Sync view shows it."""

    seq: int
    table_name: str
    row_id: uuid.UUID
    kind: str
    message: str
    mine: dict[str, Any]
    theirs: dict[str, Any] | None
    attempts: int
    theirs_lines: list[dict[str, Any]] | None = None  # an order's central lines
    # A field-level conflict: only these fields were changed on both sides, name ->
    # {"base", "mine", "theirs"}; the edit's other fields merge whichever is chosen.
    fields: dict[str, dict[str, Any]] | None = None
    products: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (sku, name)

    @property
    def can_keep_mine(self) -> bool:
        return self.kind not in NOT_KEEPABLE

    def differences(self) -> list[tuple[str, Any, Any]]:
        """(field, mine, central) for the fields that differ, for a side-by-side view."""
        if self.fields is not None:
            return [(k, v.get("mine"), v.get("theirs")) for k, v in sorted(self.fields.items())]
        mine = self.mine.get("order", self.mine)
        theirs = self.theirs or {}
        skip = {"version", "updated_at", "txid", "created_at", BASE_FIELD}
        keys = sorted((set(mine) | set(theirs)) - skip)
        out = []
        for k in keys:
            a, b = mine.get(k), theirs.get(k)
            if _norm(a) != _norm(b):
                out.append((k, a, b))
        return out

    def line_differences(self) -> list[LineDifference]:
        """For a parked order: the products whose quantity differs between this laptop's
        version and the central one (added, removed or changed on either side)."""
        if "lines" not in self.mine:
            return []

        def by_product(lines: list[dict[str, Any]] | None) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for line in lines or []:
                if not line.get("deleted"):
                    out[_norm(line.get("product_id"))] = line.get("quantity")
            return out

        mine, theirs = by_product(self.mine["lines"]), by_product(self.theirs_lines)
        out = []
        for pid in sorted(set(mine) | set(theirs)):
            a, b = mine.get(pid), theirs.get(pid)
            if _norm(a) != _norm(b):
                sku, name = self.products.get(pid, (pid[:8], ""))
                out.append(LineDifference(pid, sku, name, a, b))
        return sorted(out, key=lambda d: d.product)


def _norm(v: Any) -> str:
    s = "" if v is None else str(v)
    try:
        return str(uuid.UUID(s))
    except ValueError:
        pass
    try:
        return str(float(s))
    except ValueError:
        return s.replace("T", " ")


def list_conflicts(engine: Engine) -> list[ConflictItem]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, table_name, row_id, payload, last_error, attempts FROM outbox "
            "WHERE status = 'parked' ORDER BY seq"
        ).all()
        products = (
            {
                str(uuid.UUID(pid)): (sku, name)
                for pid, sku, name in conn.exec_driver_sql("SELECT id, sku, name FROM product")
            }
            if rows
            else {}
        )
    items = []
    for seq, table, row_id, payload, last_error, attempts in rows:
        detail = json.loads(last_error) if last_error else {}
        items.append(
            ConflictItem(
                seq=seq,
                table_name=table,
                row_id=uuid.UUID(row_id),
                kind=detail.get("kind", "rejected"),
                message=detail.get("message", ""),
                mine=json.loads(payload),
                theirs=detail.get("central"),
                attempts=attempts,
                theirs_lines=detail.get("central_lines"),
                fields=detail.get("fields"),
                products=products,
            )
        )
    return items


def _get(engine: Engine, seq: int) -> ConflictItem:
    for item in list_conflicts(engine):
        if item.seq == seq:
            return item
    raise UserError(f"There is no parked change #{seq} (it may have been resolved already).")


def resolve(engine: Engine, pg: psycopg.Connection, seq: int, choice: str) -> None:
    """Apply the user's choice for parked op ``seq``: ``"mine"`` or ``"theirs"``."""
    item = _get(engine, seq)
    if choice == "mine":
        if not item.can_keep_mine:
            raise UserError(
                "This change cannot be sent again: " + item.message,
                hint="Choose the central version to discard your change.",
            )
        if item.kind == STORE_MOVED:
            # Tried again as it was; refused (and kept) again while the store is not yours.
            with engine.begin() as conn:
                conn.exec_driver_sql(
                    "UPDATE outbox SET status = 'pending', last_error = NULL WHERE seq = ?",
                    (seq,),
                )
            return
        central = _central_json(pg, item)
        base = central["version"] if central else None
        payload = dict(item.mine)
        if BASE_FIELD in payload and central is not None:
            # Sent again against the row as it is now: the edit's fields win, the rest
            # of the central row stays (and a newer central change is caught again).
            payload[BASE_FIELD] = {k: central.get(k) for k in payload[BASE_FIELD]}
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE outbox SET status = 'pending', base_version = ?, payload = ?, "
                "last_error = NULL WHERE seq = ?",
                (base, dumps(payload), seq),
            )
        return
    if choice != "theirs":
        raise UserError(f"Unknown choice {choice!r}: use 'mine' or 'theirs'.")
    if item.fields is not None and set(item.mine.get(BASE_FIELD, {})) - set(item.fields):
        _take_central_fields(engine, pg, item)
        return
    _take_central(engine, pg, item)


def _central_json(pg: psycopg.Connection, item: ConflictItem) -> dict[str, Any] | None:
    spec = table_spec(item.table_name)
    with pg.transaction():
        row = pg.execute(
            f"SELECT to_jsonb(t) - 'txid' FROM \"{spec.name}\" t WHERE id = %s",  # noqa: S608
            (item.row_id,),
        ).fetchone()
    return row[0] if row else None


def _py(column: Any, value: Any) -> Any:
    """A JSON payload value as the Python value the column's type binds."""
    if value is None:
        return None
    t = column.type
    if isinstance(t, Money):
        return Decimal(str(value))
    if isinstance(t, UTCDateTime):
        return dt.datetime.fromisoformat(str(value))
    if isinstance(t, Date):
        return dt.date.fromisoformat(str(value)[:10])
    if isinstance(t, Uuid):
        return uuid.UUID(str(value))
    if isinstance(t, Boolean):
        return bool(value)
    if isinstance(t, Integer):
        return int(value)
    return value


def _take_central_fields(engine: Engine, pg: psycopg.Connection, item: ConflictItem) -> None:
    """ "Theirs" for a field-level conflict: the central values of the fields both sides
    changed; the edit's other fields stay and are sent again against the current row."""
    assert item.fields is not None
    spec = table_spec(item.table_name)
    with pg.transaction():
        rows = _fetch(pg, item.table_name, "id = %s", item.row_id)
    central = _central_json(pg, item)
    if not rows or central is None:
        _take_central(engine, pg, item)
        return
    keep = [k for k in item.mine[BASE_FIELD] if k not in item.fields]
    payload = {k: v for k, v in item.mine.items() if k != BASE_FIELD}
    payload.update({k: central.get(k) for k in item.fields})
    payload[BASE_FIELD] = {k: central.get(k) for k in keep}
    table = Base.metadata.tables[spec.name]
    values = {k: _py(table.c[k], item.mine.get(k)) for k in keep}
    values["version"] = central["version"] + 1  # what the push will make it
    with engine.begin() as conn:
        conn.exec_driver_sql(spec.sqlite_upsert(force=True), rows[0])
        conn.execute(update(table).where(table.c.id == item.row_id).values(**values))
        conn.exec_driver_sql(
            "UPDATE outbox SET status = 'pending', base_version = ?, payload = ?, "
            "last_error = NULL WHERE seq = ?",
            (central["version"], dumps(payload), item.seq),
        )


def _fetch(
    pg: psycopg.Connection, table: str, where: str, value: uuid.UUID
) -> list[tuple[Any, ...]]:
    spec = table_spec(table)
    with pg.cursor() as cur, cur.copy(spec.copy_sql(where), (value,)) as copy:
        return [tuple(r) for r in copy.rows()]


def _take_central(engine: Engine, pg: psycopg.Connection, item: ConflictItem) -> None:
    """Drop the op and overwrite the local row (and an order's lines) with the central one.

    The central rows are read first (one row or one order: small), then everything local
    changes in a single SQLite transaction, so an interruption leaves the conflict as it was.
    """
    is_order = item.table_name == "orders"
    with pg.transaction():
        rows = _fetch(pg, item.table_name, "id = %s", item.row_id)
        lines = _fetch(pg, "order_line", "order_id = %s", item.row_id) if is_order else []
    with raw_transaction(engine) as raw:
        cur = raw.cursor()
        cur.execute("DELETE FROM outbox WHERE seq = ?", (item.seq,))
        if is_order:
            cur.execute("DELETE FROM order_line WHERE order_id = ?", (item.row_id.hex,))
        if rows:
            cur.executemany(table_spec(item.table_name).sqlite_upsert(force=True), rows)
            cur.executemany(table_spec("order_line").sqlite_upsert(force=True), lines)
        else:
            # Gone centrally or no longer visible to this user: the local copy goes too.
            cur.execute(
                f'DELETE FROM "{item.table_name}" WHERE id = ?',  # noqa: S608 - model identifier
                (item.row_id.hex,),
            )
