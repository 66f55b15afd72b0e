"""``mangalm forecast`` on a real SQLite database: predictions, shelf-aware suggestions,
only-changed recompute, call list, Win-back list and snooze, upsell with evidence."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import (
    Agent,
    CallLog,
    Invoice,
    InvoiceLine,
    Prediction,
    Product,
    Store,
    StoreStockReport,
)
from mangalm_desktop.db.types import utcnow
from mangalm_desktop.forecasting.service import (
    call_list,
    run_forecast,
    suggested_order,
    upsell_for_store,
    win_back_list,
)
from tests.support.local_db import local_database

TODAY = dt.date(2024, 6, 3)  # a Monday


@pytest.fixture()
def shop(tmp_path):
    engine = local_database(tmp_path / "laptop.sqlite")
    ids: dict[str, uuid.UUID] = {}
    with session_scope(engine) as s:
        agent = Agent(id=uuid.uuid4(), code="A01", name="Asha")
        s.add(agent)
        s.flush()
        for sku, pack, price in (("ATTA", 4, "245.50"), ("DAL", 10, "139.99"), ("TEA", 6, "112")):
            p = Product(
                id=uuid.uuid4(), sku=sku, name=sku.title(), pack_size=pack, price=Decimal(price)
            )
            s.add(p)
            ids[sku] = p.id
        for i in range(8):
            st = Store(id=uuid.uuid4(), code=f"S{i}", name=f"Store {i}", agent_id=agent.id)
            s.add(st)
            ids[f"S{i}"] = st.id
        s.flush()
        n = 0
        for i in range(8):
            basket = {"ATTA": 12, "DAL": 6}
            if i >= 6:
                basket["TEA"] = 6  # only stores 6 and 7 buy tea: an upsell for the others
            last_week = 6 if i == 5 else 1  # store 5 went quiet five weeks ago
            for week in range(40, last_week - 1, -1):
                day = TODAY - dt.timedelta(days=7 * week + 3)  # Fridays
                n += 1
                inv = Invoice(
                    id=uuid.uuid4(),
                    number=f"INV-{n:05d}",
                    store_id=ids[f"S{i}"],
                    invoice_date=day,
                    total=Decimal("0"),
                    source="test",
                    status="sent",
                )
                s.add(inv)
                for ln, (sku, qty) in enumerate(basket.items(), 1):
                    s.add(
                        InvoiceLine(
                            invoice_id=inv.id,
                            line_no=ln,
                            store_id=ids[f"S{i}"],
                            invoice_date=day,
                            product_id=ids[sku],
                            quantity=qty,
                            unit_price=Decimal("10"),
                            line_total=Decimal(10 * qty),
                        )
                    )
        s.add(
            StoreStockReport(
                store_id=ids["S0"], product_id=ids["ATTA"], reported_on=TODAY, quantity=5
            )
        )
    yield engine, ids
    engine.dispose()


def test_forecast_writes_shelf_aware_suggestions_and_recomputes_only_changed(shop):
    engine, ids = shop
    summary = run_forecast(engine, today=TODAY, identity=None)
    assert summary.stores_recomputed == 8
    assert summary.predictions_written >= 16
    lines = {line.sku: line for line in suggested_order(engine, ids["S0"], identity=None)}
    assert set(lines) == {"ATTA", "DAL"}  # tea is an upsell, not a reorder
    # ATTA: 12 a week, weekly orders → 12 for the week's cover; shelf 5 → 7; packs of 4 → 8
    assert lines["ATTA"].quantity == 8
    assert "usually 12 every 7 days; last bought 1 week ago" in lines["ATTA"].reason
    assert "shelf has 5" in lines["ATTA"].reason
    # DAL: 6 a week, packs of 10 → 10
    assert lines["DAL"].quantity == 10
    with session_scope(engine) as s:
        models = set(s.scalars(select(Prediction.model).where(Prediction.deleted.is_(False))))
        assert models == {"mangalm-basket-v2"}

    again = run_forecast(engine, today=TODAY, identity=None)
    assert again.stores_recomputed == 0 and "nothing changed" in again.describe()

    # a new shelf report for store 1 → only store 1 is recomputed; old rows are tombstoned
    with session_scope(engine) as s:
        s.add(
            StoreStockReport(
                store_id=ids["S1"], product_id=ids["DAL"], reported_on=TODAY, quantity=40
            )
        )
    third = run_forecast(engine, today=TODAY, identity=None)
    assert third.stores_recomputed == 1
    s1 = {line.sku: line for line in suggested_order(engine, ids["S1"], identity=None)}
    assert "DAL" not in s1 or s1["DAL"].quantity == 0
    with session_scope(engine) as s:
        live = s.scalar(
            select(func.count())
            .select_from(Prediction)
            .where(Prediction.store_id == ids["S1"], Prediction.deleted.is_(False))
        )
        assert live == len(s1)


def test_call_list_win_back_snooze_and_upsell(shop):
    engine, ids = shop
    run_forecast(engine, today=TODAY, identity=None)
    ranked = call_list(engine, today=TODAY, identity=None)
    # store 5 has been silent 45 days (usually every 7): it is on the Win-back list instead
    assert len(ranked) == 7 and ids["S5"] not in {e.store_id for e in ranked}
    # stores 6 and 7 buy the most (tea too) and are as likely to order: they come first
    assert {ranked[0].store_id, ranked[1].store_id} == {ids["S6"], ids["S7"]}
    assert ranked[0].value_is_money and ranked[0].expected_value > ranked[-1].expected_value
    assert ranked[0].last_order == TODAY - dt.timedelta(days=10)
    (quiet,) = win_back_list(engine, today=TODAY, identity=None)
    assert quiet.store_id == ids["S5"] and quiet.win_back and quiet.churn_risk
    assert quiet.reason.startswith("no order for 45 days; usually every 7 days; ")
    assert f"{round(100 * quiet.chance_in_horizon)}% likely to order" in quiet.reason
    # silence lowers the chance and the expected order, not only the rank
    assert quiet.chance_in_horizon < min(e.chance_in_horizon for e in ranked)
    assert quiet.expected_value < min(e.expected_value for e in ranked)

    with session_scope(engine) as s:
        s.add(
            CallLog(
                store_id=ids["S3"],
                called_at=utcnow(),
                outcome="call_back",
                next_call_date=TODAY + dt.timedelta(days=3),
                scheduled=True,
            )
        )
    ranked = call_list(engine, today=TODAY, identity=None)
    assert ids["S3"] not in {e.store_id for e in ranked}
    with_snoozed = call_list(engine, today=TODAY, include_snoozed=True, identity=None)
    assert with_snoozed[-1].store_id == ids["S3"]
    assert with_snoozed[-1].snoozed_until == TODAY + dt.timedelta(days=3)

    ups = upsell_for_store(engine, ids["S0"], today=TODAY, identity=None)
    assert [u.product_id for u in ups] == [ids["TEA"]]
    assert ups[0].evidence == "bought by 2 of 7 similar stores"
    assert upsell_for_store(engine, ids["S6"], today=TODAY, identity=None) == []


def test_forecast_cli_on_empty_database(tmp_path, capsys):
    rc = main(["forecast", "--db", str(tmp_path / "empty.sqlite"), "-q"])
    assert rc == 0
    assert "no sales history yet" in capsys.readouterr().out


def test_forecast_cli_on_a_tiny_history_does_not_crash(tmp_path, capsys):
    """Two invoices of one store: too little to train the basket model, still a suggestion."""
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "build"))
    from build_app import SMALL_INVOICES

    csv = tmp_path / "inv.csv"
    csv.write_text(SMALL_INVOICES, encoding="utf-8")
    db = str(tmp_path / "tiny.sqlite")
    assert main(["import", "invoices", str(csv), "--db", db, "-q"]) == 0
    assert main(["forecast", "--db", db, "-q"]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 stores recomputed" in out
