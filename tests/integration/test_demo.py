"""The demo company: reproducible per seed, internally consistent, and realistic where it matters
for forecasting and reports (intermittent demand, festival seasons, store life cycles)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from mangalm_desktop.cli.main import main as cli_main
from mangalm_desktop.db.engine import make_engine, session_scope
from mangalm_desktop.db.migrate import open_local_database, upgrade
from mangalm_desktop.db.models import (
    Agent,
    Base,
    CallLog,
    Invoice,
    InvoiceLine,
    NumberSequence,
    Order,
    OrderLine,
    Product,
    Store,
)
from mangalm_desktop.demo import DEFAULT_TODAY, SMALL, build_demo, create_demo_company
from mangalm_desktop.demo.festivals import festival_dates
from mangalm_desktop.domain.errors import Cancelled, UserError
from mangalm_desktop.domain.tasks import TaskContext
from mangalm_desktop.orders.pricing import line_money

TABLES = (
    "agent",
    "store",
    "product",
    "invoice",
    "invoice_line",
    "orders",
    "order_line",
    "call_log",
    "number_sequence",
)


def _make(path: Path, seed: int = 1, **kw) -> Path:
    engine = open_local_database(path)
    try:
        create_demo_company(engine, seed, **{**SMALL, **kw})
    finally:
        engine.dispose()
    return path


def _dump(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    return _make(tmp_path_factory.mktemp("demo") / "demo.sqlite")


@pytest.fixture(scope="module")
def frames(demo_db) -> dict[str, pd.DataFrame]:
    """The demo's tables read back through the app's own types (exact Decimals, dates)."""
    engine = open_local_database(demo_db)
    out = {}
    try:
        with engine.connect() as conn:
            for model in (Agent, Store, Product, Invoice, InvoiceLine, Order, OrderLine, CallLog):
                rows = conn.execute(select(model.__table__)).mappings().all()
                out[model.__tablename__] = pd.DataFrame([dict(r) for r in rows])
    finally:
        engine.dispose()
    return out


def test_same_seed_gives_identical_rows_and_other_seeds_differ(tmp_path, demo_db):
    again = _dump(_make(tmp_path / "again.sqlite", seed=1))
    first = _dump(demo_db)
    for table in TABLES:
        assert again[table] == first[table], table
    other = _dump(_make(tmp_path / "other.sqlite", seed=2))
    for table in TABLES:
        assert other[table] != first[table], table


def test_counts_in_range(frames):
    assert len(frames["agent"]) == 5
    assert sorted(frames["agent"]["code"]) == ["A01", "A02", "A03", "A04", "A05"]
    assert len(frames["store"]) == SMALL["stores"]
    assert len(frames["product"]) == SMALL["products"]
    inv = frames["invoice"]
    assert 800 <= (inv["kind"] == "invoice").sum() <= 4000
    assert 1 <= (inv["kind"] == "credit_note").sum() <= 0.06 * len(inv)
    assert 4000 <= len(frames["invoice_line"]) <= 40_000
    assert len(frames["call_log"]) > 100
    assert set(frames["call_log"]["outcome"]) >= {"ordered", "no_answer", "call_back"}


@pytest.fixture(scope="module")
def full():
    """The full-size company generated in memory (about a second; no database needed)."""
    return build_demo(1)


def test_full_size_company_has_a_few_hundred_thousand_lines(full):
    m, h = full
    assert len(m.stores) == 250 and len(m.products) == 400 and len(m.agents) == 5
    assert 150_000 <= len(h.lines) <= 700_000
    assert 5_000 <= len(h.orders) <= 30_000
    assert m.today == DEFAULT_TODAY and (m.today - m.start).days in (730, 731)
    # every region of the coast has stores; cities from Surat down to Mangaluru
    assert {"Mumbai", "Pune", "Surat", "Ahmedabad", "Mangaluru", "Nashik"} <= set(m.stores["city"])
    assert m.products["sku"].is_unique and m.products["name"].is_unique
    assert m.stores["code"].is_unique


def test_orders_have_the_lines_of_a_kirana_call(full):
    """Lines per order as a distributor's agent sees them in general trade (a store orders a
    dozen or so of the distributor's items per call, a big store about twenty), not 30+: the
    demo's size on disk follows its line count (issue 21: the demo database < 150 MB)."""
    m, h = full
    per_order = h.orders["n_lines"].to_numpy()
    size = m.stores["size_class"].to_numpy()[h.orders["store"].to_numpy()]
    assert 10 <= per_order.mean() <= 16
    by_size = {c: per_order[size == c].mean() for c in ("S", "M", "L")}
    assert by_size["S"] < by_size["M"] < by_size["L"] <= 25
    assert len(h.lines) <= 250_000


@pytest.mark.parametrize(
    "sizes",
    [
        {"stores": 30, "products": 60, "agents": 3, "years": 1},
        {"stores": 1, "products": 5, "agents": 1, "years": 1},
        {"stores": 4, "products": 8, "agents": 12, "years": 1},
        {"stores": 20, "products": 40, "today": dt.date(2028, 2, 29)},
    ],
)
def test_odd_sizes_still_give_a_consistent_company(sizes):
    m, h = build_demo(3, **sizes)
    assert len(m.stores) == sizes["stores"] and len(m.agents) == sizes.get("agents", 5)
    assert m.products["name"].is_unique and m.stores["code"].is_unique
    assert m.stores["agent_id"].isin(m.agents["id"]).all()
    sums = h.lines.groupby("order")["line_total"].sum()
    assert (sums.to_numpy() == h.orders["total"].to_numpy()).all()
    assert (h.orders["balance"] >= 0).all() and (h.outstanding >= 0).all()
    assert len(h.orders) > 0


@pytest.mark.parametrize(
    "sizes", [{"stores": 0}, {"products": 2}, {"agents": 0}, {"years": 0}, {"stores": 10**6}]
)
def test_impossible_sizes_are_refused_in_words(sizes):
    with pytest.raises(UserError):
        build_demo(1, **sizes)


def test_invoice_totals_equal_their_lines(frames):
    inv, lines = frames["invoice"].set_index("id"), frames["invoice_line"]
    lines = lines.assign(gross=lines["quantity"].map(Decimal) * lines["unit_price"])
    assert (lines["line_total"] == lines["gross"] - lines["discount_amount"]).all()
    sums = lines.groupby("invoice_id")[["line_total", "gross", "discount_amount"]].sum()
    assert set(sums.index) == set(inv.index), "an invoice without lines, or lines without invoice"
    inv = inv.loc[sums.index]
    assert (sums["line_total"] == inv["total"]).all()
    assert (sums["gross"] == inv["subtotal"]).all()
    assert (sums["discount_amount"] == inv["discount_amount"]).all()
    for _, g in lines.groupby("invoice_id"):
        assert sorted(g["line_no"]) == list(range(1, len(g) + 1))


def test_lines_repeat_their_invoice_store_and_date(frames):
    inv = frames["invoice"].set_index("id")
    lines = frames["invoice_line"]
    assert (
        lines["store_id"].to_numpy() == inv.loc[lines["invoice_id"], "store_id"].to_numpy()
    ).all()
    assert (
        lines["invoice_date"].to_numpy() == inv.loc[lines["invoice_id"], "invoice_date"].to_numpy()
    ).all()


def test_quantities_are_whole_packs_positive_except_credit_notes(frames):
    inv = frames["invoice"].set_index("id")
    prod = frames["product"].set_index("id")
    lines = frames["invoice_line"]
    kind = inv.loc[lines["invoice_id"], "kind"].to_numpy()
    qty = lines["quantity"].to_numpy()
    assert (qty[kind == "invoice"] > 0).all()
    assert (qty[kind == "credit_note"] < 0).all()
    assert (inv.loc[inv["kind"] == "credit_note", "total"] < 0).all()
    pack = prod.loc[lines["product_id"], "pack_size"].to_numpy()
    assert (qty[kind == "invoice"] % pack[kind == "invoice"] == 0).all()
    # prices at or below MRP, both positive
    assert (lines["unit_price"] > 0).all() and (lines["unit_price"] <= lines["mrp"]).all()
    assert (prod["price"] < prod["mrp"]).all()


def test_every_store_has_an_agent_who_mostly_covers_one_or_two_regions(frames):
    stores, agents = frames["store"], frames["agent"]
    assert stores["agent_id"].notna().all()
    assert set(stores["agent_id"]) <= set(agents["id"])
    for _, g in stores.groupby("agent_id"):
        top2 = g["region"].value_counts().iloc[:2].sum()
        assert top2 >= 0.8 * len(g)
    assert set(stores["size_class"]) <= {"S", "M", "L"}
    assert set(stores["call_cadence_days"]) <= {7, 14, 21, 28}
    assert stores["name"].str.len().min() > 3 and stores["phone"].str.startswith("+91").all()


def _weekly(frames) -> pd.DataFrame:
    lines = frames["invoice_line"]
    lines = lines[lines["quantity"] > 0].copy()
    lines["week"] = pd.to_datetime(lines["invoice_date"]).dt.to_period("W")
    return lines


def test_demand_classes_look_like_a_real_distributor(full):
    """Syntetos-Boylan classes of the store x product weekly series: mostly intermittent
    (many zero weeks, steady sizes) and lumpy (many zero weeks, irregular sizes), few smooth."""
    m, h = full
    sold = h.lines[h.lines["quantity"] > 0]
    order = sold["order"].to_numpy()
    df = pd.DataFrame(
        {
            "s": h.orders["store"].to_numpy()[order],
            "p": sold["product"].to_numpy(),
            "w": h.orders["day"].to_numpy()[order] // 7,
            "q": sold["quantity"].to_numpy(),
        }
    )
    weekly = df.groupby(["s", "p", "w"])["q"].sum().reset_index()
    st = weekly.groupby(["s", "p"])["q"].agg(["size", "mean", "std"]).fillna(0)
    adi = ((m.today - m.start).days // 7) / st["size"]
    cv2 = (st["std"] / st["mean"]) ** 2
    intermittent = ((adi >= 1.32) & (cv2 < 0.49)).mean()
    lumpy = ((adi >= 1.32) & (cv2 >= 0.49)).mean()
    assert intermittent > 0.4 and lumpy > 0.15 and intermittent + lumpy > 0.9


def test_demand_is_intermittent(frames):
    lines = _weekly(frames)
    weeks = lines["week"].nunique()
    pairs = lines.groupby(["store_id", "product_id"])["week"].nunique()
    # share of zero weeks in each store x product series (over all weeks of the history)
    zero_share = 1 - pairs / weeks
    assert zero_share.median() > 0.6
    assert (zero_share > 0.5).mean() > 0.7


@pytest.fixture(scope="module")
def full_lines(full) -> pd.DataFrame:
    m, h = full
    lines = h.lines[h.lines["quantity"] > 0].copy()
    day = h.orders["day"].to_numpy()[lines["order"].to_numpy()]
    lines["date"] = np.datetime64(m.start) + day
    lines["category"] = m.products["category"].to_numpy()[lines["product"].to_numpy()]
    lines["region"] = m.stores["region"].to_numpy()[h.orders["store"].to_numpy()[lines["order"]]]
    return lines


def _lift(lines: pd.DataFrame, category: str, festival: str, days: int = 8) -> float:
    """Average daily value of a category in the days before a festival over the rest."""
    sel = lines[lines["category"] == category]
    daily = sel.groupby("date")["line_total"].sum()
    dates = [d.date() for d in daily.index]
    window = set()
    for f in festival_dates(festival, min(dates), max(dates)):
        window |= {np.datetime64(f - dt.timedelta(days=k)) for k in range(1, days + 1)}
    inside = daily.index.isin(list(window))
    return float(daily[inside].mean() / daily[~inside].mean())


def test_festival_seasonality_is_visible(full_lines, frames):
    assert _lift(full_lines, "Sweets & Dry Fruits", "Diwali") > 2.0
    assert _lift(full_lines, "Edible Oils & Ghee", "Diwali") > 1.4
    maharashtra = full_lines[full_lines["region"].isin(["Mumbai", "Pune", "Nashik"])]
    assert _lift(maharashtra, "Sweets & Dry Fruits", "Ganesh Chaturthi") > 1.4
    assert _lift(full_lines, "Beverages", "Holi") > 1.2
    # staples barely move with the festivals: the lift is where it should be
    assert _lift(full_lines, "Spices & Masala", "Holi") < 1.25
    bev = full_lines[full_lines["category"] == "Beverages"]
    by_month = bev.groupby(bev["date"].dt.month)["line_total"].sum()
    assert by_month.loc[[4, 5]].mean() > 1.3 * by_month.loc[[12, 1, 2]].mean()


def test_database_holds_exactly_what_was_generated(frames):
    """The shape tests above run on the generator's output; this ties it to the stored rows."""
    m, h = build_demo(1, **SMALL)
    lines = frames["invoice_line"]
    assert len(lines) == len(h.lines)
    assert lines["line_total"].sum() == Decimal(int(h.lines["line_total"].sum())).scaleb(-2)
    assert lines["quantity"].sum() == h.lines["quantity"].sum()
    stored = frames["store"].set_index("code")["outstanding_balance"]
    generated = pd.Series(h.outstanding, index=m.stores["code"])
    assert all(stored[c] == Decimal(int(v)).scaleb(-2) for c, v in generated.items())


def test_new_and_dormant_stores_exist(frames):
    inv = frames["invoice"]
    stores = frames["store"].set_index("id")
    span = inv.groupby("store_id")["invoice_date"].agg(["min", "max"])
    start, end = inv["invoice_date"].min(), inv["invoice_date"].max()
    new = span[span["min"] > start + dt.timedelta(days=60)]
    dormant = span[span["max"] < end - dt.timedelta(days=60)]
    assert len(new) >= 1 and len(dormant) >= 1
    # a new store's first invoice is on or after the day it opened
    assert (stores.loc[new.index, "opened_on"] <= new["min"]).all()


def test_bigger_stores_buy_more_lines_and_larger_quantities(full):
    m, h = full
    inv = h.orders[h.orders["kind"] == "invoice"]
    size = m.stores["size_class"].to_numpy()[inv["store"].to_numpy()]
    lines = inv.groupby(size)["n_lines"].mean()
    assert lines["S"] < lines["M"] < lines["L"]
    sold = h.lines[h.lines["quantity"] > 0]
    packs = sold["quantity"] / m.products["pack_size"].to_numpy()[sold["product"].to_numpy()]
    by = packs.groupby(
        m.stores["size_class"].to_numpy()[inv["store"].reindex(sold["order"]).to_numpy()]
    )
    assert by.mean()["S"] < by.mean()["M"] < by.mean()["L"]
    assert (packs == packs.round()).all()


def test_discontinued_products_stop_selling(full):
    m, h = full
    sold = h.lines[h.lines["quantity"] > 0]
    day = h.orders["day"].to_numpy()[sold["order"].to_numpy()]
    last = pd.Series(day).groupby(sold["product"].to_numpy()).max()
    inactive = np.nonzero(~m.products["active"].to_numpy())[0]
    assert len(inactive) >= 5
    n_days = (m.today - m.start).days
    # discontinued at least 30 days before today: nothing sold since
    assert (last.reindex(inactive).fillna(0) < n_days - 30).all()
    assert (
        last.reindex(np.nonzero(m.products["active"].to_numpy())[0]) >= n_days - 30
    ).mean() > 0.9


def test_launched_products_sell_only_after_launch(frames):
    prod = frames["product"].set_index("id")
    lines = frames["invoice_line"]
    first_sale = lines.groupby("product_id")["invoice_date"].min()
    launched = prod.loc[first_sale.index, "launched_on"]
    assert (first_sale >= launched).all()


def test_balances_are_non_negative_and_add_up(frames):
    inv, stores = frames["invoice"], frames["store"].set_index("id")
    assert (inv["balance"] >= 0).all()
    assert (inv["balance"] <= inv["total"].clip(lower=0)).all()
    assert ((inv["status"] == "paid") == ((inv["kind"] == "invoice") & (inv["balance"] == 0))).all()
    owed = inv.groupby("store_id")["balance"].sum().reindex(stores.index, fill_value=Decimal(0))
    assert (stores["outstanding_balance"] == owed).all()
    assert (stores["outstanding_balance"] >= 0).all()
    assert (stores["outstanding_balance"] > 0).sum() >= len(stores) // 3
    overdue = inv[inv["status"] == "overdue"]
    assert (overdue["due_date"] < DEFAULT_TODAY).all()


def test_recent_invoices_come_from_app_orders_priced_by_the_order_rules(frames, demo_db):
    orders, lines = frames["orders"], frames["order_line"]
    inv = frames["invoice"]
    assert len(orders) >= 50 and (orders["state"] == "invoiced").all()
    assert orders["number"].str.fullmatch(r"A0[1-5]-DEM-\d{6}").all()
    # each order is the invoice raised from it (same store, day, money, lines)
    by_so = inv.dropna(subset=["sales_order_number"]).set_index("sales_order_number")
    assert set(by_so.index) == set(orders["number"])
    o = orders.set_index("number")
    for col_o, col_i in (
        ("store_id", "store_id"),
        ("order_date", "invoice_date"),
        ("total", "total"),
    ):
        assert (o[col_o] == by_so.loc[o.index, col_i]).all(), col_o
    assert (o["subtotal"] == by_so.loc[o.index, "subtotal"]).all()
    # the orders engineer's own pricing gives every stored line total
    for q, price, pct, total in zip(
        lines["quantity"],
        lines["unit_price"],
        lines["discount_pct"],
        lines["line_total"],
        strict=True,
    ):
        assert line_money(int(q), price, pct).total == total
    sums = lines.groupby("order_id")["line_total"].sum()
    assert (sums == orders.set_index("id").loc[sums.index, "total"]).all()
    # the call that took each order points at it, at the time the order was submitted
    calls = frames["call_log"].dropna(subset=["order_id"])
    assert set(calls["order_id"]) == set(orders["id"])
    assert (calls["outcome"] == "ordered").all()
    submitted = orders.set_index("id").loc[calls["order_id"], "submitted_at"].to_numpy()
    assert (calls["called_at"].to_numpy() == submitted).all()
    # numbering continues after the demo's numbers
    engine = open_local_database(demo_db)
    try:
        with session_scope(engine) as s:
            for seq in s.scalars(select(NumberSequence)):
                top = s.scalar(
                    select(func.max(Order.number)).where(Order.number.like(f"{seq.prefix}-%"))
                )
                assert top == f"{seq.prefix}-{seq.last_value:06d}"
    finally:
        engine.dispose()


def test_nobody_orders_or_calls_on_a_sunday(frames):
    inv = frames["invoice"]
    orders_days = pd.to_datetime(inv.loc[inv["kind"] == "invoice", "invoice_date"])
    assert (orders_days.dt.dayofweek != 6).all()
    ist = frames["call_log"]["called_at"].map(lambda t: t + dt.timedelta(hours=5, minutes=30))
    assert (ist.map(lambda t: t.weekday()) != 6).all()


def test_sales_history_ends_before_today(frames):
    assert frames["invoice"]["invoice_date"].max() < DEFAULT_TODAY
    assert frames["call_log"]["called_at"].max() < dt.datetime.combine(
        DEFAULT_TODAY, dt.time(), dt.UTC
    )


def test_refuses_a_database_with_data_and_keeps_it(demo_db, tmp_path):
    copy = tmp_path / "copy.sqlite"
    with sqlite3.connect(demo_db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    before = _dump(copy)
    engine = open_local_database(copy)
    try:
        with pytest.raises(UserError, match="already holds data"):
            create_demo_company(engine, 5, **SMALL)
    finally:
        engine.dispose()
    assert _dump(copy) == before


def test_cancel_leaves_the_database_empty(tmp_path):
    engine = open_local_database(tmp_path / "c.sqlite")
    seen = []
    ctx = TaskContext()

    def progress(done: int, total: int, msg: str) -> None:
        seen.append(msg)
        if "invoice lines" in msg:
            ctx.cancel()

    ctx.on_progress = progress
    try:
        with pytest.raises(Cancelled):
            create_demo_company(engine, 1, **SMALL, ctx=ctx)
        with session_scope(engine) as s:
            assert s.scalar(select(func.count()).select_from(Store)) == 0
            assert s.scalar(select(func.count()).select_from(Invoice)) == 0
        _assert_schema_intact(engine)
    finally:
        engine.dispose()
    assert any("invoice lines" in m for m in seen)


def _assert_schema_intact(engine) -> None:
    """The bulk load drops and rebuilds indexes: the schema must still equal the models'."""
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_bulk_load_leaves_the_schema_as_migrated(demo_db):
    engine = open_local_database(demo_db)
    try:
        _assert_schema_intact(engine)
    finally:
        engine.dispose()


def test_cli_refuses_non_empty_database_unless_forced(tmp_path, capsys):
    db = tmp_path / "cli.sqlite"
    assert cli_main(["demo", "--small", "--db", str(db), "-q"]) == 0
    out = capsys.readouterr().out
    assert "30 stores" in out
    before = _dump(db)
    assert cli_main(["demo", "--small", "--seed", "9", "--db", str(db), "-q"]) == 2
    err = capsys.readouterr().err
    assert "already holds data" in err and "--force" in err
    assert _dump(db) == before
    assert cli_main(["demo", "--small", "--seed", "9", "--db", str(db), "--force", "-q"]) == 0
    assert "backup" in capsys.readouterr().out
    assert _dump(db) != before
    backups = list(tmp_path.glob("cli.backup-before-demo-*.sqlite"))
    assert len(backups) == 1 and _dump(backups[0]) == before


def test_cli_refuses_impossible_sizes_without_creating_a_file(tmp_path, capsys):
    db = tmp_path / "none.sqlite"
    assert cli_main(["demo", "--stores", "0", "--db", str(db)]) == 2
    assert "at least 1 store" in capsys.readouterr().err
    assert not db.exists()


def test_cli_rejects_a_bad_date(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli_main(["demo", "--today", "2026-13-01", "--db", str(tmp_path / "x.sqlite")])
    assert "not a date" in capsys.readouterr().err


@pytest.mark.pg
def test_demo_on_postgresql_matches_sqlite(pg_url, demo_db):
    engine = make_engine(pg_url)
    try:
        upgrade(engine)
        create_demo_company(engine, 1, **SMALL)
        with session_scope(engine) as s:
            pg_total = s.scalar(select(func.sum(Invoice.total)))
            pg_lines = s.scalar(select(func.count()).select_from(InvoiceLine))
            pg_owed = s.scalar(select(func.sum(Store.outstanding_balance)))
    finally:
        engine.dispose()
    lite = open_local_database(demo_db)
    try:
        with session_scope(lite) as s:
            assert s.scalar(select(func.sum(Invoice.total))) == pg_total
            assert s.scalar(select(func.count()).select_from(InvoiceLine)) == pg_lines
            assert s.scalar(select(func.sum(Store.outstanding_balance))) == pg_owed
    finally:
        lite.dispose()
    assert np.isfinite(float(pg_total))


def test_progress_counts_up_to_its_total_and_never_past_it(tmp_path):
    """The progress dialog said "writing beat stores: 7,850/7,822": the beats were not counted."""
    engine = open_local_database(tmp_path / "p.sqlite")
    seen: list[tuple[int, int]] = []
    ctx = TaskContext()
    ctx.on_progress = lambda done, total, msg: seen.append((done, total))
    try:
        create_demo_company(engine, 1, **SMALL, ctx=ctx)
    finally:
        engine.dispose()
    assert seen and all(done <= total for done, total in seen)
    assert seen[-1][0] == seen[-1][1]
