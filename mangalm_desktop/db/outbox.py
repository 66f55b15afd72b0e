"""The outbox: local changes waiting to be pushed to the central database (DESIGN §3).

A change and its outbox record are written in the *same* SQLite transaction by passing the same
session, so a crash leaves either both or neither. Each record carries a client-made ``op_id``
(the server skips ops it has applied already) and the ``base_version`` the change was made
against (the server parks the op as a conflict when its row has moved on).

Op kinds:
- ``upsert``: one row of ``table_name`` (payload: the row's columns after the change);
- ``upsert_order``: an order with all its lines, applied atomically centrally
  (payload: ``{"order": {...}, "lines": [{...}, ...]}``; lines absent from the payload are
  tombstoned centrally). ``base_version`` is the order's version before the change, ``None``
  for a new order.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from .models import Outbox, Synced, new_id

OP_UPSERT = "upsert"
OP_UPSERT_ORDER = "upsert_order"
# In an ``upsert`` payload: {field: value before this edit} for the fields the edit changed.
# The push then writes only those fields and, if the central row moved on meanwhile, merges
# field by field: only a field changed on both sides is a conflict.
BASE_FIELD = "_base"


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in an outbox payload")


def row_payload(obj: object) -> dict[str, Any]:
    """All mapped column values of an ORM object, keyed by column name."""
    mapper = inspect(obj).mapper
    return {attr.columns[0].name: getattr(obj, attr.key) for attr in mapper.column_attrs}


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, default=_json_default, separators=(",", ":"), sort_keys=True)


def enqueue(
    session: Session,
    *,
    table_name: str,
    row_id: uuid.UUID,
    op: str,
    base_version: int | None,
    payload: dict[str, Any],
    base: dict[str, Any] | None = None,
) -> Outbox:
    """Add an outbox record to ``session``'s transaction (flushes nothing by itself).

    ``base``: for an edit of an existing row, the changed fields' values before the edit."""
    if base is not None:
        payload = {**payload, BASE_FIELD: base}
    record = Outbox(
        op_id=new_id(),
        table_name=table_name,
        row_id=row_id,
        op=op,
        base_version=base_version,
        payload=dumps(payload),
    )
    session.add(record)
    return record


def enqueue_row(
    session: Session,
    row: Synced,
    *,
    base_version: int | None = None,
    base: dict[str, Any] | None = None,
) -> Outbox:
    """Queue ``row`` (of a synced table) as an ``upsert`` of all its columns, in ``session``'s transaction (the
    table from its mapping). Flushes first, so the payload holds what the database filled in.
    A new row: no ``base_version``; an edit: the version it was made against and ``base``
    (see :func:`enqueue`), as :func:`edit_row` passes them."""
    session.flush()
    return enqueue(
        session,
        table_name=inspect(row).mapper.local_table.name,
        row_id=row.id,
        op=OP_UPSERT,
        base_version=base_version,
        payload=row_payload(row),
        base=base,
    )


def edit_row(session: Session, row: Synced, **values: object) -> dict[str, Any]:
    """Set ``values`` on an existing synced row: when any differs, bump its version and queue
    the row with the changed fields' old values (pushed and merged field by field). Returns
    those old values ({} = nothing changed, nothing queued)."""
    before = {k: getattr(row, k) for k, v in values.items() if getattr(row, k) != v}
    if not before:
        return before
    for k in before:
        setattr(row, k, values[k])
    base_version = row.version
    row.version = base_version + 1
    enqueue_row(session, row, base_version=base_version, base=before)
    return before


def pending(session: Session, limit: int = 500) -> list[Outbox]:
    """Pending ops in the order they were made (parked conflicts are left out)."""
    stmt = select(Outbox).where(Outbox.status == "pending").order_by(Outbox.seq).limit(limit)
    return list(session.scalars(stmt))
