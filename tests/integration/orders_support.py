"""A tiny catalogue (one agent, three stores, five products) for the order tests and bench."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, Product, Store
from mangalm_desktop.schemes.service import RuleInput, SchemeInfo, SchemeInput, create_scheme


@dataclass(frozen=True)
class Seed:
    agent_id: uuid.UUID
    store_id: uuid.UUID
    tight_store_id: uuid.UUID
    closed_store_id: uuid.UUID
    products: dict[str, uuid.UUID]


PRODUCTS = [
    # sku, name, pack, price, active
    ("ATTA-5", "Mangalm Chakki Atta 5 kg", 4, "245.50", True),
    ("DAL-1", "Toor Dal 1 kg", 10, "139.99", True),
    ("OIL-1", "Groundnut Oil 1 L", 12, "189.3333", True),
    ("TEA-250", "Assam Tea 250 g", 24, "112.00", True),
    ("OLD-1", "Discontinued Namkeen", 1, "20.00", False),
]


def seed(engine: Engine, extra_products: int = 0) -> Seed:
    with session_scope(engine) as s:
        agent = Agent(id=uuid.uuid4(), code="A07", name="Ravi Kumar", phone="+91 98450 00007")
        s.add(agent)
        s.flush()
        store = Store(
            id=uuid.uuid4(),
            code="ST-001",
            name="Sri Lakshmi Stores",
            city="Mysuru",
            address="12 Sayyaji Rao Road",
            phone="+91 821 000 111",
            agent_id=agent.id,
            credit_limit=Decimal("50000"),
            outstanding_balance=Decimal("1000"),
        )
        tight = Store(
            id=uuid.uuid4(),
            code="ST-002",
            name="Ganesh Provisions",
            city="Mandya",
            agent_id=agent.id,
            credit_limit=Decimal("15000"),
            outstanding_balance=Decimal("12000"),
        )
        closed = Store(
            id=uuid.uuid4(), code="ST-003", name="Old Corner Shop", agent_id=agent.id, active=False
        )
        s.add_all([store, tight, closed])
        products = {}
        rows = list(PRODUCTS) + [
            (f"GEN-{i:03d}", f"Generic item {i}", 6, f"{10 + i}.25", True)
            for i in range(extra_products)
        ]
        for sku, name, pack, price, active in rows:
            p = Product(
                id=uuid.uuid4(),
                sku=sku,
                name=name,
                pack_size=pack,
                price=Decimal(price),
                active=active,
                unit="pcs",
            )
            s.add(p)
            products[sku] = p.id
        return Seed(agent.id, store.id, tight.id, closed.id, products)


def dal_ten_plus_one(
    engine: Engine, valid_from: dt.date, valid_to: dt.date | None = None
) -> SchemeInfo:
    """The "buy 10 get 1" free-goods scheme on the seed's DAL-1 (code ``DAL-10+1``), made
    through the service as a manager does; the scheme and order tests all price it."""
    return create_scheme(
        engine,
        None,
        SchemeInput(
            "DAL-10+1",
            "Dal: buy 10 get 1",
            "free_goods",
            valid_from,
            valid_to,
            product="DAL-1",
            rules=[RuleInput(10, free_qty=1)],
        ),
    )
