"""Lines a new order starts with: the store's latest AI suggestions, else its last order.

Suggestions are read from the ``prediction`` table the forecasting service fills (the orders
and forecasting packages are independent layers, so this reads the table, not their code).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.access import require_store
from ..db.models import Invoice, InvoiceLine, Order, OrderLine, Prediction, Product
from ..domain.enums import OrderKind, OrderState
from ..security.roles import Identity
from .model import LineInput, Suggestion


@dataclass(frozen=True)
class Prefill:
    source: str  # "suggestions" | "last_order" | "last_invoice" | "none"
    lines: list[LineInput]
    suggestions: list[Suggestion]


def _active(session: Session, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    stmt = select(Product.id).where(Product.id.in_(ids), Product.active.is_(True))
    return set(session.scalars(stmt))


def prefill(session: Session, store_id: uuid.UUID, *, identity: Identity | None) -> Prefill:
    """The lines a new order starts with: the suggestions, else the last order's lines; an
    agent gets only their own stores'."""
    require_store(session, identity, store_id)
    # The newest prediction per product (a forecast run may write its rows over some time).
    newest: dict[uuid.UUID, Prediction] = {}
    stmt = (
        select(Prediction)
        .where(Prediction.store_id == store_id, Prediction.deleted.is_(False))
        .order_by(Prediction.generated_at)
    )
    for pred in session.scalars(stmt):
        newest[pred.product_id] = pred
    if newest:
        preds = [p for p in newest.values() if (p.suggested_qty or 0) > 0]
        ok = _active(session, {p.product_id for p in preds})
        sugg = [
            Suggestion(p.product_id, int(p.suggested_qty or 0), p.id, p.reason)
            for p in preds
            if p.product_id in ok
        ]
        if sugg:
            return Prefill("suggestions", [s.line() for s in sugg], sugg)
    last = session.scalar(
        select(Order.id)
        .where(
            Order.store_id == store_id,
            Order.kind == OrderKind.ORDER.value,
            Order.deleted.is_(False),
            Order.state.notin_([OrderState.DRAFT.value, OrderState.CANCELLED.value]),
        )
        .order_by(Order.order_date.desc(), Order.created_at.desc())
        .limit(1)
    )
    if last is not None:
        rows = session.execute(
            select(OrderLine.product_id, OrderLine.quantity)
            .where(
                OrderLine.order_id == last,
                OrderLine.deleted.is_(False),
                OrderLine.free_goods.is_(False),  # free goods come from the schemes again
            )
            .order_by(OrderLine.line_no)
        ).all()
        ok = _active(session, {r[0] for r in rows})
        return Prefill("last_order", [LineInput(p, q) for p, q in rows if p in ok], [])
    inv = session.scalar(
        select(Invoice.id)
        .where(Invoice.store_id == store_id, Invoice.kind == "invoice", Invoice.deleted.is_(False))
        .order_by(Invoice.invoice_date.desc())
        .limit(1)
    )
    if inv is not None:
        rows = session.execute(
            select(InvoiceLine.product_id, InvoiceLine.quantity)
            .where(InvoiceLine.invoice_id == inv, InvoiceLine.quantity > 0)
            .order_by(InvoiceLine.line_no)
        ).all()
        ok = _active(session, {r[0] for r in rows})
        return Prefill("last_invoice", [LineInput(p, q) for p, q in rows if p in ok], [])
    return Prefill("none", [], [])
