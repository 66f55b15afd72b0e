"""Reading orders for the list and detail views: windowed, filtered, no ORM objects leak out.

The list is read a page at a time (``offset``/``limit`` over an indexed sort), so a view over
100,000 orders shows its first rows after one small query (benchmarks/orders_bench.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..db.access import require_store
from ..db.models import Agent, Order, OrderLine, Product, Store
from ..domain.errors import UserError
from ..domain.identity import Identity, store_scope
from ..security.roles import Permission, require

_Cols = TypeVarTuple("_Cols")


@dataclass(frozen=True)
class OrderFilter:
    """What the Orders view filters on; ``None`` means any. ``text`` matches number or store."""

    states: tuple[str, ...] | None = None
    store_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    text: str | None = None


@dataclass(frozen=True)
class OrderRow:
    id: uuid.UUID
    number: str
    order_date: dt.date
    state: str
    kind: str
    store_name: str
    agent_code: str
    total: Decimal
    requested_delivery_date: dt.date | None


@dataclass(frozen=True)
class LineView:
    line_no: int
    product_id: uuid.UUID
    sku: str | None
    name: str
    unit: str | None
    pack_size: int
    quantity: int
    unit_price: Decimal
    discount_pct: Decimal
    line_total: Decimal
    suggested_qty: int | None
    scheme_pct: Decimal = Decimal(0)
    scheme_value: Decimal = Decimal(0)
    scheme_reason: str | None = None
    free_goods: bool = False

    @property
    def own_discount_pct(self) -> Decimal:
        """The agent's own part of the line discount (the rest came from schemes)."""
        return self.discount_pct - self.scheme_pct


@dataclass(frozen=True)
class OrderDetail:
    id: uuid.UUID
    number: str
    kind: str
    state: str
    version: int
    order_date: dt.date
    requested_delivery_date: dt.date | None
    notes: str | None
    discount_pct: Decimal
    subtotal: Decimal
    discount_total: Decimal
    total: Decimal
    submitted_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    zoho_salesorder_number: str | None
    store_id: uuid.UUID
    store_code: str
    store_name: str
    store_address: str | None
    store_city: str | None
    store_phone: str | None
    agent_id: uuid.UUID
    agent_code: str
    agent_name: str
    agent_phone: str | None
    lines: list[LineView] = field(default_factory=list)


def _filtered(stmt: Select[*_Cols], f: OrderFilter) -> Select[*_Cols]:
    stmt = stmt.where(Order.deleted.is_(False))
    if f.states:
        stmt = stmt.where(Order.state.in_(f.states))
    if f.store_id:
        stmt = stmt.where(Order.store_id == f.store_id)
    if f.agent_id:
        stmt = stmt.where(Order.agent_id == f.agent_id)
    if f.date_from:
        stmt = stmt.where(Order.order_date >= f.date_from)
    if f.date_to:
        stmt = stmt.where(Order.order_date <= f.date_to)
    if f.text and f.text.strip():
        like = f"%{f.text.strip()}%"
        stmt = stmt.where(Order.number.ilike(like) | Store.name.ilike(like))
    return stmt


def list_orders(
    session: Session,
    f: OrderFilter | None = None,
    *,
    identity: Identity | None,
    offset: int = 0,
    limit: int = 200,
) -> list[OrderRow]:
    """One page of orders, newest first; an agent's: their own stores' only."""
    require(identity, Permission.VIEW_OWN_STORES)
    f = f or OrderFilter()
    scope = store_scope(identity)
    stmt = (
        select(
            Order.id,
            Order.number,
            Order.order_date,
            Order.state,
            Order.kind,
            Store.name,
            Agent.code,
            Order.total,
            Order.requested_delivery_date,
        )
        .join(Store, Store.id == Order.store_id)
        .join(Agent, Agent.id == Order.agent_id)
    )
    if scope is not None:
        stmt = stmt.where(Store.agent_id == scope)
    stmt = _filtered(stmt, f).order_by(Order.order_date.desc(), Order.number.desc())
    return [OrderRow(*r) for r in session.execute(stmt.offset(offset).limit(limit))]


def count_orders(
    session: Session, f: OrderFilter | None = None, *, identity: Identity | None
) -> int:
    """How many orders :func:`list_orders` would list for ``identity``."""
    require(identity, Permission.VIEW_OWN_STORES)
    f = f or OrderFilter()
    scope = store_scope(identity)
    stmt = select(func.count()).select_from(Order)
    if f.text or scope is not None:
        stmt = stmt.join(Store, Store.id == Order.store_id)
    if scope is not None:
        stmt = stmt.where(Store.agent_id == scope)
    return session.scalar(_filtered(stmt, f)) or 0


def get_order(session: Session, order_id: uuid.UUID, *, identity: Identity | None) -> OrderDetail:
    """The order with its lines; an agent may read only their own stores' orders."""
    order = session.get(Order, order_id)
    if order is None or order.deleted:
        raise UserError(f"Order {order_id} was not found.")
    require_store(session, identity, order.store_id)
    store = session.get(Store, order.store_id)
    agent = session.get(Agent, order.agent_id)
    assert store is not None and agent is not None  # foreign keys
    rows = session.execute(
        select(OrderLine, Product)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id == order.id, OrderLine.deleted.is_(False))
        .order_by(OrderLine.line_no)
    )
    lines = [
        LineView(
            line_no=ln.line_no,
            product_id=p.id,
            sku=p.sku,
            name=p.name,
            unit=p.unit,
            pack_size=p.pack_size or 1,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            discount_pct=ln.discount_pct,
            line_total=ln.line_total,
            suggested_qty=ln.suggested_qty,
            scheme_pct=ln.scheme_pct or Decimal(0),
            scheme_value=ln.scheme_value or Decimal(0),
            scheme_reason=ln.scheme_reason,
            free_goods=bool(ln.free_goods),
        )
        for ln, p in rows
    ]
    return OrderDetail(
        id=order.id,
        number=order.number,
        kind=order.kind,
        state=order.state,
        version=order.version,
        order_date=order.order_date,
        requested_delivery_date=order.requested_delivery_date,
        notes=order.notes,
        discount_pct=order.discount_pct,
        subtotal=order.subtotal,
        discount_total=order.discount_total,
        total=order.total,
        submitted_at=order.submitted_at,
        cancelled_at=order.cancelled_at,
        zoho_salesorder_number=order.zoho_salesorder_number,
        store_id=store.id,
        store_code=store.code,
        store_name=store.name,
        store_address=store.address,
        store_city=store.city,
        store_phone=store.phone,
        agent_id=agent.id,
        agent_code=agent.code,
        agent_name=agent.name,
        agent_phone=agent.phone,
        lines=lines,
    )


def find_order(session: Session, number_or_id: str) -> uuid.UUID:
    """An order id from its number (as printed) or its id."""
    oid = session.scalar(select(Order.id).where(Order.number == number_or_id.strip().upper()))
    if oid is None:
        try:
            oid = session.scalar(select(Order.id).where(Order.id == uuid.UUID(number_or_id)))
        except ValueError:
            oid = None
    if oid is None:
        raise UserError(f"No order {number_or_id!r}.")
    return oid


def find_agent(session: Session, code: str) -> uuid.UUID:
    """An agent id from its code (``A07``), for the CLI where nobody is signed in."""
    aid = session.scalar(select(Agent.id).where(func.upper(Agent.code) == code.strip().upper()))
    if aid is None:
        raise UserError(f"No agent with code {code!r}.", hint="Agent codes look like A07.")
    return aid


def find_store(session: Session, code: str) -> uuid.UUID:
    sid = session.scalar(select(Store.id).where(Store.code == code.strip()))
    if sid is None:
        raise UserError(f"Store {code} was not found.")
    return sid
