"""A seeded random company for checking report fast paths against a plain computation.

Small (a few hundred lines) but with every case the reports' rules single out: void, draft and
deleted invoices, deleted lines, credit notes, a store without an agent, invoices sold by
someone other than the store's agent, an invoice with an implausible date (its lines' own date
plausible), and predictions re-run for the same window (only the latest counts), of
different lengths from the same start, deleted, or not yet over. Forecast points are multiples
of 0.5, so their sums are exact whatever order a database adds them in.

``make`` returns the plain rows, which the tests sum in Python as the reports' documented rules
say; ``build`` writes them through SQLAlchemy Core.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine, insert

from mangalm_desktop.db.models import Agent, Invoice, InvoiceLine, Prediction, Product, Store

START = dt.date(2023, 1, 2)  # a Monday
DAYS = 500
LAST = START + dt.timedelta(days=DAYS - 1)
BAD_DAY = dt.date(1901, 1, 1)  # before domain.date_window.EARLIEST_DATE


@dataclass
class Company:
    agents: list[dict] = field(default_factory=list)
    stores: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    predictions: list[dict] = field(default_factory=list)


def make(seed: int = 21, *, implausible: bool = True) -> Company:
    """The company; ``implausible=False`` leaves out the invoice with an implausible date."""
    rnd = random.Random(seed)
    c = Company()
    regions = ["North", "South"]
    for i in range(3):
        c.agents.append(
            {"id": uuid.uuid4(), "code": f"A{i}", "name": f"Agent {i}", "region": regions[i % 2]}
        )
    for i in range(7):
        agent = c.agents[i % 3]["id"] if i != 6 else None  # S6 has no agent
        c.stores.append(
            {
                "id": uuid.uuid4(),
                "code": f"S{i}",
                "name": f"Store {i}",
                "region": regions[i % 2],
                "agent_id": agent,
            }
        )
    for i in range(6):
        c.products.append(
            {
                "id": uuid.uuid4(),
                "sku": f"P{i}",
                "name": f"Product {i}",
                "brand": f"Brand {i % 2}",
                "category": f"Cat {i % 3}",
            }
        )
    for k in range(260):
        store = rnd.choice(c.stores)
        day = START + dt.timedelta(days=rnd.randrange(DAYS))
        roll = rnd.random()
        status = "void" if roll < 0.05 else "draft" if roll < 0.09 else "paid"
        kind = "credit_note" if rnd.random() < 0.06 else "invoice"
        agent = store["agent_id"]
        if rnd.random() < 0.1:  # sold by another agent
            agent = rnd.choice(c.agents)["id"]
        inv = {
            "id": uuid.uuid4(),
            "number": f"INV-{k}",
            "status": status,
            "kind": kind,
            "store_id": store["id"],
            "agent_id": agent,
            "invoice_date": BAD_DAY if k == 7 and implausible else day,
            "total": Decimal("0"),
            "balance": Decimal("0"),
            "source": "test",
            "deleted": rnd.random() < 0.04,
        }
        c.invoices.append(inv)
        for n in range(rnd.randint(1, 4)):
            product = rnd.choice(c.products)
            qty = rnd.randint(1, 9) * (-1 if kind == "credit_note" else 1)
            price = Decimal(rnd.randint(100, 9999)) / 100
            c.lines.append(
                {
                    "id": uuid.uuid4(),
                    "invoice_id": inv["id"],
                    "line_no": n + 1,
                    "store_id": store["id"],
                    "invoice_date": day,  # also on invoice 7, whose own date is implausible
                    "product_id": product["id"],
                    "quantity": qty,
                    "unit_price": price,
                    "line_total": price * qty,
                    "deleted": rnd.random() < 0.05,
                }
            )
    c.predictions = _predictions(rnd, c)
    return c


def _predictions(rnd: random.Random, c: Company) -> list[dict]:
    out: list[dict] = []
    base = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    for _ in range(160):
        store = rnd.choice(c.stores)
        product = rnd.choice(c.products)
        start = START + dt.timedelta(days=rnd.randrange(0, DAYS + 30))
        weeks = rnd.choice([1, 2, 4])
        runs = rnd.choice([1, 1, 2, 3])  # a window forecast again: only the latest counts
        for r in range(runs):
            out.append(
                {
                    "id": uuid.uuid4(),
                    "store_id": store["id"],
                    "product_id": product["id"],
                    "horizon_start": start,
                    "horizon_weeks": weeks,
                    "point": rnd.randint(0, 40) / 2,
                    "low": 0.0,
                    "high": 30.0,
                    "model": "test",
                    "generated_at": base + dt.timedelta(days=len(out), hours=r),
                    "deleted": rnd.random() < 0.04,
                }
            )
        if rnd.random() < 0.15:  # another length from the same start
            out.append({**out[-1], "id": uuid.uuid4(), "horizon_weeks": weeks + 1})
    return out


def build(engine: Engine, c: Company) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Agent), c.agents)
        conn.execute(insert(Store), [{**s, "call_cadence_days": 14} for s in c.stores])
        conn.execute(insert(Product), c.products)
        conn.execute(insert(Invoice), c.invoices)
        conn.execute(insert(InvoiceLine), c.lines)
        conn.execute(insert(Prediction), c.predictions)
