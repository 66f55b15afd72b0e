"""Reads are authorised in the core too (issue 23, deliver 2): every query and service that
reads one store's business data takes the signed-in ``identity`` as a required argument, and an
agent gets only their own stores' profile, detail, invoices, suggestions, upsell, Today list and
product sales, however the face calls it. Managers read all; None (standalone laptop) too."""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from decimal import Decimal

import pytest

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import (
    Agent,
    CallLog,
    Invoice,
    InvoiceLine,
    Prediction,
    Store,
    StoreStockReport,
)
from mangalm_desktop.db.queries import products, store_detail, stores
from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.db.store_profile import ProfileEdit, save_store_profile
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.forecasting import service as forecasting
from mangalm_desktop.orders import calls, entry, pdf, queries
from mangalm_desktop.orders import service as orders
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.orders.prefill import prefill
from mangalm_desktop.security.roles import Identity, PermissionDenied

from .orders_support import seed

TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def world(engine):
    """A07 (the signed-in agent) with their stores, A08 with "Not Yours": a prediction, an
    invoice and a line of it for each, so a refused read has something to leak."""
    s = seed(engine)
    with session_scope(engine) as db:
        other = Agent(id=uuid.uuid4(), code="A08", name="Meena Iyer")
        db.add(other)
        db.flush()
        theirs = Store(id=uuid.uuid4(), code="ST-900", name="Not Yours", agent_id=other.id)
        db.add(theirs)
        db.flush()
        product = s.products["DAL-1"]
        for store_id in (s.store_id, theirs.id):
            db.add(
                Prediction(
                    store_id=store_id,
                    product_id=product,
                    horizon_start=TODAY,
                    horizon_weeks=1,
                    point=4.0,
                    low=2.0,
                    high=6.0,
                    probability=0.9,
                    suggested_qty=4,
                    reason="usual order",
                    model="test",
                )
            )
            invoice = Invoice(
                number=f"INV-{store_id.hex[:6]}",
                store_id=store_id,
                kind="invoice",
                invoice_date=TODAY - dt.timedelta(days=3),
                total=Decimal("100.00"),
                source="test",
            )
            db.add(invoice)
            db.flush()
            db.add(
                InvoiceLine(
                    invoice_id=invoice.id,
                    line_no=1,
                    store_id=store_id,
                    product_id=product,
                    invoice_date=invoice.invoice_date,
                    quantity=4,
                    unit_price=Decimal("25"),
                    line_total=Decimal("100.00"),
                )
            )
    agent = Identity("A07", Role.AGENT, s.agent_id, "A07")
    manager = Identity("M01", Role.MANAGER)
    return s, theirs.id, other.id, agent, manager


def _invoice_of(engine, store_id):
    with session_scope(engine) as db:
        return db.query(Invoice.id).filter(Invoice.store_id == store_id).scalar()


def test_agent_is_refused_another_agents_store_in_words_manager_is_not(engine, world) -> None:
    s, theirs, _, agent, manager = world
    invoice = _invoice_of(engine, theirs)
    reads = {
        "profile": lambda who: store_detail.load_profile(engine, theirs, identity=who),
        "detail": lambda who: store_detail.load_store_detail(engine, theirs, TODAY, identity=who),
        "invoice lines": lambda who: store_detail.invoice_lines(engine, invoice, identity=who),
        "suggested order": lambda who: forecasting.suggested_order(engine, theirs, identity=who),
        "upsell": lambda who: forecasting.upsell_for_store(engine, theirs, TODAY, identity=who),
    }
    for name, read in reads.items():
        with pytest.raises(PermissionDenied, match="A07 is not the agent of this store") as err:
            read(agent)
        assert err.value.hint, name  # words on what to do, not only a refusal
        assert read(manager) is not None, name
    assert store_detail.load_profile(engine, theirs, identity=manager).name == "Not Yours"
    assert [
        line.quantity for line in forecasting.suggested_order(engine, theirs, identity=manager)
    ] == [4]
    assert len(store_detail.invoice_lines(engine, invoice, identity=manager)) == 1
    # their own store: allowed
    assert store_detail.load_profile(engine, s.store_id, identity=agent).code == "ST-001"
    assert len(forecasting.suggested_order(engine, s.store_id, identity=agent)) == 1


def test_agent_cannot_edit_another_agents_profile(engine, world) -> None:
    _, theirs, _, agent, manager = world
    edit = ProfileEdit(notes="moved")
    with pytest.raises(PermissionDenied, match="not the agent of this store"):
        save_store_profile(engine, theirs, edit, expected_version=1, identity=agent)
    assert (
        save_store_profile(engine, theirs, edit, expected_version=1, identity=manager).version == 2
    )


def test_today_of_another_agent_is_refused_and_own_is_the_default(engine, world) -> None:
    s, theirs, other, agent, manager = world
    with pytest.raises(PermissionDenied, match="only their own stores"):
        forecasting.todays_calls(engine, TODAY, agent_id=other, identity=agent)
    mine = forecasting.todays_calls(engine, TODAY, identity=agent)  # no agent asked: their own
    listed = {e.store_id for e in mine.to_call + mine.win_back}
    assert theirs not in listed and s.store_id in listed
    everyone = forecasting.todays_calls(engine, TODAY, identity=manager)
    assert theirs in {e.store_id for e in everyone.to_call + everyone.win_back}


def test_store_list_and_product_sales_of_an_agent_hold_only_his_stores(engine, world) -> None:
    s, theirs, _, agent, manager = world
    ensure_search_schema(engine, TODAY)
    index = stores.StoreIndex(engine, TODAY, identity=agent)
    rowids = [int(i) for i in index.match(stores.StoreFilter())]
    names = {r.name for r in stores.fetch_store_rows(engine, rowids, TODAY, identity=agent)}
    assert "Not Yours" not in names and "Sri Lakshmi Stores" in names
    # even a rowid taken from a manager's index gives the agent nothing
    everyone = stores.StoreIndex(engine, TODAY, identity=manager)
    all_ids = [int(i) for i in everyone.match(stores.StoreFilter(text="yours"))]
    assert [r.name for r in stores.fetch_store_rows(engine, all_ids, TODAY, identity=manager)] == [
        "Not Yours"
    ]
    assert stores.fetch_store_rows(engine, all_ids, TODAY, identity=agent) == []
    sales = products.product_sales(engine, s.products["DAL-1"], TODAY, identity=agent)
    assert [t.name for t in sales.top_stores] == ["Sri Lakshmi Stores"]
    assert sales.value_12m == Decimal("100.00")
    sales = products.product_sales(engine, s.products["DAL-1"], TODAY, identity=manager)
    assert sales.stores_buying == 2 and sales.value_12m == Decimal("200.00")


def test_orders_calls_and_shelf_stock_of_another_agents_store(engine, world, tmp_path) -> None:
    s, theirs, other, agent, manager = world
    draft = OrderDraft(store=theirs, agent_id=other, lines=[LineInput("DAL-1", 10)])
    their_order = orders.submit(engine, draft, identity=manager).order_id
    mine = orders.submit(
        engine,
        OrderDraft(store=s.store_id, agent_id=s.agent_id, lines=[LineInput("DAL-1", 2)]),
        identity=agent,
    ).order_id
    with session_scope(engine) as db:
        for read in (
            lambda who: queries.get_order(db, their_order, identity=who),
            lambda who: orders.draft_from_order(db, their_order, identity=who),
            lambda who: prefill(db, theirs, identity=who),
            lambda who: calls.recent_calls(db, theirs, identity=who),
            lambda who: calls.latest_stock(db, theirs, identity=who),
        ):
            with pytest.raises(PermissionDenied, match="not the agent of this store"):
                read(agent)
            read(manager)
        assert [r.id for r in queries.list_orders(db, identity=agent)] == [mine]
        assert queries.count_orders(db, identity=agent) == 1
        assert queries.count_orders(db, identity=manager) == 2
    with pytest.raises(PermissionDenied, match="not the agent of this store"):
        pdf.write_order_pdf(engine, their_order, tmp_path / "theirs.pdf", identity=agent)
    assert not (tmp_path / "theirs.pdf").exists()
    assert {c.code for c in entry.store_choices(engine, identity=agent)} == {"ST-001", "ST-002"}
    # writes at their store in their name pass; at another's, or in another's name, nothing written
    for write in (
        lambda who, store, name: calls.log_call(
            engine, identity=who, store=store, agent_id=name, outcome="no_answer"
        ),
        lambda who, store, name: calls.record_stock(
            engine, identity=who, store=store, agent_id=name, quantities={"DAL-1": 3}
        ),
    ):
        with pytest.raises(PermissionDenied, match="not the agent of this store"):
            write(agent, theirs, s.agent_id)
        with pytest.raises(PermissionDenied, match="only in their own name"):
            write(agent, s.store_id, other)
        write(agent, s.store_id, s.agent_id)
    with session_scope(engine) as db:
        assert {c.store_id for c in db.query(CallLog)} == {s.store_id}
        assert {r.store_id for r in db.query(StoreStockReport)} == {s.store_id}


READS = [
    store_detail.load_profile,
    store_detail.load_store_detail,
    store_detail.invoice_lines,
    stores.StoreIndex,
    stores.fetch_store_rows,
    stores.filter_options,
    products.search_products,
    products.product_filter_options,
    products.product_sales,
    save_store_profile,
    forecasting.run_forecast,
    forecasting.suggested_order,
    forecasting.call_list,
    forecasting.win_back_list,
    forecasting.todays_calls,
    forecasting.upsell_for_store,
    queries.list_orders,
    queries.count_orders,
    queries.get_order,
    orders.draft_from_order,
    prefill,
    calls.log_call,
    calls.record_stock,
    calls.recent_calls,
    calls.latest_stock,
    entry.store_choices,
    entry.start_lines,
    entry.detail,
    entry.page,
    entry.count,
    pdf.write_order_pdf,
]


@pytest.mark.parametrize("read", READS, ids=lambda f: f.__qualname__)
def test_identity_is_a_required_argument_of_every_read(read) -> None:
    """No default: a caller that forgets it fails at once instead of reading as 'nobody'."""
    param = inspect.signature(read).parameters["identity"]
    assert param.kind is param.KEYWORD_ONLY and param.default is param.empty
