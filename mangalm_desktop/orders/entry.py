"""Engine-level reads the order screens need, each one short transaction (run on a worker).

Stores and products are a few hundred / a few thousand rows, so the order dialog loads them
whole for its completers and prices lines locally (pure Decimal arithmetic, no SQL while the
agent types).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, select

from ..db.engine import session_scope
from ..db.models import Agent, Product, Store
from ..domain.identity import store_scope
from ..security.roles import Identity, Permission, require
from .model import Checked, OrderDraft
from .prefill import Prefill, prefill
from .queries import OrderDetail, OrderFilter, OrderRow, count_orders, get_order, list_orders
from .validation import validate


@dataclass(frozen=True)
class StoreChoice:
    id: uuid.UUID
    code: str
    name: str
    city: str | None
    agent_id: uuid.UUID | None

    @property
    def label(self) -> str:
        return f"{self.name} — {self.city or ''} ({self.code})"


@dataclass(frozen=True)
class ProductChoice:
    id: uuid.UUID
    sku: str | None
    name: str
    unit: str | None
    pack_size: int
    price: Decimal

    @property
    def label(self) -> str:
        return f"{self.sku} — {self.name}" if self.sku else self.name


@dataclass(frozen=True)
class AgentChoice:
    id: uuid.UUID
    code: str
    name: str


def store_choices(
    engine: Engine, agent_id: uuid.UUID | None = None, *, identity: Identity | None
) -> list[StoreChoice]:
    """Active stores by name; only ``agent_id``'s when given; an agent gets their own only."""
    require(identity, Permission.VIEW_OWN_STORES)
    query = select(Store.id, Store.code, Store.name, Store.city, Store.agent_id).where(
        Store.active.is_(True), Store.deleted.is_(False)
    )
    if agent_id is not None:
        query = query.where(Store.agent_id == agent_id)
    scope = store_scope(identity)
    if scope is not None:
        query = query.where(Store.agent_id == scope)
    with session_scope(engine) as s:
        return [StoreChoice(*r) for r in s.execute(query.order_by(Store.name))]


def product_choices(engine: Engine) -> list[ProductChoice]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(
                Product.id,
                Product.sku,
                Product.name,
                Product.unit,
                Product.pack_size,
                Product.price,
            )
            .where(Product.active.is_(True), Product.deleted.is_(False), Product.price.is_not(None))
            .order_by(Product.sku, Product.name)
        )
        return [
            ProductChoice(i, sku, n, u, p or 1, price)
            for i, sku, n, u, p, price in rows
            if price is not None
        ]


def agent_choices(engine: Engine) -> list[AgentChoice]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(Agent.id, Agent.code, Agent.name)
            .where(Agent.deleted.is_(False))
            .order_by(Agent.code)
        )
        return [AgentChoice(*r) for r in rows]


def start_lines(engine: Engine, store_id: uuid.UUID, *, identity: Identity | None) -> Prefill:
    with session_scope(engine) as s:
        return prefill(s, store_id, identity=identity)


def check(engine: Engine, draft: OrderDraft, order_id: uuid.UUID | None = None) -> Checked:
    with session_scope(engine) as s:
        return validate(s, draft, order_id=order_id)


def detail(engine: Engine, order_id: uuid.UUID, *, identity: Identity | None) -> OrderDetail:
    with session_scope(engine) as s:
        return get_order(s, order_id, identity=identity)


def page(
    engine: Engine, f: OrderFilter, offset: int, limit: int, *, identity: Identity | None
) -> list[OrderRow]:
    """One page of the list (an index walk; cheap even over 100,000 orders)."""
    with session_scope(engine) as s:
        return list_orders(s, f, identity=identity, offset=offset, limit=limit)


def count(engine: Engine, f: OrderFilter, *, identity: Identity | None) -> int:
    """How many orders match; a table scan, so the list asks for it after its first paint."""
    with session_scope(engine) as s:
        return count_orders(s, f, identity=identity)
