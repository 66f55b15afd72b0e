"""A scheme's effect reaches Zoho Books on the sales order (docs/zoho.md): the line discount,
the reason as the line's description, and free goods as item lines at rate 0 — pushed to the
strict local Zoho server, which checks each of those fields and computes the totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import select, update

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, Order, Product, Store
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.schemes.service import RuleInput, SchemeInput, create_scheme
from mangalm_desktop.zoho import bridge
from mangalm_desktop.zoho.errors import ZohoRejected
from tests.zoho_server.support import T0, connect, seed_zoho

pytestmark = pytest.mark.pg
DAY = T0.date()


def _order_with_schemes(server, central, clock, **settings):
    seed_zoho(server, stores=1, items=3, invoices=0)
    client = connect(server, clock, **settings)
    report = bridge.run_once(central, client, ["accounts", "contacts", "items"])
    assert [r.error for r in report.results] == [None] * 3
    for code, kind, rules in (
        ("SKU0000-SLAB", "slab", [RuleInput(10, D("5")), RuleInput(20, D("8"))]),
        ("SKU0001-10+2", "free_goods", [RuleInput(10, free_qty=2)]),
    ):
        create_scheme(
            central,
            None,
            SchemeInput(
                code,
                code,
                kind,
                DAY - dt.timedelta(days=1),
                product=code.split("-")[0],
                rules=rules,
            ),
        )
    with session_scope(central) as s:
        agent = Agent(code="A01", name="Agent A01")
        s.add(agent)
        s.flush()
        store = s.scalar(select(Store))
        agent_id, store_id = agent.id, store.id
        price = {p.sku: p.price for p in s.scalars(select(Product))}
    assert price == {"SKU0000": D("10.5"), "SKU0001": D("11.5"), "SKU0002": D("12.5")}
    draft = OrderDraft(
        store=store_id,
        agent_id=agent_id,
        lines=[LineInput("SKU0000", 24, D("1")), LineInput("SKU0001", 25), LineInput("SKU0002", 3)],
    )
    res = service.submit(central, draft, identity=None, today=DAY)
    with session_scope(central) as s:
        s.execute(update(Order).where(Order.id == res.order_id).values(state="synced"))
    report = bridge.run_once(central, client, ["orders"])
    assert report.results[0].sent == 1, report.as_dict()
    (so,) = server.salesorders
    return res, so


def test_line_discount_reason_and_free_lines_reach_the_sales_order(server, central, clock):
    res, so = _order_with_schemes(server, central, clock)
    got = [
        (x["name"], x["quantity"], x["rate"], x["discount"], x["item_total"], x["description"])
        for x in so["line_items"]
    ]
    assert got == [
        # 24 × 10.50 = 252.00; own 1% + slab 8% (24 ≥ 20) = 9% → 22.68; 229.32
        (
            "Item 000",
            24,
            10.5,
            "9%",
            229.32,
            "SKU0000-SLAB: 8% off Item 000 for 20 or more (24 ordered)",
        ),
        # 25 × 11.50 = 287.50, no discount; it earned 25 // 10 × 2 = 4 free
        ("Item 001", 25, 11.5, 0, 287.5, "SKU0001-10+2: buy 10 get 2 free (25 bought)"),
        ("Item 002", 3, 12.5, 0, 37.5, ""),  # 3 × 12.50
        ("Item 001", 4, 0.0, 0, 0.0, "SKU0001-10+2: buy 10 get 2 free (25 bought)"),  # free
    ]
    # Zoho's total equals ours: 229.32 + 287.50 + 37.50 = 554.32
    assert so["total"] == pytest.approx(554.32) and res.total == D("554.32")


def test_unconfirmed_forms_are_settings(server, central, clock):
    _, so = _order_with_schemes(
        server, central, clock, line_discount="net_rate", free_goods="full_discount"
    )
    got = [(x["quantity"], x["rate"], x["discount"], x["item_total"]) for x in so["line_items"]]
    assert got == [
        (24, 9.56, 0, 229.44),  # 10.50 × 0.91 = 9.555 → 9.56 a unit; 24 × 9.56 = 229.44
        (25, 11.5, 0, 287.5),
        (3, 12.5, 0, 37.5),
        (4, 11.5, "100%", 0.0),  # 4 at list 11.50 less 100%
    ]


def test_the_strict_server_refuses_a_bad_line_discount_or_field(server, clock):
    seeded = seed_zoho(server, stores=1, items=1, invoices=0)
    client = connect(server, clock)
    customer, item = seeded["contacts"][0]["contact_id"], seeded["items"][0]["item_id"]
    for line, message in (
        ({"discount": "150%"}, "discount"),
        ({"discount": "5 %"}, "discount"),
        ({"discount": 99.0}, "discount"),  # more than the line's 2 × 10.50 = 21.00
        ({"description": 7}, "description"),
        ({"free": True}, "field free"),
    ):
        body = {
            "customer_id": customer,
            "reference_number": "X",
            "line_items": [{"item_id": item, "quantity": 2, "rate": 10.5, **line}],
        }
        with pytest.raises(ZohoRejected, match=message):
            client.call("POST", "books", "/salesorders", json=body, idempotent=False)
    assert server.salesorders == []
