"""Hand a parked order over to its store's new agent (``mangalm sync hand-over SEQ``).

An order parked as ``store_moved`` (its store was moved to another agent before the order was
sent) is re-sent by itself if the store comes back. If it does not, the agent hands it over:
the central :func:`mangalm_hand_over_order` (see :mod:`.central_handover`) inserts it as the new
agent's order, and this laptop then drops the op and any local copy in one SQLite transaction.
The central call is idempotent by op id, so a cut connection between the server's commit and
the local clean-up is harmless: the next attempt gets the same number back and cleans up.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Engine

from ..db.outbox import OP_UPSERT_ORDER
from ..domain.errors import UserError
from .conflicts import ConflictItem
from .push import STORE_MOVED


@dataclass(frozen=True)
class HandOver:
    """What a hand-over did, for the face to say."""

    seq: int
    order_id: uuid.UUID
    old_number: str
    number: str  # the order's number in the new agent's series


def can_hand_over(item: ConflictItem) -> bool:
    """Whether a parked change is an order kept for a moved store (the Sync view's button;
    :func:`hand_over` checks the rest)."""
    return item.kind == STORE_MOVED and item.table_name == "orders" and "lines" in item.mine


def _parked_order(engine: Engine, seq: int) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT op_id, row_id, table_name, op, base_version, payload, last_error, status "
            "FROM outbox WHERE seq = ?",
            (seq,),
        ).first()
        if row is None:
            raise UserError(f"There is no parked change #{seq} (it may have been settled already).")
        op_id, row_id, table, op, base, payload, last_error, status = row
        kind = (json.loads(last_error) if last_error else {}).get("kind")
        if status != "parked" or kind != STORE_MOVED or table != "orders":
            raise UserError(
                f"Change #{seq} cannot be handed over: only an order kept because its store was "
                "moved to another agent can be.",
                hint="`mangalm sync conflicts` lists the parked changes and why.",
            )
        if op != OP_UPSERT_ORDER or base is not None:
            raise UserError(
                f"Change #{seq} changes an order the server already has; only a new order can "
                "be handed over.",
                hint="Discard it with `mangalm sync resolve SEQ --keep theirs`.",
            )
        others = conn.exec_driver_sql(
            "SELECT count(*) FROM outbox WHERE row_id = ? AND seq <> ?", (row_id, seq)
        ).scalar_one()
        if others:
            raise UserError(
                f"Change #{seq}'s order has {others} later change(s) waiting; settle those first.",
            )
    return uuid.UUID(op_id), uuid.UUID(row_id), json.loads(payload)


def hand_over(engine: Engine, pg: psycopg.Connection, seq: int) -> HandOver:
    """Hand parked order ``seq`` to its store's current agent; it leaves this laptop."""
    op_id, order_id, payload = _parked_order(engine, seq)
    order = dict(payload["order"])
    order["id"] = str(order_id)
    try:
        with pg.transaction():
            got = pg.execute(
                "SELECT mangalm_hand_over_order(%s, %s, %s)",
                (op_id, Jsonb(order), Jsonb(payload.get("lines", []))),
            ).fetchone()
    except psycopg.errors.UndefinedFunction:
        raise UserError(
            "The central database cannot take hand-overs yet.",
            hint="Ask the administrator to run `mangalm central init` (it updates the server).",
        ) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise UserError(
            f"The server refused the hand-over: {exc.diag.message_primary or exc}.",
            hint="Discard the order with `mangalm sync resolve SEQ --keep theirs` and ask the "
            "store's agent or a manager to enter it.",
        ) from None
    number = str(got[0]) if got else ""
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM outbox WHERE seq = ?", (seq,))
        conn.exec_driver_sql("DELETE FROM order_line WHERE order_id = ?", (order_id.hex,))
        conn.exec_driver_sql("DELETE FROM orders WHERE id = ?", (order_id.hex,))
    return HandOver(seq, order_id, str(order.get("number", "")), number)
