"""The Zoho bridge end to end against the strict local Zoho server and a real PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, InvoiceLine, Order, Product, Store
from mangalm_desktop.zoho import bridge
from mangalm_desktop.zoho.clock import ManualClock
from tests.zoho_server import Fault, ZohoServer
from tests.zoho_server.support import T0, connect, make_orders, seed_zoho

pytestmark = pytest.mark.pg


def _count(engine, stmt) -> int:
    with session_scope(engine) as s:
        return s.scalar(stmt) or 0


def test_full_cycle_pulls_everything_and_pushes_orders_once(server, central, clock):
    seeded = seed_zoho(server, stores=4, items=6, invoices=250, lines=3)
    client = connect(server, clock, page_size=200)

    report = bridge.run_once(central, client, ["accounts", "contacts", "items", "invoices"])
    assert report.stopped is None, report.as_dict()
    assert [r.error for r in report.results] == [None] * 4

    with session_scope(central) as s:
        stores = s.scalars(select(Store).order_by(Store.code)).all()
        assert [st.code for st in stores] == ["S0000", "S0001", "S0002", "S0003"]
        assert all(st.zoho_account_id and st.zoho_customer_id for st in stores)
        assert stores[1].city == "Pune" and stores[1].name == "Store 001"
        assert s.scalar(select(func.count()).select_from(Product)) == 6
        p = s.scalar(select(Product).where(Product.sku == "SKU0002"))
        assert str(p.price) == "12.5000" and p.zoho_item_id == seeded["items"][2]["item_id"]
        assert s.scalar(select(func.count()).select_from(Invoice)) == 250
        assert s.scalar(select(func.count()).select_from(InvoiceLine)) == 250 * 3
        inv = s.scalar(select(Invoice).where(Invoice.number == "INV-000007"))
        src = seeded["invoices"][7]
        assert str(inv.total) == f"{src['total']:.2f}"
        lines = s.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == inv.id)
            .order_by(InvoiceLine.line_no)
        ).all()
        assert [ln.quantity for ln in lines] == [li["quantity"] for li in src["line_items"]]
        assert sum(ln.line_total for ln in lines) == inv.total

    # 2 list pages of invoices + one detail request each
    inv_res = next(r for r in report.results if r.job == "invoices")
    assert inv_res.requests == 2 + 250 and inv_res.created == 250

    numbers = make_orders(central, 12)
    report = bridge.run_once(central, client, ["orders"])
    assert report.results[0].sent == 12
    counts = server.by_reference()
    assert all(counts[n] == 1 for n in numbers) and len(server.salesorders) == 12
    with session_scope(central) as s:
        orders = s.scalars(select(Order).order_by(Order.number)).all()
        assert {o.state for o in orders} == {"sent_to_zoho"}
        by_ref = {so["reference_number"]: so for so in server.salesorders}
        for o in orders:
            assert o.zoho_salesorder_id == by_ref[o.number]["salesorder_id"]
            assert o.zoho_salesorder_number == by_ref[o.number]["salesorder_number"]
            assert len(by_ref[o.number]["line_items"]) == 2

    # A second full run: nothing new, so no invoice details and nothing pushed.
    before = len(server.log)
    report = bridge.run_once(central, client)
    inv_res = next(r for r in report.results if r.job == "invoices")
    assert inv_res.unchanged == inv_res.fetched and inv_res.requests == 1  # overlap: 1 page
    acc_res = next(r for r in report.results if r.job == "accounts")
    assert acc_res.unchanged == acc_res.fetched and acc_res.requests == 1
    assert len(server.salesorders) == 12
    assert report.requests == len(server.log) - before

    st = bridge.status(central)
    assert st.counts["orders_sent"] == 12 and st.counts["invoices_from_zoho"] == 250
    assert st.runs[0]["jobs"][0]["job"] == "accounts" and len(st.runs) == 3
    assert st.budget_used_today == sum(r["requests"] for r in st.runs)


def test_changed_invoice_is_fetched_again_and_updated(server, central, clock):
    seeded = seed_zoho(server, invoices=30)
    client = connect(server, clock)
    bridge.run_once(central, client, ["contacts", "items", "invoices"])
    inv = seeded["invoices"][5]
    inv["status"] = "paid"
    inv["balance"] = 0
    inv["line_items"] = inv["line_items"][:2]  # a line removed in Zoho
    inv["last_modified_time"] = (T0 + dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    report = bridge.run_once(central, client, ["invoices"])
    res = report.results[0]
    assert res.updated == 1 and res.created == 0
    assert res.requests == 1 + 1  # one list page (from the cursor minus overlap) + one detail
    with session_scope(central) as s:
        row = s.scalar(select(Invoice).where(Invoice.number == inv["invoice_number"]))
        assert row.status == "paid" and str(row.balance) == "0.00" and row.version >= 2
        live = s.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == row.id, ~InvoiceLine.deleted)
        ).all()
        assert len(live) == 2


def test_access_token_refreshed_on_401_and_on_expiry_without_losing_requests(
    server, central, clock
):
    seed_zoho(server, invoices=40)
    client = connect(server, clock, page_size=10)
    # Zoho revokes the access token in the middle of the invoice details.
    server.inject(Fault("401", path="/books/v3/invoices/", count=1))
    report = bridge.run_once(central, client, ["contacts", "items", "invoices"])
    assert report.stopped is None and report.token_refreshes == 2
    assert _count(central, select(func.count()).select_from(Invoice)) == 40
    # An hour later the cached token is past its expiry: refreshed before use, no 401.
    clock.advance(3600)
    seed_zoho(server, stores=1, items=1, invoices=0)
    log_len = len(server.log)
    report = bridge.run_once(central, client, ["items"])
    assert report.token_refreshes == 1
    assert all(e.status != 401 for e in server.log[log_len:])


def test_retries_honour_retry_after_and_back_off(server, central, clock):
    seed_zoho(server, invoices=5)
    client = connect(server, clock, rate_limit_wait_s=45.0)
    server.inject(
        Fault("429", path="/books/v3/items", retry_after=7),
        Fault("429", path="/books/v3/contacts"),  # no Retry-After
        Fault("503", path="/books/v3/invoices", count=2),
        Fault("drop", path="/crm/v8/Accounts"),
        Fault("500", path="/books/v3/invoices/"),
    )
    report = bridge.run_once(central, client)
    assert report.stopped is None and all(r.error is None for r in report.results)
    assert 7.0 in clock.sleeps and 45.0 in clock.sleeps
    assert report.retries == 6
    assert _count(central, select(func.count()).select_from(Invoice)) == 5
    assert _count(central, select(func.count()).select_from(Store)) == 3


def test_slow_response_times_out_and_is_retried(central):
    with ZohoServer() as server:  # real time: the client's timeout is real
        seed_zoho(server, invoices=0)
        client = connect(server, ManualClock(), timeout_s=0.3)
        server.inject(Fault("slow", path="/books/v3/items", delay=1.0))
        report = bridge.run_once(central, client, ["items"])
        assert report.results[0].error is None and report.retries == 1
        assert report.results[0].created == 5


def test_lost_create_response_does_not_duplicate(server, central, clock):
    seed_zoho(server, invoices=0)
    client = connect(server, clock)
    bridge.run_once(central, client, ["accounts", "contacts", "items"])
    numbers = make_orders(central, 6)
    server.inject(
        Fault("drop_after", path="/books/v3/salesorders", method="POST", count=2),
        Fault("500", path="/books/v3/salesorders", method="POST", count=1),
    )
    report = bridge.run_once(central, client, ["orders"])
    # Two lost answers: the lookups find those orders. The 500: nothing was created, but the
    # bridge cannot know that, so the order waits as "maybe created" until the window passes.
    res = report.results[0]
    assert (res.sent, res.waiting) == (5, 1), report.as_dict()
    counts = server.by_reference()
    assert [counts[n] for n in numbers].count(1) == 5 and len(server.salesorders) == 5
    clock.advance(client.config.maybe_created_window_minutes * 60 - 60)
    assert bridge.run_once(central, client, ["orders"]).results[0].waiting == 1
    clock.advance(120)
    report = bridge.run_once(central, client, ["orders"])
    assert (report.results[0].sent, report.results[0].waiting) == (1, 0), report.as_dict()
    counts = server.by_reference()
    assert [counts[n] for n in numbers] == [1] * 6


def test_rejected_order_is_parked_then_retried_after_fix(server, central, clock):
    seeded = seed_zoho(server, invoices=0)
    client = connect(server, clock)
    bridge.run_once(central, client, ["accounts", "contacts", "items"])
    # order 0: store S0000, Item 000 + 001; order 1: S0001, Item 001 + 002; order 2: S0002, ...
    bad_item, no_customer, good = make_orders(central, 3)
    with session_scope(central) as s:
        item0 = s.scalar(select(Product).where(Product.name == "Item 000"))
        item0.zoho_item_id = "460999999999999"  # deleted in Zoho: Zoho rejects the create
        s1 = s.scalar(select(Store).where(Store.code == "S0001"))
        s1.zoho_customer_id = None  # never linked to a Books customer: we refuse to send
    report = bridge.run_once(central, client, ["orders"])
    res = report.results[0]
    assert (res.sent, res.parked) == (1, 2)
    st = bridge.status(central)
    parked = {p.number: p.error for p in st.parked}
    assert set(parked) == {bad_item, no_customer}
    assert "Item does not exist." in parked[bad_item] and "1002" in parked[bad_item]
    assert "no Zoho Books customer id" in parked[no_customer]
    assert st.counts["orders_parked"] == 2 and st.counts["orders_sent"] == 1
    # A parked order is not retried by itself.
    report = bridge.run_once(central, client, ["orders"])
    assert report.results[0].fetched == 0 and len(server.salesorders) == 1
    # Fix the data, release the parked orders, run again: they go through exactly once.
    with session_scope(central) as s:
        s.scalar(select(Product).where(Product.name == "Item 000")).zoho_item_id = seeded["items"][
            0
        ]["item_id"]
        s.scalar(select(Store).where(Store.code == "S0001")).zoho_customer_id = seeded["contacts"][
            1
        ]["contact_id"]
    assert bridge.retry_parked(central, [bad_item]) == 1
    assert bridge.retry_parked(central) == 1
    report = bridge.run_once(central, client, ["orders"])
    assert report.results[0].sent == 2
    st = bridge.status(central)
    assert st.counts["orders_sent"] == 3 and not st.parked
    assert server.by_reference() == {bad_item: 1, no_customer: 1, good: 1}


def test_rate_limiter_keeps_under_the_per_minute_limit(server, central, clock):
    seed_zoho(server, invoices=250)
    server.token_ttl = 120  # access tokens run out during the run, as in an hours-long pull
    client = connect(server, clock, per_minute=90)
    report = bridge.run_once(central, client, ["contacts", "items", "invoices"])
    assert report.stopped is None
    assert all(e.status != 429 for e in server.log)
    assert 85 <= server.max_per_minute() <= 90  # it did go fast, and never over
    assert report.rate_wait_s >= 120  # ~255 requests at 90/min need nearly 3 minutes
    # tokens were renewed before they expired: several refreshes, not one 401
    assert report.token_refreshes >= 2 and all(e.status != 401 for e in server.log)


def test_daily_budget_stops_cleanly_and_resumes_next_day(server, central, clock):
    seed_zoho(server, invoices=50)
    client = connect(server, clock, daily_budget=30, page_size=20)
    day1 = dt.date(2026, 1, 5)
    report = bridge.run_once(central, client, ["contacts", "items", "invoices"], today=day1)
    assert report.stopped == "BudgetExhausted"
    assert bridge.status(central, today=day1).budget_used_today == 30
    done = _count(central, select(func.count()).select_from(Invoice))
    assert 0 < done < 50
    # Same day: nothing more is sent.
    log_len = len(server.log)
    bridge.run_once(central, client, ["invoices"], today=day1)
    assert len(server.log) == log_len
    # Next day the run resumes: invoices already stored cost no detail request.
    report = bridge.run_once(central, client, ["invoices"], today=day1 + dt.timedelta(days=1))
    assert report.stopped is None
    assert report.results[0].unchanged == done and report.results[0].created == 50 - done
    assert _count(central, select(func.count()).select_from(Invoice)) == 50


def test_invoice_imported_from_csv_is_adopted_not_duplicated(server, central, clock):
    seeded = seed_zoho(server, invoices=12)
    client = connect(server, clock)
    bridge.run_once(central, client, ["accounts", "contacts", "items"])
    src = seeded["invoices"][3]
    with session_scope(central) as s:
        store = s.scalar(select(Store).where(Store.zoho_customer_id == src["customer_id"]))
        s.add(
            Invoice(
                number=src["invoice_number"],
                store_id=store.id,
                source="csv",
                invoice_date=T0.date(),
                total=0,
            )
        )
    report = bridge.run_once(central, client, ["invoices"])
    assert (report.results[0].created, report.results[0].updated) == (11, 1)
    with session_scope(central) as s:
        assert s.scalar(select(func.count()).select_from(Invoice)) == 12
        row = s.scalar(select(Invoice).where(Invoice.number == src["invoice_number"]))
        assert row.zoho_invoice_id == src["invoice_id"] and row.source == "zoho"
        assert str(row.total) == f"{src['total']:.2f}"


def test_invoice_deleted_between_list_and_detail_is_skipped_with_a_warning(server, central, clock):
    seeded = seed_zoho(server, invoices=8)
    client = connect(server, clock)
    bridge.run_once(central, client, ["contacts", "items"])
    gone = seeded["invoices"][2]
    server.deleted_after_listing.add(gone["invoice_id"])
    report = bridge.run_once(central, client, ["invoices"])
    res = report.results[0]
    assert res.error is None and res.created == 7
    assert any("Invoice does not exist." in w for w in res.warnings)
    assert _count(central, select(func.count()).select_from(Invoice)) == 7
