"""Helpers shared by the Zoho tests and the benchmark: a central database, a seeded Zoho,
orders waiting to be pushed, and a bridge client wired to the local server."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from mangalm_desktop.db import migrate
from mangalm_desktop.db.engine import make_engine, session_scope
from mangalm_desktop.db.models import Agent, Order, OrderLine, Product, Store
from mangalm_desktop.security.secrets import set_secret
from mangalm_desktop.zoho.bridge import make_client
from mangalm_desktop.zoho.client import ZohoClient
from mangalm_desktop.zoho.clock import Clock
from mangalm_desktop.zoho.config import SECRET_CLIENT, SECRET_REFRESH, ZohoConfig

from .server import ZohoServer

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


class ScaledClock:
    """Real time running ``speed`` times faster, the same in every process given the same
    ``origin``: bridges in separate processes and the server agree on it, and a one-minute
    rate window passes in 60/speed real seconds."""

    def __init__(self, origin: float, speed: float) -> None:
        self.origin, self.speed = origin, speed

    def now(self) -> float:
        return self.origin + (time.time() - self.origin) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)


def central_engine(url: str) -> Engine:
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine


def bridge_config(server: ZohoServer, **overrides: Any) -> ZohoConfig:
    values: dict[str, Any] = {
        "client_id": server.client_id,
        "organization_id": server.org_id,
        "accounts_url": server.url,
        "timeout_s": 5.0,
        "backoff_base_s": 0.5,
    }
    values.update(overrides)
    return ZohoConfig(**values)


def connect(server: ZohoServer, clock: Clock, **overrides: Any) -> ZohoClient:
    """Keyring gets a refresh token the server knows; returns a client on ``clock``."""
    set_secret(SECRET_CLIENT, server.client_secret)
    set_secret(SECRET_REFRESH, server.new_refresh_token())
    return make_client(bridge_config(server, **overrides), clock)


def seed_zoho(
    server: ZohoServer, *, stores: int = 3, items: int = 5, invoices: int = 10, lines: int = 3
) -> dict[str, list[dict[str, Any]]]:
    """CRM accounts with linked Books customers, items, and invoices spread over stores."""
    accounts, contacts = [], []
    for i in range(stores):
        acc = server.add_account(
            f"Store {i:03d}",
            T0 + dt.timedelta(minutes=i),
            Account_Number=f"S{i:04d}",
            Billing_City="Pune",
            Phone=f"+91-20-{i:07d}",
        )
        accounts.append(acc)
        contacts.append(server.add_contact(f"Store {i:03d}", crm_account_id=acc["id"]))
    item_recs = [
        server.add_item(f"Item {j:03d}", f"{10 + j}.50", sku=f"SKU{j:04d}") for j in range(items)
    ]
    invoice_recs = []
    for k in range(invoices):
        cust = contacts[k % stores]
        picked = [
            (item_recs[(k + m) % items], 1 + (k + m) % 7, item_recs[(k + m) % items]["rate"])
            for m in range(lines)
        ]
        invoice_recs.append(
            server.add_invoice(
                f"INV-{k:06d}",
                cust,
                (T0 + dt.timedelta(days=k % 300)).date(),
                [(it, q, str(r)) for it, q, r in picked],
                T0 + dt.timedelta(minutes=k),
            )
        )
    return {
        "accounts": accounts,
        "contacts": contacts,
        "items": item_recs,
        "invoices": invoice_recs,
    }


def make_orders(engine: Engine, count: int, *, prefix: str = "A01", lines: int = 2) -> list[str]:
    """``count`` orders in state 'synced' over the linked stores and products; their numbers."""
    numbers = []
    with session_scope(engine) as s:
        agent = s.scalar(select(Agent).where(Agent.code == prefix))
        if agent is None:
            agent = Agent(code=prefix, name=f"Agent {prefix}")
            s.add(agent)
            s.flush()
        stores = s.scalars(
            select(Store).where(Store.zoho_customer_id.is_not(None)).order_by(Store.code)
        ).all()
        products = s.scalars(
            select(Product).where(Product.zoho_item_id.is_not(None)).order_by(Product.name)
        ).all()
        assert stores and products, "pull stores and products first"
        existing = len(s.scalars(select(Order.id).where(Order.agent_id == agent.id)).all())
        for n in range(existing, existing + count):
            store = stores[n % len(stores)]
            number = f"{prefix}-{n + 1:06d}"
            order = Order(
                id=uuid.uuid4(),
                number=number,
                state="synced",
                store_id=store.id,
                agent_id=agent.id,
                order_date=T0.date(),
                total=Decimal("0"),
            )
            s.add(order)
            for ln in range(lines):
                p = products[(n + ln) % len(products)]
                s.add(
                    OrderLine(
                        order_id=order.id,
                        line_no=ln + 1,
                        store_id=store.id,
                        product_id=p.id,
                        quantity=1 + ln,
                        unit_price=p.price or Decimal("1"),
                        line_total=(p.price or Decimal("1")) * (1 + ln),
                    )
                )
            numbers.append(number)
    return numbers
