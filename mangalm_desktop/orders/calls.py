"""Call log and store stock capture, each row pushed through the outbox in its own transaction.

A call records its outcome (ordered / call back on a date / no answer / not needed), notes and
the next call date, which the call list uses. Stock capture records what the store says is on
its shelf per product today; the suggestions subtract it (DESIGN §5).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ..db import outbox
from ..db.access import require_store
from ..db.engine import session_scope
from ..db.models import CallLog, Product, StoreStockReport, new_id
from ..db.types import utcnow
from ..domain.enums import CallOutcome
from ..domain.errors import UserError
from ..security.roles import Identity
from .access import authorise_order
from .validation import resolve_store


@dataclass(frozen=True)
class CallView:
    id: uuid.UUID
    called_at: dt.datetime
    outcome: str
    notes: str | None
    next_call_date: dt.date | None
    order_id: uuid.UUID | None


def _store_id(session: Session, store: uuid.UUID | str | None) -> uuid.UUID:
    found, problem = resolve_store(session, store)
    if problem is not None and found is None:
        raise UserError(problem.message)
    assert found is not None
    return found.id


def _outcome(outcome: CallOutcome | str) -> CallOutcome:
    try:
        return CallOutcome(outcome)
    except ValueError:
        choices = ", ".join(c.value for c in CallOutcome)
        raise UserError(f"Unknown call outcome {outcome!r}; choose one of {choices}.") from None


def _check_call(
    outcome: CallOutcome,
    next_call_date: dt.date | None,
    reason_id: uuid.UUID | None,
    today: dt.date,
) -> None:
    """The rules of a call row, checked before anything is written."""
    if outcome is CallOutcome.CALL_BACK and next_call_date is None:
        raise UserError("A call back needs the date to call back on.")
    if outcome is CallOutcome.NO_ORDER and reason_id is None:
        raise UserError(
            "A visit without an order needs its reason.",
            hint="Choose one from the list of reasons (managers keep it).",
        )
    if next_call_date is not None and next_call_date < today:
        raise UserError(f"The next call date {next_call_date:%d %b %Y} is in the past.")


def add_call(
    session: Session,
    *,
    store_id: uuid.UUID,
    agent_id: uuid.UUID | None,
    outcome: CallOutcome | str,
    notes: str | None = None,
    next_call_date: dt.date | None = None,
    order_id: uuid.UUID | None = None,
    reason_id: uuid.UUID | None = None,
    today: dt.date | None = None,
) -> uuid.UUID:
    """One call row and its outbox op inside the caller's session (no commit of its own).

    The caller has authorised the person (:func:`log_call`, ``visits.service.save_visit``)."""
    checked = _outcome(outcome)
    _check_call(checked, next_call_date, reason_id, today or dt.date.today())
    if checked is not CallOutcome.NO_ORDER:
        reason_id = None  # a reason belongs to "no order" only
    row = CallLog(
        id=new_id(),
        store_id=store_id,
        agent_id=agent_id,
        called_at=utcnow(),
        outcome=checked.value,
        notes=(notes or "").strip() or None,
        next_call_date=next_call_date,
        scheduled=next_call_date is not None,
        order_id=order_id,
        reason_id=reason_id,
    )
    session.add(row)
    outbox.enqueue_row(session, row)
    return row.id


def log_call(
    engine: Engine,
    *,
    identity: Identity | None,
    store: uuid.UUID | str,
    agent_id: uuid.UUID | None,
    outcome: CallOutcome | str,
    notes: str | None = None,
    next_call_date: dt.date | None = None,
    order_id: uuid.UUID | None = None,
    reason_id: uuid.UUID | None = None,
    today: dt.date | None = None,
) -> uuid.UUID:
    """Record one call; a call back needs its date, and next call dates lie in the future.

    ``identity`` as for an order (checked in the write's transaction): an agent logs calls only
    at their own stores and only in their own name."""
    checked = _outcome(outcome)
    today = today or dt.date.today()
    _check_call(checked, next_call_date, reason_id, today)
    with session_scope(engine) as session:
        store_id = _store_id(session, store)
        authorise_order(session, identity, store_id=store_id, agent_id=agent_id)
        return add_call(
            session,
            store_id=store_id,
            agent_id=agent_id,
            outcome=checked,
            notes=notes,
            next_call_date=next_call_date,
            order_id=order_id,
            reason_id=reason_id,
            today=today,
        )


def recent_calls(
    session: Session, store_id: uuid.UUID, limit: int = 20, *, identity: Identity | None
) -> list[CallView]:
    require_store(session, identity, store_id)
    stmt = (
        select(CallLog)
        .where(CallLog.store_id == store_id, CallLog.deleted.is_(False))
        .order_by(CallLog.called_at.desc())
        .limit(limit)
    )
    return [
        CallView(c.id, c.called_at, c.outcome, c.notes, c.next_call_date, c.order_id)
        for c in session.scalars(stmt)
    ]


def record_stock(
    engine: Engine,
    *,
    identity: Identity | None,
    store: uuid.UUID | str,
    agent_id: uuid.UUID | None,
    quantities: dict[uuid.UUID | str, int],
    reported_on: dt.date | None = None,
) -> int:
    """Store what the shelf holds per product (by id or SKU); all rows or none. Returns count.

    ``identity`` as for :func:`log_call`: their own stores, in their own name."""
    if not quantities:
        raise UserError("No stock to record; enter at least one product's shelf quantity.")
    with session_scope(engine) as session:
        store_id = _store_id(session, store)
        authorise_order(session, identity, store_id=store_id, agent_id=agent_id)
        return add_stock(
            session,
            store_id=store_id,
            agent_id=agent_id,
            quantities=quantities,
            reported_on=reported_on,
        )


def add_stock(
    session: Session,
    *,
    store_id: uuid.UUID,
    agent_id: uuid.UUID | None,
    quantities: dict[uuid.UUID | str, int],
    reported_on: dt.date | None = None,
) -> int:
    """:func:`record_stock` inside the caller's session (authorised by the caller): every row
    is checked before any is added."""
    reported_on = reported_on or dt.date.today()
    rows = []
    problems = []
    for ref, qty in quantities.items():
        product = _product(session, ref)
        if product is None:
            problems.append(f"Unknown product {ref!s}.")
            continue
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            problems.append(
                f"Shelf quantity of {product.sku or product.name} must be 0 or more (got {qty!r})."
            )
            continue
        rows.append(
            StoreStockReport(
                id=new_id(),
                store_id=store_id,
                product_id=product.id,
                agent_id=agent_id,
                reported_on=reported_on,
                quantity=qty,
                created_at=utcnow(),
            )
        )
    if problems:
        raise UserError("Stock not recorded:\n" + "\n".join(f"- {p}" for p in problems))
    for row in rows:
        session.add(row)
        outbox.enqueue_row(session, row)
    return len(rows)


def _product(session: Session, ref: uuid.UUID | str) -> Product | None:
    if isinstance(ref, uuid.UUID):
        return session.get(Product, ref)
    return session.scalar(select(Product).where(Product.sku == ref.strip()))


def latest_stock(
    session: Session, store_id: uuid.UUID, *, identity: Identity | None
) -> dict[uuid.UUID, tuple[dt.date, int]]:
    """The most recent shelf quantity per product for a store."""
    require_store(session, identity, store_id)
    stmt = (
        select(StoreStockReport.product_id, StoreStockReport.reported_on, StoreStockReport.quantity)
        .where(StoreStockReport.store_id == store_id, StoreStockReport.deleted.is_(False))
        .order_by(StoreStockReport.reported_on, StoreStockReport.created_at)
    )
    return {pid: (day, qty) for pid, day, qty in session.execute(stmt)}
