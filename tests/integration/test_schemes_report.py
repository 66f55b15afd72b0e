"""The scheme uptake and cost report on orders priced by the real order services, with the
figures worked out by hand; and its CLI twin ``mangalm report scheme-uptake``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pandas as pd

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Store
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.reports.catalog import run_report
from mangalm_desktop.reports.filters import ReportFilters
from mangalm_desktop.schemes.service import RuleInput, SchemeInput, create_scheme

from .orders_support import seed

DEC1 = dt.date(2026, 12, 1)


def _world(engine):
    sd = seed(engine)
    with session_scope(engine) as s:
        s.get(Store, sd.tight_store_id).credit_limit = None
    for code, kind, product, rules, stack in (
        ("TEA-5", "percent", "TEA-250", [RuleInput(1, D("5"))], True),
        ("TEA-SLAB", "slab", "TEA-250", [RuleInput(48, D("2"))], True),
        ("DAL-10+1", "free_goods", "DAL-1", [RuleInput(10, free_qty=1)], False),
        ("OIL-NOBODY", "percent", "OIL-1", [RuleInput(100, D("3"))], False),
    ):
        create_scheme(
            engine,
            None,
            SchemeInput(code, code, kind, DEC1, product=product, rules=rules, stackable=stack),
        )
    day = dt.date(2026, 12, 6)
    orders = [
        (sd.store_id, [LineInput("TEA-250", 48), LineInput("DAL-1", 25)]),
        (sd.tight_store_id, [LineInput("TEA-250", 10), LineInput("ATTA-5", 4)]),
    ]
    totals = []
    for store, lines in orders:
        draft = OrderDraft(store=store, agent_id=sd.agent_id, lines=lines)
        totals.append(service.submit(engine, draft, identity=None, today=day).total)
    cancelled = service.submit(
        engine,
        OrderDraft(store=sd.store_id, agent_id=sd.agent_id, lines=[LineInput("DAL-1", 50)]),
        identity=None,
        today=day,
    )
    service.cancel(engine, cancelled.order_id, identity=None, reason="test")
    return totals, sd


def test_uptake_and_cost_per_scheme(engine):
    totals, _ = _world(engine)
    # order 1: 48 tea × 112.00 = 5,376.00, TEA-5 + TEA-SLAB stacked 7% = 376.32
    #   (TEA-5 5% = 268.80, TEA-SLAB the rest 107.52); 25 dal × 139.99 = 3,499.75 and
    #   25 // 10 = 2 dal free worth 279.98 → total 4,999.68 + 3,499.75 = 8,499.43
    # order 2: 10 tea = 1,120.00 − 5% (56.00) = 1,064.00; 4 atta × 245.50 = 982.00 → 2,046.00
    assert totals == [D("8499.43"), D("2046.00")]
    frame = run_report(
        engine,
        "scheme-uptake",
        ReportFilters(date_from=DEC1, date_to=dt.date(2026, 12, 31)),
        identity=None,
    ).frame
    rows = {r["scheme_code"]: r for r in frame.to_dict("records")}
    assert list(frame["scheme_code"]) == ["TEA-5", "DAL-10+1", "TEA-SLAB", "OIL-NOBODY"]
    tea = rows["TEA-5"]
    # 268.80 + 56.00 = 324.80 over both orders (8,499.43 + 2,046.00 = 10,545.43)
    assert (
        tea["orders"],
        tea["lines"],
        tea["quantity"],
        tea["discount_given"],
        tea["cost"],
        tea["order_value"],
    ) == (2, 2, 58, D("324.80"), D("324.80"), D("10545.43"))
    assert round(tea["cost_share"], 6) == round(324.80 / 10545.43, 6)
    dal = rows["DAL-10+1"]  # the cancelled order's 5 free dal do not count
    assert (dal["orders"], dal["free_quantity"], dal["free_goods_value"], dal["cost"]) == (
        1,
        2,
        D("279.98"),
        D("279.98"),
    )
    slab = rows["TEA-SLAB"]
    assert (slab["orders"], slab["discount_given"]) == (1, D("107.52"))
    nobody = rows["OIL-NOBODY"]
    assert (nobody["orders"], nobody["cost"]) == (0, D("0.00"))
    assert pd.isna(nobody["cost_share"])  # no order value: no share

    # narrowed to the second store: only TEA-5's 56.00 there
    frame = run_report(engine, "scheme-uptake", ReportFilters(store="ST-002"), identity=None).frame
    assert frame.iloc[0]["scheme_code"] == "TEA-5" and frame.iloc[0]["cost"] == D("56.00")


def test_cli_twin(engine, db_path, capsys):
    _world(engine)
    code = main(
        [
            "report",
            "scheme-uptake",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
            "--db",
            str(db_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Discount given" in out and "Free goods value" in out
    assert "₹324.80" in out and "₹279.98" in out


def test_lines_per_call_counts_the_lines_taken_not_the_free_goods(engine):
    from sqlalchemy import select

    from mangalm_desktop.db.models import Order
    from mangalm_desktop.orders import calls

    _, sd = _world(engine)
    with session_scope(engine) as s:
        live = s.execute(select(Order.id, Order.store_id).where(Order.state == "submitted")).all()
    for order_id, store_id in live:
        calls.log_call(
            engine,
            identity=None,
            store=store_id,
            agent_id=sd.agent_id,
            outcome="ordered",
            order_id=order_id,
            today=dt.date(2026, 12, 6),
        )
    frame = run_report(
        engine,
        "agent-performance",
        ReportFilters(date_from=DEC1, date_to=dt.date(2026, 12, 31)),
        identity=None,
    ).frame
    row = frame.iloc[0]
    # 2 productive calls; lines taken: 2 (tea, dal) + 2 (tea, atta) = 4, the free dal not
    # counted → 2.0 lines per call (2.5 if the free line counted)
    assert (row["productive_calls"], row["lines_per_call"]) == (2, 2.0)
