"""What the call screen shows before the agent types: one read, run on a worker.

The header (store, phone, locality, beat, balance, overdue invoices, credit left, the last
three orders with their quantities) and the lines the order starts with (the suggestions or
the last order, ``orders.prefill``), each with its last ordered quantity, price, pack and the
shelf quantity last reported.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import Beat, BeatStore, Invoice, InvoiceLine, Order, OrderLine, Product, Store
from ..db.queries.balances import credit_balance, store_balance
from ..domain.enums import OrderKind, OrderState
from ..domain.errors import UserError
from ..orders.calls import latest_stock
from ..orders.model import Suggestion
from ..orders.prefill import prefill
from ..orders.validation import open_orders_total
from ..security.roles import Identity, Permission, require, require_store_access
from .model import Reason
from .reasons import list_reasons

PAST_ORDERS = 3


@dataclass(frozen=True)
class PastOrder:
    """One of the store's last orders (an app order, or an invoice when it has fewer)."""

    day: dt.date
    number: str
    total: Decimal
    units: int
    lines: tuple[tuple[str, int], ...]  # (product, quantity), largest first


@dataclass(frozen=True)
class CallLine:
    """A line the order starts with."""

    product_id: uuid.UUID
    sku: str
    name: str
    pack_size: int
    price: Decimal | None
    quantity: int
    last_quantity: int | None
    shelf: int | None
    reason: str
    suggested_qty: int | None = None
    prediction_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CallHeader:
    store_id: uuid.UUID
    store_name: str
    store_code: str
    agent_id: uuid.UUID | None  # the store's agent (whose order it is when a manager calls)
    phone: str
    locality: str
    beat: str
    outstanding: Decimal
    overdue_count: int
    overdue_amount: Decimal
    credit_limit: Decimal | None
    credit_left: Decimal | None
    past_orders: list[PastOrder]
    lines: list[CallLine]
    source: str  # where the lines came from: suggestions | last_order | last_invoice | none
    suggestions: list[Suggestion] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)


def _past_orders(session: Session, store_id: uuid.UUID) -> list[PastOrder]:
    orders = session.scalars(
        select(Order)
        .where(
            Order.store_id == store_id,
            Order.kind == OrderKind.ORDER.value,
            Order.deleted.is_(False),
            Order.state.notin_([OrderState.DRAFT.value, OrderState.CANCELLED.value]),
        )
        .order_by(Order.order_date.desc(), Order.created_at.desc())
        .limit(PAST_ORDERS)
    ).all()
    out: list[PastOrder] = []
    for o in orders:
        rows = session.execute(
            select(Product.name, OrderLine.quantity)
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == o.id, OrderLine.deleted.is_(False))
            .order_by(OrderLine.quantity.desc())
        ).all()
        lines = tuple((str(n), int(q)) for n, q in rows)
        out.append(PastOrder(o.order_date, o.number, o.total, sum(q for _, q in lines), lines))
    if len(out) < PAST_ORDERS:  # history from Zoho Books: the invoices
        invoices = session.scalars(
            select(Invoice)
            .where(Invoice.store_id == store_id, Invoice.kind == "invoice")
            .where(Invoice.deleted.is_(False))
            .order_by(Invoice.invoice_date.desc())
            .limit(PAST_ORDERS - len(out))
        ).all()
        for inv in invoices:
            rows = session.execute(
                select(Product.name, InvoiceLine.quantity)
                .join(Product, Product.id == InvoiceLine.product_id)
                .where(InvoiceLine.invoice_id == inv.id, InvoiceLine.deleted.is_(False))
                .order_by(InvoiceLine.quantity.desc())
            ).all()
            lines = tuple((str(n), int(q)) for n, q in rows)
            out.append(
                PastOrder(inv.invoice_date, inv.number, inv.total, sum(q for _, q in lines), lines)
            )
    return out


def _last_quantities(
    session: Session, store_id: uuid.UUID, product_ids: set[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The quantity each product was last ordered (app orders first, then invoices)."""
    if not product_ids:
        return {}
    last: dict[uuid.UUID, int] = {}
    rows = session.execute(
        select(OrderLine.product_id, OrderLine.quantity)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.store_id == store_id,
            OrderLine.product_id.in_(product_ids),
            OrderLine.deleted.is_(False),
            Order.kind == OrderKind.ORDER.value,
            Order.state.notin_([OrderState.DRAFT.value, OrderState.CANCELLED.value]),
        )
        .order_by(Order.order_date, Order.created_at)
    )
    for pid, qty in rows:
        last[pid] = int(qty)
    missing = product_ids - last.keys()
    if missing:
        inv_rows = session.execute(
            select(InvoiceLine.product_id, InvoiceLine.quantity)
            .where(
                InvoiceLine.store_id == store_id,
                InvoiceLine.product_id.in_(missing),
                InvoiceLine.quantity > 0,
                InvoiceLine.deleted.is_(False),
            )
            .order_by(InvoiceLine.invoice_date)
        )
        for pid, qty in inv_rows:
            last[pid] = int(qty)
    return last


def load_header(
    engine: Engine, identity: Identity | None, store_id: uuid.UUID, today: dt.date
) -> CallHeader:
    """Everything the call screen opens with, for a store the person may see."""
    require(identity, Permission.VIEW_OWN_STORES)
    with session_scope(engine) as session:
        store = session.get(Store, store_id)
        if store is None or store.deleted:
            raise UserError("That store is not on this laptop.")
        require_store_access(identity, store.agent_id)
        start = prefill(session, store_id, identity=identity)
        ids = {line.product for line in start.lines if isinstance(line.product, uuid.UUID)}
        products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
        last = _last_quantities(session, store_id, ids)
        shelf = latest_stock(session, store_id, identity=identity)
        why = {s.product_id: s.reason or "" for s in start.suggestions}
        lines = []
        for li in start.lines:
            p = products.get(li.product) if isinstance(li.product, uuid.UUID) else None
            if p is None:
                continue
            lines.append(
                CallLine(
                    product_id=p.id,
                    sku=p.sku or "",
                    name=p.name,
                    pack_size=p.pack_size,
                    price=p.price,
                    quantity=li.quantity,
                    last_quantity=last.get(p.id),
                    shelf=shelf[p.id][1] if p.id in shelf else None,
                    reason=why.get(p.id, "") or _source_words(start.source),
                    suggested_qty=li.suggested_qty,
                    prediction_id=li.prediction_id,
                )
            )
        lines.sort(key=lambda x: x.name)
        # after collections not yet in Zoho (db.queries.balances, as the payments panel shows)
        balance = store_balance(session, store_id, today)
        # what the order's credit check counts, and what Stores, Today and the store card show
        outstanding = credit_balance(session, store, today)
        credit_left = None
        if store.credit_limit is not None:
            credit_left = (
                store.credit_limit - outstanding - open_orders_total(session, store_id, None)
            )
        return CallHeader(
            store_id=store.id,
            store_name=store.name,
            store_code=store.code,
            agent_id=store.agent_id,
            phone=store.phone or "",
            locality=", ".join(x for x in (store.city, store.region) if x),
            beat=_beat(session, store_id),
            outstanding=outstanding,
            overdue_count=balance.overdue_invoices,
            overdue_amount=balance.overdue,
            credit_limit=store.credit_limit,
            credit_left=credit_left,
            past_orders=_past_orders(session, store_id),
            lines=lines,
            source=start.source,
            suggestions=list(start.suggestions),
            reasons=list_reasons(session, identity),
        )


def _beat(session: Session, store_id: uuid.UUID) -> str:
    """The beat (route) the store is on, by name ("" when on none)."""
    name = session.scalar(
        select(Beat.name)
        .join(BeatStore, BeatStore.beat_id == Beat.id)
        .where(
            BeatStore.store_id == store_id,
            BeatStore.deleted.is_(False),
            Beat.deleted.is_(False),
        )
    )
    return name or ""


def _source_words(source: str) -> str:
    return {"last_order": "as in the last order", "last_invoice": "as in the last invoice"}.get(
        source, ""
    )
