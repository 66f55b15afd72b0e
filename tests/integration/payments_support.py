"""Stores with open invoices for the collections tests (on top of the orders' tiny catalogue)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, Invoice, Store
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.security.roles import Identity

from .orders_support import Seed, seed

TODAY = dt.date(2026, 11, 25)


@dataclass(frozen=True)
class PaySeed:
    base: Seed
    other_agent_id: uuid.UUID
    other_store_id: uuid.UUID
    invoices: dict[str, uuid.UUID]  # number -> id

    @property
    def store_id(self) -> uuid.UUID:
        return self.base.store_id

    @property
    def agent(self) -> Identity:
        return Identity("A07", Role.AGENT, self.base.agent_id, "A07")

    @property
    def other_agent(self) -> Identity:
        return Identity("A08", Role.AGENT, self.other_agent_id, "A08")

    @property
    def manager(self) -> Identity:
        return Identity("M01", Role.MANAGER)


def _invoice(store_id: uuid.UUID, number: str, days_ago: int, total: str, balance: str) -> Invoice:
    day = TODAY - dt.timedelta(days=days_ago)
    return Invoice(
        id=uuid.uuid4(),
        number=number,
        store_id=store_id,
        invoice_date=day,
        due_date=day + dt.timedelta(days=15),
        total=Decimal(total),
        balance=Decimal(balance),
        status="overdue" if days_ago > 15 else "sent",
        source="zoho",
    )


def seed_payments(engine: Engine) -> PaySeed:
    """Sri Lakshmi Stores (A07) owes on three invoices (one 70 days old); A08 has a store too."""
    base = seed(engine)
    with session_scope(engine) as s:
        other = Agent(id=uuid.uuid4(), code="A08", name="Meena Rao")
        s.add(other)
        s.flush()
        other_store = Store(
            id=uuid.uuid4(), code="ST-101", name="Other Agent Mart", agent_id=other.id
        )
        s.add(other_store)
        s.flush()
        rows = [
            _invoice(base.store_id, "INV-001", 70, "5000.00", "3000.00"),
            _invoice(base.store_id, "INV-002", 20, "2500.50", "2500.50"),
            _invoice(base.store_id, "INV-003", 5, "1200.00", "1200.00"),
            _invoice(base.store_id, "INV-000", 120, "800.00", "0.00"),  # paid
            _invoice(other_store.id, "INV-900", 10, "999.00", "999.00"),
        ]
        s.add_all(rows)
        return PaySeed(base, other.id, other_store.id, {r.number: r.id for r in rows})
