"""Schemes in order pricing on a real migrated SQLite database: created through the service,
applied by submit/amend, kept on the order lines and in the outbox payload (docs/orders.md)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import OrderLine, Outbox, Store
from mangalm_desktop.domain.enums import OrderKind, Role
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.schemes.service import (
    RuleInput,
    SchemeInput,
    create_scheme,
    end_scheme,
    list_schemes,
)
from mangalm_desktop.security.roles import Identity, PermissionDenied

from .orders_support import dal_ten_plus_one, seed

TODAY = dt.date(2026, 12, 6)
DEC1, DEC31 = dt.date(2026, 12, 1), dt.date(2026, 12, 31)


@pytest.fixture
def sd(engine):
    sd = seed(engine)
    with session_scope(engine) as s:
        store = s.get(Store, sd.store_id)
        store.region, store.size_class = "Mysuru", "A"
    return sd


def lines_of(engine, order_id):
    with session_scope(engine) as s:
        rows = s.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
        )
        return [
            (
                r.product_id,
                r.quantity,
                r.unit_price,
                r.discount_pct,
                r.scheme_pct,
                r.line_total,
                r.scheme_value,
                r.free_goods,
                r.scheme_reason,
                r.deleted,
            )
            for r in rows
        ]


def test_submit_applies_slab_and_free_goods_and_keeps_their_effect(engine, sd) -> None:
    slab = create_scheme(
        engine,
        None,
        SchemeInput(
            "ATTA-SLAB",
            "Atta winter slabs",
            "slab",
            DEC1,
            DEC31,
            product="ATTA-5",
            regions=["Mysuru"],
            rules=[RuleInput(10, D("5")), RuleInput(25, D("8"))],
        ),
    )
    dal_ten_plus_one(engine, DEC1, DEC31)
    assert slab.rules == ("5% off at 10+", "8% off at 25+")
    draft = OrderDraft(
        store=sd.store_id,
        agent_id=sd.agent_id,
        lines=[LineInput("ATTA-5", 12, D("1")), LineInput("DAL-1", 20)],
    )
    res = service.submit(engine, draft, identity=None, today=TODAY)
    atta, dal = sd.products["ATTA-5"], sd.products["DAL-1"]
    got = lines_of(engine, res.order_id)
    # atta 12 × 245.50 = 2,946.00; own 1% + slab 5% (12 ≥ 10) = 6% → 176.76; total 2,769.24;
    # the slab's part 5% = 147.30
    assert got[0] == (
        atta,
        12,
        D("245.5"),
        D("6"),
        D("5"),
        D("2769.24"),
        D("147.30"),
        False,
        "ATTA-SLAB: 5% off Mangalm Chakki Atta 5 kg for 10 or more (12 ordered)",
        False,
    )
    # dal 20 × 139.99 = 2,799.80, no discount
    assert got[1][:8] == (dal, 20, D("139.99"), D("0"), D("0"), D("2799.80"), D("0"), False)
    # 20 // 10 = 2 free dal at 0, worth 2 × 139.99 = 279.98
    assert got[2] == (
        dal,
        2,
        D("0"),
        D("0"),
        D("0"),
        D("0"),
        D("279.98"),
        True,
        "DAL-10+1: buy 10 get 1 free (20 bought)",
        False,
    )
    # order total 2,769.24 + 2,799.80 = 5,569.04
    assert res.total == D("5569.04")
    with session_scope(engine) as s:
        op = s.scalar(select(Outbox).where(Outbox.row_id == res.order_id))
        payload = json.loads(op.payload)
    free = [x for x in payload["lines"] if x["free_goods"]]
    assert len(free) == 1 and D(free[0]["unit_price"]) == 0 and free[0]["quantity"] == 2

    # Amend to 30 atta: the slab moves to 8%, the agent's 1% stays; the free line is kept
    # (same id and number), not doubled.
    with session_scope(engine) as s:
        draft2 = service.draft_from_order(s, res.order_id, identity=None)
    assert [(x.quantity, x.discount_pct) for x in draft2.lines] == [(12, D("1")), (20, D("0"))]
    draft2.lines[0].quantity = 30
    service.amend(engine, res.order_id, draft2, identity=None, today=TODAY)
    got = lines_of(engine, res.order_id)
    # 30 × 245.50 = 7,365.00; 1 + 8 = 9% → 662.85; total 6,702.15
    assert got[0][3:7] == (D("9"), D("8"), D("6702.15"), D("589.20"))  # 8% of 7,365.00
    assert [g[7] for g in got] == [False, False, True] and not any(g[9] for g in got)


def test_schemes_follow_the_store_and_date_and_never_touch_returns(engine, sd) -> None:
    create_scheme(
        engine,
        None,
        SchemeInput(
            "MYS-5",
            "Mysuru 5%",
            "percent",
            DEC1,
            DEC31,
            regions=["Mysuru"],
            store_classes=["A"],
            rules=[RuleInput(1, D("5"))],
        ),
    )
    other = OrderDraft(
        store=sd.tight_store_id, agent_id=sd.agent_id, lines=[LineInput("TEA-250", 24)]
    )
    assert service.submit(
        engine, other, identity=None, today=TODAY, accept_credit_warning=True
    ).total == D("2688.00")  # 24 × 112, no region
    mine = OrderDraft(store=sd.store_id, agent_id=sd.agent_id, lines=[LineInput("TEA-250", 24)])
    # 2,688.00 − 5% (134.40) = 2,553.60
    assert service.submit(engine, mine, identity=None, today=TODAY).total == D("2553.60")
    late = OrderDraft(
        store=sd.store_id,
        agent_id=sd.agent_id,
        lines=[LineInput("TEA-250", 24)],
        order_date=dt.date(2027, 1, 2),
    )
    assert service.submit(engine, late, identity=None, today=TODAY).total == D("2688.00")
    ret = OrderDraft(
        store=sd.store_id,
        agent_id=sd.agent_id,
        lines=[LineInput("TEA-250", 2)],
        kind=OrderKind.RETURN,
    )
    assert service.submit(engine, ret, identity=None, today=TODAY).total == D("-224.00")
    # ended yesterday: no longer applies today
    end_scheme(engine, None, "mys-5", last_day=TODAY - dt.timedelta(days=1))
    assert service.submit(engine, mine, identity=None, today=TODAY).total == D("2688.00")
    assert [x.status for x in list_schemes(engine, None, on=TODAY, include_ended=True)] == ["ended"]


def test_creating_a_scheme_checks_everything_and_agents_may_not(engine, sd) -> None:
    agent = Identity("asha", Role.AGENT, sd.agent_id, "A07")
    good = SchemeInput("X", "X", "percent", DEC1, rules=[RuleInput(1, D("5"))])
    with pytest.raises(PermissionDenied):
        create_scheme(engine, agent, good)
    with pytest.raises(UserError) as err:
        create_scheme(
            engine,
            None,
            SchemeInput(
                "",
                " ",
                "slab",
                DEC31,
                DEC1,
                product="NOPE",
                brand="Tata",
                rules=[RuleInput(0), RuleInput(5, D("150"))],
            ),
        )
    msg = str(err.value)
    for words in (
        "Give the scheme a code",
        "Give the scheme a name",
        "pick one",
        "Unknown product 'NOPE'",
        "ends (01 Dec 2026) before it starts",
        "Rule 1: the quantity",
        "Rule 2: the discount must be",
    ):
        assert words in msg
    with pytest.raises(UserError, match="Kind 'bogus' is not one of"):
        create_scheme(engine, None, SchemeInput("B", "B", "bogus", DEC1, rules=[RuleInput(1)]))
    create_scheme(engine, None, good)
    with pytest.raises(UserError, match="exists already"):
        create_scheme(engine, None, good)
    with pytest.raises(UserError, match="free product 'OLD-1' is unknown, not sold"):
        create_scheme(
            engine,
            None,
            SchemeInput(
                "F",
                "F",
                "free_goods",
                DEC1,
                rules=[RuleInput(10, free_qty=1, free_product="OLD-1")],
            ),
        )


def test_free_lines_are_not_what_the_store_ordered(engine, sd) -> None:
    """Suggestion feedback and the next order's pre-fill count the bought quantity, not the
    free goods of the same product."""
    from mangalm_desktop.db.models import SuggestionFeedback
    from mangalm_desktop.orders.model import Suggestion
    from mangalm_desktop.orders.prefill import prefill

    dal_ten_plus_one(engine, DEC1, DEC31)
    dal = sd.products["DAL-1"]
    draft = OrderDraft(
        store=sd.store_id,
        agent_id=sd.agent_id,
        lines=[LineInput(dal, 20, suggested_qty=20)],
        suggestions=[Suggestion(dal, 20)],
    )
    service.submit(engine, draft, identity=None, today=TODAY)
    with session_scope(engine) as s:
        fb = s.scalar(select(SuggestionFeedback))
        assert (fb.suggested_qty, fb.ordered_qty) == (20, 20)
        pf = prefill(s, sd.store_id, identity=None)
    assert pf.source == "last_order"
    assert [(x.product, x.quantity) for x in pf.lines] == [(dal, 20)]
